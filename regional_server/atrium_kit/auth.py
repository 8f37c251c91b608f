"""Login with Atrium: mozilla-django-oidc, tightened.

The library decodes the ID token without checking `aud` or `iss` and matches users by the
email from userinfo; a region must check both claims and key people on `sub` (Atrium's
immutable public UUID), admitting only users provisioned, active, in an active tenant.

The region checks how the person signed in at Atrium too (issue 11): the ID token's `amr`
against its tenant's pushed policy (atrium_kit/policy.py). A tenant with `mfa_required` admits
no session whose `amr` lacks "mfa": the callback (atrium_kit/views.py) asks Atrium once more
with `acr_values=urn:atrium:loa:2` (step-up, `StepUpAuthenticateView`), and refuses only when
Atrium answers that request without MFA too.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from atrium_kit import policy, selectors

log = logging.getLogger(__name__)

REFUSAL_NOT_PROVISIONED = "not_provisioned"
REFUSAL_LOGIN_FAILED = "login_failed"
REFUSAL_MFA_REQUIRED = "mfa_required"

# Atrium's assurance level with MFA (its discovery document's acr_values_supported).
LOA_MFA = "urn:atrium:loa:2"
# Session keys: the step-up asked of Atrium (the tenant it is for), the tenant a person chose
# before signing in again (a switch into a tenant that needs MFA), how this session signed in.
STEP_UP_SESSION_KEY = "atrium_step_up"
WANTED_TENANT_SESSION_KEY = "atrium_tenant_wanted"
AMR_SESSION_KEY = "atrium_amr"


def amr_of(claims: dict) -> list[str]:
    """The ID token's `amr` as a list of strings (anything else: no method at all)."""
    amr = claims.get("amr")
    if isinstance(amr, list) and all(isinstance(value, str) for value in amr):
        return amr
    return []


def mfa_required_for(*, tenant) -> bool:
    document = policy.tenant_policy_document(tenant=tenant)
    return bool(document) and document.get("mfa_required") is True


def mfa_missing(*, tenant, amr: list[str]) -> bool:
    """The tenant's policy requires MFA and the sign-in at Atrium was without it."""
    return "mfa" not in amr and mfa_required_for(tenant=tenant)


class StepUpAuthenticateView(OIDCAuthenticationRequestView):
    """The login request to Atrium; with `acr_values=urn:atrium:loa:2` while this session waits
    for a step-up (OIDC_AUTHENTICATE_CLASS)."""

    def get_extra_params(self, request):
        params = dict(super().get_extra_params(request))
        if request.session.get(STEP_UP_SESSION_KEY):
            params["acr_values"] = LOA_MFA
        return params


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
        user = _preferred(users, self.request.session.get(WANTED_TENANT_SESSION_KEY))
        amr = amr_of(payload)
        if mfa_missing(tenant=user.tenant, amr=amr):
            log.info("sub=%s signed in without MFA; tenant %s requires it", payload["sub"], user.tenant.slug)
            self.request.region_step_up = user.tenant.slug
            return None
        # Kept for the session record (back-channel logout), tenant switching and step-up.
        self.request.region_id_token_claims = {
            "sub": payload["sub"],
            "sid": payload.get("sid", "") if isinstance(payload.get("sid"), str) else "",
            "amr": amr,
        }
        return user

    def get_user(self, user_id):
        return selectors.user_admitted_by_pk(pk=user_id)


def _preferred(users: list, slug) -> object:
    """The user in the tenant the person chose (a tenant switch that needed a step-up), else the
    first by tenant slug."""
    return next((user for user in users if user.tenant.slug == slug), users[0])
