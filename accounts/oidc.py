"""Atrium as the OpenID Connect provider: how allauth.idp.oidc names and describes a user."""

import uuid
from typing import Any

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
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
