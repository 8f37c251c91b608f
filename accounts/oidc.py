"""Atrium as the OpenID Connect provider: how allauth.idp.oidc names and describes a user."""

import base64
import binascii
import uuid
from typing import Any
from urllib.parse import unquote

from allauth.core import context
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.internal.resources import InvalidTargetError
from allauth.idp.oidc.models import Client
from django.conf import settings

from accounts.models import User


class AtriumOIDCAdapter(DefaultOIDCAdapter):
    def get_issuer(self) -> str:
        # Read per call (a test's live server sets it); never derived from the Host header.
        return settings.ATRIUM_ISSUER

    def populate_server_metadata(self, data: dict) -> None:
        # allauth builds endpoint URLs from the request's Host; publish them under the issuer
        # so a client that reached us as "localhost" is not sent to a different origin.
        origin = self.request.build_absolute_uri("/").rstrip("/")
        for name, value in data.items():
            if isinstance(value, str) and name.endswith(("_endpoint", "_uri")) and value.startswith(origin):
                data[name] = settings.ATRIUM_ISSUER + value[len(origin) :]

    def validate_resource_uris(self, *, uris: list[str], **kwargs) -> None:
        """RFC 8707 `resource` = a token's audience. Only clients registered for an audience
        (the provisioner, for the regions' machine URLs) may ask for it, so a customer's client
        can never obtain a token a region would accept."""
        if not uris:
            return
        client = Client.objects.filter(id=_claimed_client_id(context.request)).first()
        allowed = set(((client.data or {}).get("allowed_resources") or []) if client else [])
        refused = [uri for uri in uris if uri.rstrip("/") not in allowed]
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


def _claimed_client_id(request) -> str:
    """The client id a token or authorization request names (not yet authenticated)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote(user)
    params = request.POST if request.method == "POST" else request.GET
    return params.get("client_id", "")
