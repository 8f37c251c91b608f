"""How this portal session authenticated: the `amr`, `acr` and `auth_time` its ID tokens carry.

Contract (issue 11, contracts11.md): `session_auth_context(request) -> {"amr", "acr", "auth_time"}`.
- `amr` (RFC 8176 values): "pwd" when the person typed a password in this session, "otp" when
  they passed Atrium's TOTP or recovery code (django-otp verified the session), "fed" when they
  came through a customer's SSO connection, "mfa" when otp, or fed with the connection trusting
  the IdP's MFA.
- `acr`: LOA_2 when "mfa" is in amr, else LOA_1. A region asks for LOA_2 with `acr_values`.
- `auth_time`: when this session last authenticated (a login, a re-authentication, an MFA step).

The sources: allauth's authentication records (one per login step of this session, each with
its method and time), django-otp's `request.user.is_verified()`, the sso part's
`request.session["atrium_federated"]` and the mfa part's `request.session["atrium_mfa_at"]`.
"""

import time

from allauth.account.authentication import get_authentication_records

LOA_1 = "urn:atrium:loa:1"
LOA_2 = "urn:atrium:loa:2"
ACR_VALUES_SUPPORTED = [LOA_1, LOA_2]
AMR_VALUES = ("pwd", "otp", "fed", "mfa")

FEDERATED_SESSION_KEY = "atrium_federated"
MFA_AT_SESSION_KEY = "atrium_mfa_at"


def session_auth_context(request) -> dict:
    user = request.user
    methods = {record.get("method") for record in get_authentication_records(request, user)}
    federated = request.session.get(FEDERATED_SESSION_KEY)
    federated = federated if isinstance(federated, dict) else None
    amr = []
    if "password" in methods:
        amr.append("pwd")
    if _otp_verified(user):
        amr.append("otp")
    if federated is not None or "socialaccount" in methods:
        amr.append("fed")
    if not amr:
        # Logins that allauth does not record (accepting an invitation, confirming a sign-up)
        # follow the person choosing their password in this very session.
        amr.append("pwd")
    if "otp" in amr or (federated is not None and federated.get("mfa") is True):
        amr.append("mfa")
    return {"amr": amr, "acr": acr_for(amr), "auth_time": int(last_authenticated_at(request) or time.time())}


def acr_for(amr: list[str]) -> str:
    return LOA_2 if "mfa" in amr else LOA_1


def last_authenticated_at(request) -> float | None:
    """The latest time this session proved who it is, in seconds since the epoch; for a login
    allauth did not record, the user's last login (Django sets it on every login)."""
    user = request.user
    if not user.is_authenticated:
        return None
    times = [
        record["at"]
        for record in get_authentication_records(request, user)
        if isinstance(record.get("at"), int | float)
    ]
    mfa_at = request.session.get(MFA_AT_SESSION_KEY)
    if isinstance(mfa_at, int | float) and not isinstance(mfa_at, bool):
        times.append(mfa_at)
    if times:
        return float(max(times))
    return user.last_login.timestamp() if user.last_login else None


def _otp_verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def clean_auth_context(value) -> dict | None:
    """A stored context as the token endpoint may use it: only known claims of the right types
    (whatever sits in the cache or in a token row, a bad value is dropped, never a 500)."""
    if not isinstance(value, dict):
        return None
    cleaned: dict = {}
    amr = value.get("amr")
    if isinstance(amr, list) and amr and all(isinstance(v, str) and v in AMR_VALUES for v in amr):
        cleaned["amr"] = list(dict.fromkeys(amr))
        cleaned["acr"] = acr_for(cleaned["amr"])
    auth_time = value.get("auth_time")
    if isinstance(auth_time, int) and not isinstance(auth_time, bool) and 0 < auth_time < 2**40:
        cleaned["auth_time"] = auth_time
    sid = value.get("sid")
    if isinstance(sid, str) and 0 < len(sid) <= 128:
        cleaned["sid"] = sid
    return cleaned or None
