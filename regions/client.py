"""The only code that talks to regional servers: SCIM (Users, Groups) and the tenant API
(entitlements) over mutual TLS with Atrium's M2M JWTs.

Typed in and out; raises RegionError (with `retryable` and `retry_after`) for every failure so
callers never see an httpx exception. One keep-alive httpx client per machine URL per process.
"""

import json
import logging
import math
import ssl
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from regions.services import provisioner_secret_file

log = logging.getLogger(__name__)

SCIM_JSON = "application/scim+json"
TOKEN_REFRESH_MARGIN_S = 60

_lock = threading.Lock()
_http_clients: dict[str, httpx.Client] = {}
_tokens: dict[tuple[str, str], tuple[str, float]] = {}


class RegionError(Exception):
    def __init__(self, detail: str, *, status: int | None = None, retryable: bool = True,
                 retry_after: float | None = None):  # fmt: skip
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class RemoteResource:
    """A SCIM resource as a region holds it (`user_name`: userName, or a group's displayName)."""

    remote_id: str
    external_id: str
    user_name: str
    active: bool
    resource: dict


# --- machine tokens ---------------------------------------------------------------------------
def m2m_token(*, audience: str, scope: str = "scim", fresh: bool = False) -> str:
    """A client-credentials JWT for `audience` (a region's machine URL), cached until shortly
    before it expires."""
    key = (audience.rstrip("/"), scope)
    cached = _tokens.get(key)
    if cached and not fresh and cached[1] - TOKEN_REFRESH_MARGIN_S > time.time():
        return cached[0]
    client_id, secret = _m2m_credentials()
    try:
        response = httpx.post(
            f"{settings.ATRIUM_ISSUER}/identity/o/api/token",
            data={"grant_type": "client_credentials", "scope": scope, "resource": key[0]},
            auth=(client_id, secret),
            timeout=settings.ATRIUM_REGION_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise RegionError(f"Atrium's token endpoint is unreachable: {exc}") from exc
    if response.status_code != 200:
        # Always retryable: a refused token says nothing about the representation being pushed.
        # It is Atrium's own throttle (429 + Retry-After) or configuration (a rotated secret,
        # a region not yet known), which operators fix without pressing retry on every row.
        raise RegionError(
            f"Token request refused ({response.status_code}): {response.text[:200]}",
            status=response.status_code,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    try:
        body = response.json()
        token, expires_in = str(body["access_token"]), int(body.get("expires_in", 300))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RegionError(
            f"Atrium's token endpoint answered 200 without a token: {response.text[:200]}"
        ) from exc
    _tokens[key] = (token, time.time() + expires_in)
    return token


def _m2m_credentials() -> tuple[str, str]:
    secret = settings.ATRIUM_M2M_CLIENT_SECRET
    secret_file = provisioner_secret_file(secrets_dir=settings.ATRIUM_SECRETS_DIR)
    if not secret and secret_file.exists():
        secret = json.loads(secret_file.read_text())["client_secret"]
    if not secret:
        raise RegionError("No provisioner secret: run `manage.py regions_register_clients`", retryable=False)
    return settings.ATRIUM_M2M_CLIENT_ID, secret


def m2m_tokens_forget() -> None:
    _tokens.clear()


# --- transport --------------------------------------------------------------------------------
def tls_context() -> ssl.SSLContext:
    """Trust only our CA and present Atrium's client certificate (httpx drops `cert=` when
    `verify` is a path, so the context carries both)."""
    try:
        context = ssl.create_default_context(cafile=str(settings.ATRIUM_TLS_CA_FILE))
        context.load_cert_chain(str(settings.ATRIUM_TLS_CLIENT_CERT), str(settings.ATRIUM_TLS_CLIENT_KEY))
    except (OSError, ssl.SSLError) as exc:
        # Retryable: an operator installs or renews the files and delivery resumes by itself.
        raise RegionError(
            f"Atrium's TLS files are missing or unreadable ({exc}): run `manage.py pki_init` or set "
            "ATRIUM_TLS_CA_FILE, ATRIUM_TLS_CLIENT_CERT and ATRIUM_TLS_CLIENT_KEY"
        ) from exc
    return context


def _http(machine_url: str) -> httpx.Client:
    with _lock:
        client = _http_clients.get(machine_url)
        if client is None:
            client = httpx.Client(
                base_url=machine_url.rstrip("/"),
                verify=tls_context(),
                timeout=settings.ATRIUM_REGION_TIMEOUT,
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30),
            )
            _http_clients[machine_url] = client
        return client


def _http_forget(machine_url: str) -> None:
    with _lock:
        client = _http_clients.pop(machine_url, None)
    if client is not None:
        client.close()


def http_clients_close() -> None:
    with _lock:
        for client in _http_clients.values():
            client.close()
        _http_clients.clear()


def _scim(machine_url: str, method: str, path: str, *, json_body: dict | None = None,
          params: dict | None = None) -> httpx.Response:  # fmt: skip
    return _machine_request(
        machine_url, method, path, scope="scim", media_type=SCIM_JSON, json_body=json_body, params=params
    )


def _machine_request(
    machine_url: str,
    method: str,
    path: str,
    *,
    scope: str,
    media_type: str,
    json_body: dict | None = None,
    params: dict | None = None,
) -> httpx.Response:
    """One call on a region's machine port with a token for `scope` (SCIM and the tenant API
    are separate scopes: a region checks each path's own)."""
    for attempt in (1, 2):
        headers = {
            "Authorization": f"Bearer {m2m_token(audience=machine_url, scope=scope, fresh=attempt == 2)}",
            "Accept": media_type,
        }
        content = None
        if json_body is not None:
            headers["Content-Type"] = media_type
            content = json.dumps(json_body)
        try:
            response = _http(machine_url).request(
                method, path, headers=headers, content=content, params=params
            )
        except httpx.HTTPError as exc:
            _http_forget(machine_url)  # reconnect next time (the region may have restarted)
            raise RegionError(f"{machine_url} unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 401 and attempt == 1:
            continue  # a rotated key or an expired cached token: retry once with a fresh token
        return response
    return response


def _raise_for(response: httpx.Response, what: str) -> None:
    # Only a 2xx is an answer: a redirect (a load balancer's maintenance page) confirms nothing.
    if 200 <= response.status_code < 300:
        return
    try:
        detail = response.json().get("detail") or response.text
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, or nested past the stack
        detail = response.text
    retry_after = _retry_after(response.headers.get("Retry-After"))
    retryable = (
        response.status_code >= 500 or response.status_code in (401, 408, 429) or response.status_code < 400
    )
    raise RegionError(
        f"{what}: HTTP {response.status_code} {str(detail)[:300]}",
        status=response.status_code,
        retryable=retryable,
        retry_after=retry_after,
    )


# A region (or a proxy in front of it) cannot mute a row for longer than this.
RETRY_AFTER_MAX_S = 3600.0


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds), bounded to [0, RETRY_AFTER_MAX_S];
    None when absent or not a finite number."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_MAX_S)


# --- SCIM resources (Users, Groups) -------------------------------------------------------------
USERS = "Users"
GROUPS = "Groups"
SCIM_PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _collection_path(tenant: str, collection: str) -> str:
    return f"/scim/v2/{tenant}/{collection}"


def _answer(response: httpx.Response, what: str) -> dict:
    """The 2xx body as a JSON object. A region answering 2xx with anything else (HTML from a proxy,
    a list, JSON nested past the stack) is a retryable RegionError like any failed push — never an
    exception the ledger does not know, which would leave the row leased until the sweep."""
    try:
        body = response.json()
    except (ValueError, RecursionError) as exc:
        raise RegionError(f"{what}: a 2xx that is not JSON: {response.text[:200]}") from exc
    if not isinstance(body, dict):
        raise RegionError(f"{what}: a 2xx that is not a JSON object: {response.text[:200]}")
    return body


def _remote(resource: dict, what: str = "SCIM answer") -> RemoteResource:
    remote_id = resource.get("id") if isinstance(resource, dict) else None
    if not isinstance(remote_id, str | int) or isinstance(remote_id, bool) or remote_id == "":
        raise RegionError(f"{what}: a resource without an id: {str(resource)[:200]}")
    return RemoteResource(
        remote_id=str(resource["id"]),
        external_id=str(resource.get("externalId") or ""),
        user_name=str(resource.get("userName") or resource.get("displayName") or ""),
        active=bool(resource.get("active", True)),
        resource=resource,
    )


def _find(machine_url: str, tenant: str, collection: str, external_id: str) -> RemoteResource | None:
    response = _scim(
        machine_url,
        "GET",
        _collection_path(tenant, collection),
        params={"filter": f'externalId eq "{external_id}"'},
    )
    _raise_for(response, f"SCIM {collection} lookup")
    resources = _answer(response, f"SCIM {collection} lookup").get("Resources") or []
    if not isinstance(resources, list):
        raise RegionError(f"SCIM {collection} lookup: `Resources` is not a list")
    return _remote(resources[0]) if resources else None


def _upsert(machine_url: str, tenant: str, collection: str, resource: dict, remote_id: str) -> RemoteResource:
    """Create or replace the resource keyed by `externalId`; idempotent, so safe to retry."""
    path = _collection_path(tenant, collection)
    if remote_id:
        response = _scim(machine_url, "PUT", f"{path}/{remote_id}", json_body=resource)
        if response.status_code != 404:
            _raise_for(response, f"SCIM {collection} replace")
            return _remote(_answer(response, f"SCIM {collection} replace"))
    existing = _find(machine_url, tenant, collection, resource["externalId"])
    if existing is None:
        response = _scim(machine_url, "POST", path, json_body=resource)
        if response.status_code != 409:
            _raise_for(response, f"SCIM {collection} create")
            return _remote(_answer(response, f"SCIM {collection} create"))
        # A concurrent or earlier create won the race: replace what is there.
        existing = _find(machine_url, tenant, collection, resource["externalId"])
        if existing is None:
            _raise_for(response, f"SCIM {collection} create")
    response = _scim(machine_url, "PUT", f"{path}/{existing.remote_id}", json_body=resource)
    _raise_for(response, f"SCIM {collection} replace")
    return _remote(_answer(response, f"SCIM {collection} replace"))


def _delete(machine_url: str, tenant: str, collection: str, external_id: str, remote_id: str) -> None:
    """Delete the resource; one already gone counts as deleted. "Gone" is judged by externalId,
    not by the id we stored: the region may hold the same object under a new id (re-created by
    another SCIM client, restored), and a 404 on the old id must not confirm a deletion then."""
    path = _collection_path(tenant, collection)
    if remote_id:
        response = _scim(machine_url, "DELETE", f"{path}/{remote_id}")
        if response.status_code != 404:
            _raise_for(response, f"SCIM {collection} delete")
            return
    existing = _find(machine_url, tenant, collection, external_id)
    if existing is None:
        return
    response = _scim(machine_url, "DELETE", f"{path}/{existing.remote_id}")
    if response.status_code == 404:
        return  # deleted meanwhile by someone else
    _raise_for(response, f"SCIM {collection} delete")


def _list(machine_url: str, tenant: str, collection: str, page_size: int) -> list[RemoteResource]:
    """Every resource of the tenant, paging with startIndex/count."""
    found: list[RemoteResource] = []
    start = 1
    while True:
        response = _scim(
            machine_url,
            "GET",
            _collection_path(tenant, collection),
            params={"startIndex": start, "count": page_size},
        )
        _raise_for(response, f"SCIM {collection} list")
        body = _answer(response, f"SCIM {collection} list")
        resources = body.get("Resources") or []
        total = body.get("totalResults", 0)
        if not isinstance(resources, list) or not isinstance(total, int) or isinstance(total, bool):
            raise RegionError(f"SCIM {collection} list: a page outside SCIM's ListResponse shape")
        page = [_remote(r) for r in resources]
        found += page
        if not page or len(found) >= total:
            return found
        start += len(page)


def scim_user_find(*, machine_url: str, tenant: str, external_id: str) -> RemoteResource | None:
    return _find(machine_url, tenant, USERS, external_id)


def scim_user_upsert(*, machine_url: str, tenant: str, resource: dict, remote_id: str = "") -> RemoteResource:
    return _upsert(machine_url, tenant, USERS, resource, remote_id)


def scim_user_delete(*, machine_url: str, tenant: str, external_id: str, remote_id: str = "") -> None:
    _delete(machine_url, tenant, USERS, external_id, remote_id)


def scim_users_list(*, machine_url: str, tenant: str, page_size: int = 100) -> list[RemoteResource]:
    return _list(machine_url, tenant, USERS, page_size)


def scim_group_find(*, machine_url: str, tenant: str, external_id: str) -> RemoteResource | None:
    return _find(machine_url, tenant, GROUPS, external_id)


def scim_group_upsert(
    *, machine_url: str, tenant: str, resource: dict, remote_id: str = ""
) -> RemoteResource:
    """Create or replace the whole group (members included): for first sends and repairs."""
    return _upsert(machine_url, tenant, GROUPS, resource, remote_id)


def scim_group_patch(
    *,
    machine_url: str,
    tenant: str,
    remote_id: str,
    add_members: list[str],
    remove_members: list[str],
    display_name: str | None = None,
) -> bool:
    """Change a group by difference (RFC 7644 §3.5.2): add and remove members by the region's
    user ids, rename. Returns False when the group is gone there (the caller re-creates it)."""
    operations: list[dict] = []
    if display_name is not None:
        operations.append({"op": "replace", "path": "displayName", "value": display_name})
    if add_members:
        operations.append({"op": "add", "path": "members", "value": [{"value": m} for m in add_members]})
    operations += [{"op": "remove", "path": f'members[value eq "{m}"]'} for m in remove_members]
    if not operations:
        return True
    response = _scim(
        machine_url,
        "PATCH",
        f"{_collection_path(tenant, GROUPS)}/{remote_id}",
        json_body={"schemas": [SCIM_PATCH_OP], "Operations": operations},
    )
    if response.status_code == 404:
        return False
    _raise_for(response, "SCIM Groups patch")
    return True


def scim_group_delete(*, machine_url: str, tenant: str, external_id: str, remote_id: str = "") -> None:
    _delete(machine_url, tenant, GROUPS, external_id, remote_id)


def scim_groups_list(*, machine_url: str, tenant: str, page_size: int = 100) -> list[RemoteResource]:
    return _list(machine_url, tenant, GROUPS, page_size)


# --- tenant API ---------------------------------------------------------------------------------
TENANT_JSON = "application/json"


def tenant_entitlements_put(*, machine_url: str, tenant: str, document: dict, version: int) -> int:
    """Make the region enforce this entitlements document (version `version`) for the tenant.

    Returns the version the region holds afterwards: higher than `version` when it already had
    a newer one (it keeps that, so a late old push never wins)."""
    return _tenant_document_put(machine_url, tenant, "entitlements", document, version)


def _tenant_document_put(machine_url: str, tenant: str, name: str, document: dict, version: int) -> int:
    """PUT a versioned tenant document (`/tenant/v1/<tenant>/<name>`); the version it holds after."""
    what = f"Tenant {name} put"
    response = _machine_request(
        machine_url,
        "PUT",
        f"/tenant/v1/{tenant}/{name}",
        scope="tenant",
        media_type=TENANT_JSON,
        json_body={**document, "version": version},
    )
    _raise_for(response, what)
    try:
        held = response.json()["version"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise RegionError(f"{what}: 2xx without a version: {response.text[:200]}") from exc
    if not isinstance(held, int) or isinstance(held, bool) or held < version:
        # A region that claims to hold less than it was sent did not apply it.
        raise RegionError(f"{what}: the region holds version {held!r}, sent {version}")
    return held


# --- products' machine endpoints ------------------------------------------------------------------
# The account home waits on this call: a region that is down or slow must cost little.
ALERTS_SUMMARY_TIMEOUT_S = 2.0
SEVERITIES = ("high", "medium", "low")


def tenant_alerts_summary(*, region, tenant_slug: str) -> dict:
    """Security Posture's open alerts of the tenant in `region` (contract C): `{"tenant", "open",
    "by_severity": {"high", "medium", "low"}, "url"}`, counts only — the alerts stay there.

    RegionError for every failure, including an answer that is not the contract's shape."""
    path = f"/tenant/v1/{tenant_slug}/products/posture/alerts/summary"
    machine_url = region.machine_url
    # httpx's timeout bounds each read, not the answer: a region trickling a byte per second
    # would hold the page for ever. One deadline covers both attempts and the whole body.
    deadline = time.monotonic() + ALERTS_SUMMARY_TIMEOUT_S
    for attempt in (1, 2):
        headers = {
            "Authorization": f"Bearer {m2m_token(audience=machine_url, scope='tenant', fresh=attempt == 2)}",
            "Accept": TENANT_JSON,
        }
        try:
            response = _bounded_get(machine_url, path, headers=headers, deadline=deadline)
        except httpx.HTTPError as exc:
            _http_forget(machine_url)
            raise RegionError(f"{machine_url} unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 401:
            break  # else: a rotated key or an expired cached token, retried once with a fresh one
    _raise_for(response, "Posture alerts summary")
    return _alerts_summary_parse(response, tenant_slug=tenant_slug)


# A summary is a few counts; anything bigger is not one, and is not read into memory.
ALERTS_SUMMARY_MAX_BYTES = 64 * 1024


def _bounded_get(machine_url: str, path: str, *, headers: dict, deadline: float) -> httpx.Response:
    """GET whose whole answer arrives before `deadline` (time.monotonic) and within
    ALERTS_SUMMARY_MAX_BYTES, else RegionError; the body is read into the returned response."""
    remaining = max(0.01, deadline - time.monotonic())
    with _http(machine_url).stream("GET", path, headers=headers, timeout=remaining) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > ALERTS_SUMMARY_MAX_BYTES:
                _http_forget(machine_url)  # the rest of that answer is still on the connection
                raise RegionError(
                    f"Posture alerts summary: an answer too large (> {ALERTS_SUMMARY_MAX_BYTES} bytes)"
                )
            if time.monotonic() > deadline:
                _http_forget(machine_url)
                raise RegionError(f"{machine_url} too slow: no whole answer in {ALERTS_SUMMARY_TIMEOUT_S} s")
    # The body is decoded already: keep only the headers its readers use (not Content-Encoding).
    kept = {
        name: response.headers[name] for name in ("Content-Type", "Retry-After") if name in response.headers
    }
    return httpx.Response(response.status_code, headers=kept, content=bytes(body))


def _count(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _alerts_summary_parse(response: httpx.Response, *, tenant_slug: str) -> dict:
    try:
        body = response.json()
        if body["tenant"] != tenant_slug:
            raise ValueError(f"the summary of {body['tenant']!r}")
        by_severity = {s: _count(body["by_severity"][s]) for s in SEVERITIES}
        summary = {"tenant": tenant_slug, "open": _count(body["open"]), "by_severity": by_severity}
        summary["url"] = str(body.get("url") or "")
    # RecursionError: JSON nested deeper than the parser's stack (junk, not a summary).
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise RegionError(f"Posture alerts summary: an answer not in the contract's shape ({exc})") from exc
    return summary


# --- tenant security policy (issue 11) ------------------------------------------------------------
def tenant_policy_put(*, machine_url: str, tenant: str, document: dict, version: int) -> int:
    """Make the region enforce this security policy document (policy version `version`).

    Returns the version the region holds afterwards: higher than `version` when it already had
    a newer one (it keeps that, so a late old push never wins)."""
    return _tenant_document_put(machine_url, tenant, "policy", document, version)


# --- back-channel logout (issue 11) ---------------------------------------------------------------
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token is minted for one delivery attempt: a region that was down gets a fresh one.
LOGOUT_TOKEN_LIFETIME_S = 120


def logout_token_mint(*, audience: str, sub: str | None, sid: str | None) -> str:
    """An OpenID Connect Back-Channel Logout 1.0 logout token (§2.4), signed RS256 with the key
    that signs Atrium's ID tokens (its `kid` is in the JWKS regions already trust): `sub` and/or
    `sid`, the logout event, a unique `jti`, never a `nonce`."""
    # Imported here: only the worker's logout deliveries need them (this module loads everywhere).
    import uuid

    import jwt
    from allauth.core.internal import jwkkit
    from allauth.idp.oidc.adapter import get_adapter
    from django.core.exceptions import ImproperlyConfigured

    if not sub and not sid:
        raise RegionError("A logout token names a sub, a sid or both", retryable=False)
    try:
        jwk_dict, private_key = jwkkit.load_jwk_from_pem(get_adapter().get_signing_key().pem)
    except (ImproperlyConfigured, ValueError, TypeError) as exc:
        # Retryable: an operator installs the signing key and delivery resumes by itself.
        raise RegionError(f"No OIDC signing key to mint a logout token with: {exc}") from exc
    now = int(time.time())
    claims = {
        "iss": settings.ATRIUM_ISSUER,
        "aud": audience,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME_S,
        "jti": uuid.uuid4().hex,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims |= {"sub": sub} if sub else {}
    claims |= {"sid": sid} if sid else {}
    headers = {"kid": jwk_dict["kid"], "typ": "logout+jwt"}  # explicitly typed (§2.4)
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)


def backchannel_logout_post(*, machine_url: str, client_id: str, sub: str | None, sid: str | None) -> None:
    """Tell a region to end the sessions of `sub` (all of them there) or of Atrium session
    `sid`: `POST <machine URL>/oidc/backchannel-logout` with `logout_token=` (form), over mutual
    TLS. The logout token itself is the credential (signed, `aud` = the region's OIDC client),
    so no machine token is sent. 200 = done (also when the region had no such session)."""
    token = logout_token_mint(audience=client_id, sub=sub, sid=sid)
    try:
        response = _http(machine_url).post(
            "/oidc/backchannel-logout",
            data={"logout_token": token},
            headers={"Accept": "application/json", "Cache-Control": "no-store"},
        )
    except httpx.HTTPError as exc:
        _http_forget(machine_url)  # reconnect next time (the region may have restarted)
        raise RegionError(f"{machine_url} unreachable: {type(exc).__name__}: {exc}") from exc
    if response.status_code == 400:
        # The region refused this token (§2.8). A fresh one is minted at the next attempt, which
        # is what a region lagging behind a key rotation needs; counted, so it ends `failed`.
        raise RegionError(
            f"Back-channel logout refused: HTTP 400 {response.text[:300]}", status=400, retryable=True
        )
    _raise_for(response, "Back-channel logout")
