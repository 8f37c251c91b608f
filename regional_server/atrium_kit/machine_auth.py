"""Machine-to-machine authentication on the machine port.

Every SCIM call carries a client-credentials JWT minted by Atrium: RS256, signed by a key in
Atrium's JWKS, `iss` = Atrium, `aud` = this region's machine URL (so a token for another region
is useless here), unexpired, minted for a client this region trusts (REGION_TRUSTED_CLIENT_IDS;
allauth names the authenticated client in the `client_id` claim), with the scope the path needs.

Status codes follow RFC 6750 §3.1: a token we cannot verify is 401 `invalid_token` (the caller
should fetch a new one); a verified token that may not do this — an untrusted client or a
missing scope — is 403 `insufficient_scope`, because a fresh token for the same client would be
refused just the same, and a 401 would only invite a retry loop.
"""

import functools
import json
import logging
import threading
import time
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse

log = logging.getLogger(__name__)

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_CONTENT_TYPE = "application/scim+json"
# Every path under a prefix needs its scope, whatever view serves it (a view cannot forget).
REQUIRED_SCOPE_BY_PREFIX = {"/scim/": "scim", "/tenant/": "tenant"}


@dataclass(frozen=True)
class MachinePrincipal:
    client_id: str
    scopes: frozenset[str]
    is_authenticated: bool = True


class MachineTokenError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class JwksUnavailable(Exception):
    pass


class JwksCache:
    """Atrium's signing keys, trusted for `max_age` seconds after each fetch.

    PyJWKClient memoises keys for the life of the process, so a key Atrium removed (rotated out,
    or compromised) stayed trusted until a restart. Here the whole set expires; an unknown `kid`
    (a key rotated in) triggers a refetch, at most once per `refetch_interval`, so a flood of
    tokens with made-up kids costs Atrium one request per interval per process, not one each.
    """

    def __init__(self, url: str, *, max_age: float, refetch_interval: float, timeout: float = 10):
        self.url = url
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at = float("-inf")
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def signing_key(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            now = time.monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self.max_age:
                # Expired keys are never used: a key Atrium removed must stop working.
                self._keys, self._fetched_at = {}, None
                self._refresh(now)
            elif kid not in self._keys and now - self._attempted_at >= self.refetch_interval:
                try:
                    self._refresh(now)
                except JwksUnavailable as exc:
                    # The cached keys are still within their lifetime; only this kid stays unknown.
                    log.warning("JWKS refetch for an unknown kid failed: %s", exc)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        if self._failed_at is not None and now - self._failed_at < self.refetch_interval:
            # Atrium failed us a moment ago: do not make every request wait on its timeout.
            raise JwksUnavailable("Atrium's keys were unreachable a moment ago")
        self._attempted_at = now
        try:
            response = requests.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (requests.RequestException, ValueError, jwt.PyJWKSetError) as exc:
            self._failed_at = now
            raise JwksUnavailable(str(exc)) from exc
        self._keys = {k.key_id: k for k in keys if k.key_id and k.public_key_use in (None, "sig")}
        self._fetched_at, self._failed_at = now, None


_cache: JwksCache | None = None
_cache_lock = threading.Lock()


def jwks_cache() -> JwksCache:
    """One cache per process, rebuilt when its settings change (tests shrink the timings)."""
    global _cache
    wanted = (
        settings.ATRIUM_JWKS_URL,
        settings.ATRIUM_JWKS_CACHE_SECONDS,
        settings.ATRIUM_JWKS_REFETCH_SECONDS,
    )
    with _cache_lock:
        if _cache is None or (_cache.url, _cache.max_age, _cache.refetch_interval) != wanted:
            _cache = JwksCache(wanted[0], max_age=wanted[1], refetch_interval=wanted[2])
        return _cache


def scim_error(status: int, detail: str, scim_type: str | None = None) -> HttpResponse:
    body = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _with_challenge(HttpResponse(json.dumps(body), status=status, content_type=SCIM_CONTENT_TYPE))


def json_error(status: int, detail: str) -> HttpResponse:
    """An error of the tenant API: plain JSON `{"status", "detail"}` (what Atrium's client reads)."""
    body = {"status": str(status), "detail": detail}
    return _with_challenge(HttpResponse(json.dumps(body), status=status, content_type="application/json"))


def json_body(request) -> tuple[object, HttpResponse | None]:
    """The tenant API request's JSON body, or the JSON error to answer instead (413 too large,
    400 not JSON — UnicodeDecodeError, ValueError: also what json raises for an integer of more
    than 4300 digits, RecursionError: nesting deeper than the parser's stack)."""
    try:
        return json.loads(request.body.decode("utf-8")), None
    except RequestDataTooBig:
        return None, json_error(413, "The body is too large.")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, json_error(400, f"The body is not JSON: {type(exc).__name__}.")


def _with_challenge(response: HttpResponse) -> HttpResponse:
    status = response.status_code
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="atrium-region", error="invalid_token"'
    elif status == 403:
        response["WWW-Authenticate"] = 'Bearer realm="atrium-region", error="insufficient_scope"'
    return response


def _verified_claims(token: str) -> dict:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise MachineTokenError(401, f"Invalid token: {exc}") from exc
    if not isinstance(kid, str) or not kid:
        raise MachineTokenError(401, "Invalid token: no key id.")
    try:
        key = jwks_cache().signing_key(kid)
    except JwksUnavailable as exc:
        log.warning("JWKS unreachable: %s", exc)
        raise MachineTokenError(503, "Atrium's keys are unreachable; try again.") from exc
    if key is None:
        raise MachineTokenError(401, "Invalid token: signed by a key Atrium does not publish.")
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.REGION_MACHINE_URL,
            issuer=settings.ATRIUM_ISSUER,
            options={"require": ["iss", "aud", "exp", "iat"]},
            leeway=10,
        )
    except jwt.InvalidTokenError as exc:
        raise MachineTokenError(401, f"Invalid token: {exc}") from exc


def machine_principal_from(authorization: str, *, required_scope: str) -> MachinePrincipal:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MachineTokenError(401, "A Bearer token from Atrium is required.")
    claims = _verified_claims(token.strip())
    if claims.get("token_use", "access") != "access":
        raise MachineTokenError(401, "Invalid token: not an access token.")
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or client_id not in settings.REGION_TRUSTED_CLIENT_IDS:
        log.warning("Refused a machine token of untrusted client %r", client_id)
        raise MachineTokenError(403, "The token's client is not trusted by this region.")
    scopes = frozenset(str(claims.get("scope", "")).split())
    if required_scope not in scopes:
        raise MachineTokenError(403, f"The token lacks scope '{required_scope}'.")
    return MachinePrincipal(client_id=client_id, scopes=scopes)


class MachineTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scope = next((s for p, s in REQUIRED_SCOPE_BY_PREFIX.items() if request.path.startswith(p)), None)
        if scope is None:
            return self.get_response(request)
        try:
            request.user = machine_principal_from(
                request.headers.get("Authorization", ""), required_scope=scope
            )
        except MachineTokenError as exc:
            if scope == "scim":
                return scim_error(exc.status, exc.detail)
            return json_error(exc.status, exc.detail)
        return self.get_response(request)


def machine_view(*, scope: str):
    """Decorator for a product app's views on the machine listener: `@machine_view(scope="tenant")`.

    The view runs only for a verified M2M principal holding `scope`: the one
    MachineTokenMiddleware set, or — where that middleware did not run — one verified here from
    the request's Bearer token (a view never runs unauthenticated because of a settings slip).
    Under `/tenant/` the middleware has already required scope `tenant`; a product may require a
    further scope of its own. Errors are the tenant API's JSON (`{"status", "detail"}`), 401 for
    a token that cannot be verified, 403 for a missing scope. The view is CSRF-exempt: machines
    send no cookies."""
    if not isinstance(scope, str) or not scope or " " in scope:
        raise ValueError("machine_view needs one scope, e.g. machine_view(scope='tenant')")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            principal = getattr(request, "user", None)
            if not isinstance(principal, MachinePrincipal):
                try:
                    principal = machine_principal_from(
                        request.headers.get("Authorization", ""), required_scope=scope
                    )
                except MachineTokenError as exc:
                    return json_error(exc.status, exc.detail)
                request.user = principal
            if scope not in principal.scopes:
                return json_error(403, f"The token lacks scope '{scope}'.")
            return view(request, *args, **kwargs)

        wrapped.csrf_exempt = True
        wrapped.atrium_kit_machine_scope = scope
        return wrapped

    return decorator
