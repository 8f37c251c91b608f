"""Login with Atrium: mozilla-django-oidc, tightened.

The library decodes the ID token without checking `aud` or `iss` and matches users by the
email from userinfo; a region must check both claims and key people on `sub` (Atrium's
immutable public UUID), admitting only users provisioned, active, in an active tenant.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from atrium_kit import selectors

log = logging.getLogger(__name__)

REFUSAL_NOT_PROVISIONED = "not_provisioned"
REFUSAL_LOGIN_FAILED = "login_failed"


class AtriumOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation, jwt.InvalidTokenError, KeyError) as exc:
            # A failed exchange or a token we cannot trust is a refused login, never a 500.
            log.warning("Atrium login failed: %s", exc)
            if request is not None:
                request.region_login_refusal = REFUSAL_LOGIN_FAILED
            return None

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("ID token signed with an unexpected algorithm")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.ATRIUM_ISSUER,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
                leeway=30,
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token rejected: {exc}") from exc

    def get_or_create_user(self, access_token, id_token, payload):
        # `payload` is the verified ID token: key on its `sub`, not on userinfo's email.
        users = selectors.users_admitted_for_sub(sub=payload["sub"])
        if not users:
            log.info("Refused sub=%s: not provisioned (or inactive) in any tenant here", payload["sub"])
            self.request.region_login_refusal = REFUSAL_NOT_PROVISIONED
            return None
        # Kept for the session record (back-channel logout) and tenant switching.
        self.request.region_id_token_claims = {"sub": payload["sub"], "sid": payload.get("sid", "")}
        return users[0]

    def get_user(self, user_id):
        return selectors.user_admitted_by_pk(pk=user_id)
