"""OpenID Connect Back-Channel Logout 1.0, the region's side: `POST <machine URL>/oidc/backchannel-logout`
with `logout_token=<JWT>` (form), over the machine port's mutual TLS.

The logout token is the credential (no machine token is needed): signed RS256 by a key in Atrium's
JWKS, `iss` = Atrium, `aud` = this region's OIDC client id, a recent `iat`, an `exp`, a `jti` never
seen before, the back-channel logout event, `sub` and/or `sid`, and never a `nonce` (§2.6). Then
the matching region sessions are deleted server-side (§2.7):
- `sid` (Atrium's session): the sessions opened from it, plus — when `sub` is given too — that
  person's sessions recorded without a sid (a tenant switch records none), so nothing of theirs
  from that sign-in outlives it;
- only `sub`: every session of that person in this region ("sign out everywhere").
200 also when nothing matched; 400 `{"error": "invalid_request"}` for a token refused (§2.8).
"""

import json
import logging
import time
from datetime import timedelta
from importlib import import_module

import jwt
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from atrium_kit.machine_auth import JwksUnavailable, jwks_cache
from atrium_kit.models import LoginSession, LogoutTokenUse

log = logging.getLogger(__name__)

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Clock skew tolerated between Atrium and this region.
LEEWAY_S = 30
TOKEN_TYPES = {"logout+jwt", "application/logout+jwt"}


class LogoutTokenInvalid(Exception):
    pass


def _header(token: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise LogoutTokenInvalid(f"not a JWT: {exc}") from exc
    if header.get("alg") != "RS256":
        raise LogoutTokenInvalid("not signed with RS256")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in TOKEN_TYPES):
        raise LogoutTokenInvalid(f"typ {typ!r} is not a logout token's")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise LogoutTokenInvalid("no key id")
    return header


def logout_token_verify(token: str) -> dict:
    """The verified claims of a logout token, or LogoutTokenInvalid (JwksUnavailable when
    Atrium's keys cannot be fetched: a temporary failure, not the token's)."""
    key = jwks_cache().signing_key(_header(token)["kid"])
    if key is None:
        raise LogoutTokenInvalid("signed by a key Atrium does not publish")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=settings.ATRIUM_ISSUER,
            options={"require": ["iss", "aud", "iat", "exp", "jti"]},
            leeway=LEEWAY_S,
        )
    except jwt.InvalidTokenError as exc:
        raise LogoutTokenInvalid(str(exc)) from exc
    if time.time() - claims["iat"] > settings.REGION_LOGOUT_TOKEN_MAX_AGE + LEEWAY_S:
        raise LogoutTokenInvalid("issued too long ago")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutTokenInvalid("no back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenInvalid("a logout token never carries a nonce")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (sub or sid) or not all(isinstance(v, str) for v in (sub, sid) if v is not None):
        raise LogoutTokenInvalid("neither sub nor sid names whom to sign out")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise LogoutTokenInvalid("no jti")
    return claims


def logout_token_use(*, claims: dict) -> None:
    """Remember the token's jti (LogoutTokenInvalid if it was used before); forget those that
    could no longer pass the iat check anyway."""
    now = timezone.now()
    keep = timedelta(seconds=settings.REGION_LOGOUT_TOKEN_MAX_AGE + 2 * LEEWAY_S)
    LogoutTokenUse.objects.filter(keep_until__lt=now).delete()
    try:
        with transaction.atomic():
            LogoutTokenUse.objects.create(jti=claims["jti"][:255], used_at=now, keep_until=now + keep)
    except IntegrityError as exc:
        raise LogoutTokenInvalid("this logout token was used before") from exc


def logout_sessions_end(*, sub: str | None, sid: str | None) -> int:
    """Delete the region sessions the logout names (both listeners share the database)."""
    if sid:
        match = Q(sid=sid)
        if sub:
            match = (match & Q(user__scim_external_id=sub)) | Q(user__scim_external_id=sub, sid="")
    else:
        match = Q(user__scim_external_id=sub)
    rows = LoginSession.objects.filter(match)
    keys = list(rows.values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    LoginSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def _answer(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def backchannel_logout(request):
    try:
        token = request.POST.get("logout_token", "")
    except RequestDataTooBig:
        return _answer(413, {"error": "invalid_request", "error_description": "The body is too large."})
    except (SuspiciousOperation, MultiPartParserError) as exc:
        # Too many fields, a broken multipart: a machine API answers JSON (§2.8), not Django's
        # HTML error page. Logged here, since Django's security logger no longer sees it.
        log.warning("Refused an unparseable back-channel logout body: %s", type(exc).__name__)
        return _answer(400, {"error": "invalid_request", "error_description": "The body is not a form."})
    if not token:
        return _answer(400, {"error": "invalid_request", "error_description": "logout_token is required"})
    try:
        claims = logout_token_verify(token)
        logout_token_use(claims=claims)
    except LogoutTokenInvalid as exc:
        log.warning("Refused a logout token: %s", exc)
        return _answer(400, {"error": "invalid_request", "error_description": f"Logout token refused: {exc}"})
    except JwksUnavailable as exc:
        log.warning("JWKS unreachable for a logout token: %s", exc)
        # Not the token's fault: Atrium's ledger retries (with a freshly minted token).
        response = _answer(503, {"error": "temporarily_unavailable"})
        response["Retry-After"] = "5"
        return response
    ended = logout_sessions_end(sub=claims.get("sub"), sid=claims.get("sid"))
    log.info(
        "Back-channel logout (sub=%s, sid=%s) ended %s session(s)",
        claims.get("sub"),
        claims.get("sid"),
        ended,
    )
    return _answer(200, {"sessions_ended": ended})
