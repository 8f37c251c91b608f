"""Machine-to-machine authentication on the machine port.

Every SCIM call carries a client-credentials JWT minted by Atrium: RS256, signed by a key in
Atrium's JWKS, `iss` = Atrium, `aud` = this region's machine URL (so a token for another region
is useless here), unexpired, with scope `scim`. The JWKS is cached; an unknown `kid` (key
rotation) triggers one refetch (PyJWKClient does exactly that).
"""

import json
import logging
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.http import HttpResponse

log = logging.getLogger(__name__)

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_CONTENT_TYPE = "application/scim+json"
REQUIRED_SCOPE_BY_PREFIX = {"/scim/": "scim"}

_jwks_client: jwt.PyJWKClient | None = None


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


def scim_error(status: int, detail: str, scim_type: str | None = None) -> HttpResponse:
    body = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    response = HttpResponse(json.dumps(body), status=status, content_type=SCIM_CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="atrium-region", error="invalid_token"'
    return response


def jwks_client() -> jwt.PyJWKClient:
    global _jwks_client
    if _jwks_client is None:
        _jwks_client = jwt.PyJWKClient(
            settings.ATRIUM_JWKS_URL, cache_keys=True, lifespan=settings.ATRIUM_JWKS_CACHE_SECONDS, timeout=10
        )
    return _jwks_client


def machine_principal_from(authorization: str, *, required_scope: str) -> MachinePrincipal:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MachineTokenError(401, "A Bearer token from Atrium is required.")
    try:
        key = jwks_client().get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.REGION_MACHINE_URL,
            issuer=settings.ATRIUM_ISSUER,
            options={"require": ["iss", "aud", "exp", "iat"]},
            leeway=10,
        )
    except jwt.PyJWKClientConnectionError as exc:
        log.warning("JWKS unreachable: %s", exc)
        raise MachineTokenError(503, "Atrium's keys are unreachable; try again.") from exc
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise MachineTokenError(401, f"Invalid token: {exc}") from exc
    if claims.get("token_use", "access") != "access":
        raise MachineTokenError(401, "Invalid token: not an access token.")
    scopes = frozenset(str(claims.get("scope", "")).split())
    if required_scope not in scopes:
        raise MachineTokenError(403, f"The token lacks scope '{required_scope}'.")
    return MachinePrincipal(client_id=str(claims.get("client_id", "")), scopes=scopes)


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
            return scim_error(exc.status, exc.detail)
        return self.get_response(request)
