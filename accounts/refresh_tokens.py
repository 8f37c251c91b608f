"""What the token endpoint does beyond allauth: refresh tokens only for clients that use them,
the login context carried from a code to every token issued from it, and code replay revoking
those tokens.

allauth has no hook between minting and storing tokens, so `install()` (called once from
`AccountsConfig.ready`) wraps methods of its request validator (pinned allauth version; tests
cover each wrapper):

- `save_bearer_token` runs before the response body is serialised. oauthlib's
  authorization-code grant always mints a refresh token, whatever the client's grant types, and
  allauth stores and returns it; a client without `refresh_token` among its grant types could
  never use it (the refresh grant is refused for it), so it is dropped there: neither stored nor
  sent. Lifetime and rotation are allauth's settings (`IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN`,
  `IDP_OIDC_ROTATE_REFRESH_TOKEN`).
- `_prep_access_token` / `_prep_refresh_token` build the Token rows: each gets, in `data`, the
  login context of its grant (`atrium_auth`: amr, acr, auth_time, sid; from the code's context
  that accounts/oidc_authorize.py cached, or from the refresh token being used) and the digest
  of the code its chain started from (`atrium_code`), so a refreshed ID token keeps the claims
  and a replayed code finds every token issued from it.
- Code replay (RFC 6749 §4.1.2: the code MUST NOT be used twice; tokens issued from it SHOULD be
  revoked): the first exchange claims the code (`cache.add`, atomic in Redis) when its tokens are
  saved; a second presentation, sequential (allauth already deleted the code: `validate_code`
  fails) or concurrent (the claim fails), is refused with invalid_grant and deletes the Token
  rows of that chain. JWT access tokens are only good while their row exists (userinfo and
  the DRF API look it up), so deleting the rows revokes them. A flag in the cache plus a check
  after commit closes the race with an exchange still in its transaction.
"""

import logging

from allauth.core import context
from allauth.idp.oidc import app_settings as idp_settings
from allauth.idp.oidc.internal.oauthlib.request_validator import OAuthLibRequestValidator
from allauth.idp.oidc.internal.oauthlib.utils import get_validator_context
from allauth.idp.oidc.models import Client, Token
from django.core.cache import cache
from django.db import transaction
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from accounts.auth_context import clean_auth_context
from accounts.oidc_authorize import auth_context_for_code, code_digest

log = logging.getLogger(__name__)

# How long a used code is remembered beyond its own lifetime (a replay after that is refused
# as an unknown code, without revoking).
USED_CODE_MARGIN_SECONDS = 300
_USED_KEY = "atrium:oidc:code-used:{}"
_REVOKED_KEY = "atrium:oidc:code-revoked:{}"
_GRANT_ATTR = "_atrium_grant_auth"


def client_uses_refresh_tokens(client: Client | None) -> bool:
    return client is not None and Client.GrantType.REFRESH_TOKEN in client.get_grant_types()


def grant_auth_context() -> tuple[dict | None, str | None]:
    """(login context, code digest) of the token request being served: from the code's cached
    context for the authorization-code grant, from the refresh token's row for a refresh; none
    for other grants (client credentials has no person). Read once per request."""
    request = context.request
    memo = getattr(request, _GRANT_ATTR, None)
    if memo is not None:
        return memo
    grant_type = request.POST.get("grant_type")
    auth, digest = None, None
    if grant_type == Client.GrantType.AUTHORIZATION_CODE:
        code = request.POST.get("code")
        if code:
            auth, digest = clean_auth_context(auth_context_for_code(code=code)), code_digest(code)
    elif grant_type == Client.GrantType.REFRESH_TOKEN:
        refresh_token = get_validator_context().refresh_token
        data = (
            refresh_token.data if refresh_token is not None and isinstance(refresh_token.data, dict) else {}
        )
        auth = clean_auth_context(data.get("atrium_auth"))
        digest = data.get("atrium_code") if isinstance(data.get("atrium_code"), str) else None
    memo = (auth, digest)
    setattr(request, _GRANT_ATTR, memo)
    return memo


def code_tokens_revoke(*, digest: str) -> int:
    """Revoke every token issued from the code with this digest (and its refreshes)."""
    cache.set(_REVOKED_KEY.format(digest), True, timeout=_used_code_ttl())
    deleted, _ = Token.objects.filter(data__atrium_code=digest).delete()
    log.warning("Authorization code presented twice: %d token(s) issued from it revoked", deleted)
    return deleted


def _used_code_ttl() -> int:
    return idp_settings.AUTHORIZATION_CODE_EXPIRES_IN + USED_CODE_MARGIN_SECONDS


def _revoke_if_replayed(digest: str) -> None:
    if cache.get(_REVOKED_KEY.format(digest)):
        Token.objects.filter(data__atrium_code=digest).delete()


def _tag(token: Token) -> Token:
    auth, digest = grant_auth_context()
    if auth or digest:
        data = dict(token.data) if isinstance(token.data, dict) else {}
        if auth:
            data["atrium_auth"] = auth
        if digest:
            data["atrium_code"] = digest
        token.data = data
    return token


def _session_ended(auth: dict | None) -> bool:
    """The portal session the code was issued in (its `sid`) is no longer open."""
    from accounts.models import UserSession

    sid = (auth or {}).get("sid")
    if not isinstance(sid, str) or not sid:
        return False
    return not UserSession.objects.filter(sid=sid, ended_at__isnull=True).exists()


def _claim_code(request) -> str:
    """Claim the code being exchanged; a code someone already claimed is a replay."""
    digest = code_digest(request.code)
    if not cache.add(_USED_KEY.format(digest), True, timeout=_used_code_ttl()):
        code_tokens_revoke(digest=digest)
        raise InvalidGrantError(description="This authorization code was already used.", request=request)
    return digest


def install() -> None:
    validator = OAuthLibRequestValidator
    if getattr(validator.save_bearer_token, "_atrium_wrapped", False):
        return
    original_save = validator.save_bearer_token
    original_validate_code = validator.validate_code
    original_prep_access = validator._prep_access_token
    original_prep_refresh = validator._prep_refresh_token

    def save_bearer_token(self, token: dict, request, *args, **kwargs) -> None:
        if not client_uses_refresh_tokens(getattr(request, "client", None)):
            token.pop("refresh_token", None)
        digest = None
        if request.grant_type == Client.GrantType.AUTHORIZATION_CODE:
            digest = _claim_code(request)
        elif request.grant_type == Client.GrantType.REFRESH_TOKEN:
            digest = grant_auth_context()[1]
        if digest:
            # A replay revoking this chain while this exchange was still uncommitted.
            transaction.on_commit(lambda: _revoke_if_replayed(digest))
        return original_save(self, token, request, *args, **kwargs)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        valid = original_validate_code(self, client_id, code, client, request, *args, **kwargs)
        if not valid and isinstance(code, str) and code:
            digest = code_digest(code)
            if cache.get(_USED_KEY.format(digest)):
                code_tokens_revoke(digest=digest)
        if valid and _session_ended(grant_auth_context()[0]):
            # Issued just before a sign-out (the person's, an admin's "everywhere", a revoke):
            # the code lives in the cache, not in the token rows the sign-out deleted, so it
            # would otherwise still buy tokens, and a region session with the ended sid.
            return False
        return valid

    def _prep_access_token(self, ctx, token, request) -> Token:
        return _tag(original_prep_access(self, ctx, token, request))

    def _prep_refresh_token(self, ctx, refresh_token, request) -> Token:
        return _tag(original_prep_refresh(self, ctx, refresh_token, request))

    save_bearer_token._atrium_wrapped = True
    validator.save_bearer_token = save_bearer_token
    validator.validate_code = validate_code
    validator._prep_access_token = _prep_access_token
    validator._prep_refresh_token = _prep_refresh_token
