"""Refresh tokens go only to clients that use them.

oauthlib's authorization-code grant always mints a refresh token, whatever the client's grant
types, and allauth.idp.oidc stores and returns it; a client without `refresh_token` among its
grant types could never use it (the refresh grant is refused for it), so the token is only a
long-lived credential lying around. allauth has no hook between minting and storing, so
`install()` (called once from `AccountsConfig.ready`) wraps the request validator's
`save_bearer_token`, which runs before the response body is serialised: dropping the token there
means it is neither stored nor sent. Lifetime and rotation are allauth's settings
(`IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN`, `IDP_OIDC_ROTATE_REFRESH_TOKEN`).
"""

from allauth.idp.oidc.internal.oauthlib.request_validator import OAuthLibRequestValidator
from allauth.idp.oidc.models import Client


def client_uses_refresh_tokens(client: Client | None) -> bool:
    return client is not None and Client.GrantType.REFRESH_TOKEN in client.get_grant_types()


def install() -> None:
    original = OAuthLibRequestValidator.save_bearer_token
    if getattr(original, "_atrium_wrapped", False):
        return

    def save_bearer_token(self, token: dict, request, *args, **kwargs) -> None:
        if not client_uses_refresh_tokens(getattr(request, "client", None)):
            token.pop("refresh_token", None)
        return original(self, token, request, *args, **kwargs)

    save_bearer_token._atrium_wrapped = True
    OAuthLibRequestValidator.save_bearer_token = save_bearer_token
