"""Machine tokens on Atrium's own machine port: which region is calling.

A region's service calls the directory API with a client-credentials JWT that Atrium itself
minted for the region's OIDC client (`region-<code>`), with `aud` = ATRIUM_MACHINE_URL and scope
`directory:read`. The checks mirror the region's own (regional_server/atrium_kit/machine_auth.py)
and add what only the issuer can check:

- RS256, signed by one of Atrium's active signing keys (by `kid`; no JWKS fetch: they are ours),
  `iss` = ATRIUM_ISSUER, unexpired (10 s leeway for clock skew, as the regions allow),
  `aud` exactly ATRIUM_MACHINE_URL (a token also valid elsewhere could be replayed here by
  whoever holds it there), `token_use` access, no `sub` (a person's login token is no machine
  token, whatever its audience);
- the token is still one Atrium issued and has not revoked (allauth stores each access token's
  hash): checked last, once the rest holds, so forged or foreign tokens cost no query;
- `client_id` is a configured region's client and the scope holds `directory:read`;
- where the TLS client certificate is visible (gunicorn's socket) and names a region the dev CA's
  way (CN `region-<code>-client`), it is the token's region: a token copied off one region's
  host is useless over another region's certificate.

RFC 6750 §3.1: a token we cannot verify is 401 `invalid_token`; a verified token that may not do
this (no such scope, or a client that is no region) is 403 `insufficient_scope`.
"""

import logging
from dataclasses import dataclass

import jwt
from allauth.core.internal import jwkkit
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Token
from django.conf import settings

from regions.models import Region

log = logging.getLogger(__name__)

DIRECTORY_SCOPE = "directory:read"
LEEWAY_S = 10
REGION_CLIENT_PREFIX = "region-"


class MachineTokenError(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def _invalid(detail: str) -> MachineTokenError:
    return MachineTokenError(401, "invalid_token", detail)


def _forbidden(detail: str) -> MachineTokenError:
    return MachineTokenError(403, "insufficient_scope", detail)


@dataclass(frozen=True)
class MachineCaller:
    region: Region
    client_id: str
    scopes: frozenset[str]


def _public_key(kid: str):
    for key in get_adapter().list_private_keys(is_active=True):
        jwk_dict, private_key = jwkkit.load_jwk_from_pem(key.pem)
        if jwk_dict.get("kid") == kid:
            return private_key.public_key()
    return None


def _verified_claims(token: str) -> dict:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise _invalid(f"Invalid token: {exc}") from exc
    if not isinstance(kid, str) or not kid:
        raise _invalid("Invalid token: no key id.")
    key = _public_key(kid)
    if key is None:
        raise _invalid("Invalid token: signed by a key Atrium does not use.")
    # The token endpoint allows the machine URL with or without its trailing slash
    # (accounts.oidc.allowed_resources), so both forms are this port's; the check below still
    # wants it as the one audience.
    machine_url = settings.ATRIUM_MACHINE_URL.rstrip("/")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=[machine_url, machine_url + "/"],
            issuer=settings.ATRIUM_ISSUER,
            options={"require": ["iss", "aud", "exp", "iat"]},
            leeway=LEEWAY_S,
        )
    except jwt.InvalidTokenError as exc:
        raise _invalid(f"Invalid token: {exc}") from exc
    audience = claims["aud"]
    audiences = {audience} if isinstance(audience, str) else set(audience)
    if {str(a).rstrip("/") for a in audiences} != {machine_url}:
        raise _invalid("Invalid token: its audience is not Atrium's machine URL alone.")
    if claims.get("token_use") != "access":
        raise _invalid("Invalid token: not an access token.")
    if "sub" in claims:
        raise _invalid("Invalid token: a person's token, not a client-credentials token.")
    return claims


def _region_of(client_id) -> Region | None:
    if not isinstance(client_id, str) or not client_id.startswith(REGION_CLIENT_PREFIX):
        return None
    region = Region.objects.filter(code=client_id[len(REGION_CLIENT_PREFIX) :]).first()
    return region if region is not None and region.oidc_client_id == client_id else None


def peer_common_name(environ: dict) -> str | None:
    """The CN of the TLS client certificate, when the server hands us its socket (gunicorn)."""
    sock = environ.get("gunicorn.socket")
    getpeercert = getattr(sock, "getpeercert", None)
    if getpeercert is None:
        return None
    try:
        subject = (getpeercert() or {}).get("subject", ())
    except (OSError, ValueError):
        return None
    return next((value for rdn in subject for key, value in rdn if key == "commonName"), None)


def _names_another_region(common_name: str | None, region: Region) -> bool:
    if (
        not common_name
        or not common_name.startswith(REGION_CLIENT_PREFIX)
        or not common_name.endswith("-client")
    ):
        return False  # no certificate visible, or one named otherwise (a production CA's)
    return common_name != f"{region.oidc_client_id}-client"


def machine_caller_from(authorization: str, *, peer_common_name: str | None = None) -> MachineCaller:
    """The region calling, from the request's Authorization header (and the CN of its TLS client
    certificate, when known); MachineTokenError otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid("A Bearer token from Atrium is required.")
    claims = _verified_claims(token)
    scopes = frozenset(str(claims.get("scope", "")).split())
    if DIRECTORY_SCOPE not in scopes:
        raise _forbidden(f"The token lacks scope '{DIRECTORY_SCOPE}'.")
    client_id = claims.get("client_id")
    region = _region_of(client_id)
    if region is None:
        log.warning("Refused a directory token of client %r: not a region's", client_id)
        raise _forbidden("The token's client is not a region's.")
    if _names_another_region(peer_common_name, region):
        log.warning("Refused %s's directory token over certificate %r", client_id, peer_common_name)
        raise _forbidden("The token belongs to another region than the client certificate.")
    if Token.objects.lookup(Token.Type.ACCESS_TOKEN, token) is None:
        raise _invalid("Invalid token: revoked or unknown to Atrium.")
    return MachineCaller(region=region, client_id=client_id, scopes=scopes)
