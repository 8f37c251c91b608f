"""Atrium as the OpenID Connect provider: how allauth.idp.oidc names and describes a user."""

import uuid
from typing import Any

from allauth.core import context
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.internal.resources import InvalidTargetError
from allauth.idp.oidc.models import Client
from django.conf import settings

from accounts.models import User
from regions.models import Region


class AtriumOIDCAdapter(DefaultOIDCAdapter):
    def get_issuer(self) -> str:
        # Read per call (a test's live server sets it); never derived from the Host header.
        return settings.ATRIUM_ISSUER

    def populate_server_metadata(self, data: dict) -> None:
        # allauth builds endpoint URLs from the request's Host; publish them under the issuer
        # so a client that reached us as "localhost" is not sent to a different origin.
        # Clients registered for it may ask for the REST API's scope (accounts/api.py).
        supported = data.setdefault("scopes_supported", [])
        if "atrium:api" not in supported:
            supported.append("atrium:api")
        origin = self.request.build_absolute_uri("/").rstrip("/")
        for name, value in data.items():
            if isinstance(value, str) and name.endswith(("_endpoint", "_uri")) and value.startswith(origin):
                data[name] = settings.ATRIUM_ISSUER + value[len(origin) :]

    def validate_resource_uris(self, *, uris: list[str], **kwargs) -> None:
        """RFC 8707 `resource` at the authorization endpoint, against the client the request
        names (its redirect URI is validated by then, and the code is bound to that client).

        At the token endpoint the client is not yet authenticated when allauth calls this, so
        nothing a request claims about its client is trusted here: the audience is checked
        against the authenticated client in `populate_access_token`."""
        request = context.request
        if not uris or _view_name(request) != "idp:oidc:authorization":
            return
        client = Client.objects.filter(id=request.GET.get("client_id", "")).first()
        refused = _refused_resources(client, uris)
        if refused:
            error = InvalidTargetError(
                description=f"This client may not request resource {refused[0]}",
                state=request.GET.get("state"),
            )
            # allauth redirects an OAuth error to `error.redirect_uri`; oauthlib has validated the
            # request's redirect URI against the client's registered ones before resources are read.
            error.redirect_uri = request.GET.get("redirect_uri")
            error.response_mode = "fragment" if request.GET.get("response_mode") == "fragment" else "query"
            raise error

    def populate_access_token(self, access_token: dict, *, client, scopes, user, **kwargs) -> None:
        """Runs for every access token (JWT) we mint, after allauth authenticated `client`
        and whatever the grant (client credentials, authorization code, refresh, device):
        its audience must be one this client is registered for (`data.allowed_resources`),
        so a customer's or a region's login client never obtains a token a region accepts."""
        audience = access_token.get("aud") or []
        refused = _refused_resources(client, [audience] if isinstance(audience, str) else list(audience))
        if refused:
            raise InvalidTargetError(description=f"This client may not request resource {refused[0]}")

    def get_user_sub(self, client, user) -> str:
        return str(user.public_id)

    def get_user_by_sub(self, client, sub: str) -> User | None:
        try:
            public_id = uuid.UUID(sub)
        except (ValueError, TypeError):
            return None
        return User.objects.filter(public_id=public_id, is_active=True).first()

    def get_claims(self, purpose, user, client, scopes, email=None, **kwargs) -> dict[str, Any]:
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if "profile" in scopes:
            claims["name"] = user.display_name
        return claims


def allowed_resources(client: Client | None) -> set[str]:
    """The audiences (RFC 8707 resources) a client may obtain tokens for; none by default.

    `data.allowed_resources` lists them; `data.region_machine_audiences` (the provisioner) means
    every configured region's machine URL, read now, so a region added after the client was
    registered is reachable at once instead of failing every push with invalid_target."""
    data = (client.data if client else None) or {}
    allowed = {uri.rstrip("/") for uri in data.get("allowed_resources") or [] if isinstance(uri, str)}
    if data.get("region_machine_audiences") is True:
        allowed |= {url.rstrip("/") for url in Region.objects.values_list("machine_url", flat=True)}
    return allowed


def _refused_resources(client: Client | None, uris: list[str]) -> list[str]:
    allowed = allowed_resources(client)
    return [uri for uri in uris if not isinstance(uri, str) or uri.rstrip("/") not in allowed]


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""
