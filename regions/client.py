"""The only code that talks to regional servers: SCIM over mutual TLS with Atrium's M2M JWTs.

Typed in and out; raises RegionError (with `retryable` and `retry_after`) for every failure so
callers never see an httpx exception. One keep-alive httpx client per machine URL per process.
"""

import json
import logging
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
class RemoteUser:
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
        raise RegionError(
            f"Token request refused ({response.status_code}): {response.text[:200]}",
            status=response.status_code,
            retryable=response.status_code >= 500,
        )
    body = response.json()
    _tokens[key] = (body["access_token"], time.time() + int(body.get("expires_in", 300)))
    return body["access_token"]


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
    context = ssl.create_default_context(cafile=str(settings.ATRIUM_TLS_CA_FILE))
    context.load_cert_chain(str(settings.ATRIUM_TLS_CLIENT_CERT), str(settings.ATRIUM_TLS_CLIENT_KEY))
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
    for attempt in (1, 2):
        headers = {
            "Authorization": f"Bearer {m2m_token(audience=machine_url, scope='scim', fresh=attempt == 2)}",
            "Accept": SCIM_JSON,
        }
        content = None
        if json_body is not None:
            headers["Content-Type"] = SCIM_JSON
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
    if response.status_code < 400:
        return
    try:
        detail = response.json().get("detail") or response.text
    except ValueError:
        detail = response.text
    retry_after = _retry_after(response.headers.get("Retry-After"))
    retryable = response.status_code >= 500 or response.status_code in (401, 408, 429)
    raise RegionError(
        f"{what}: HTTP {response.status_code} {str(detail)[:300]}",
        status=response.status_code,
        retryable=retryable,
        retry_after=retry_after,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# --- SCIM Users --------------------------------------------------------------------------------
def _users_path(tenant: str) -> str:
    return f"/scim/v2/{tenant}/Users"


def _remote(resource: dict) -> RemoteUser:
    return RemoteUser(
        remote_id=str(resource["id"]),
        external_id=str(resource.get("externalId") or ""),
        user_name=str(resource.get("userName") or ""),
        active=bool(resource.get("active", True)),
        resource=resource,
    )


def scim_user_find(*, machine_url: str, tenant: str, external_id: str) -> RemoteUser | None:
    response = _scim(
        machine_url, "GET", _users_path(tenant), params={"filter": f'externalId eq "{external_id}"'}
    )
    _raise_for(response, "SCIM lookup")
    resources = response.json().get("Resources", [])
    return _remote(resources[0]) if resources else None


def scim_user_upsert(*, machine_url: str, tenant: str, resource: dict, remote_id: str = "") -> RemoteUser:
    """Create or replace the user keyed by `externalId`; idempotent, so safe to retry."""
    if remote_id:
        response = _scim(machine_url, "PUT", f"{_users_path(tenant)}/{remote_id}", json_body=resource)
        if response.status_code != 404:
            _raise_for(response, "SCIM replace")
            return _remote(response.json())
    existing = scim_user_find(machine_url=machine_url, tenant=tenant, external_id=resource["externalId"])
    if existing is None:
        response = _scim(machine_url, "POST", _users_path(tenant), json_body=resource)
        if response.status_code != 409:
            _raise_for(response, "SCIM create")
            return _remote(response.json())
        # A concurrent or earlier create won the race: replace what is there.
        existing = scim_user_find(machine_url=machine_url, tenant=tenant, external_id=resource["externalId"])
        if existing is None:
            _raise_for(response, "SCIM create")
    response = _scim(machine_url, "PUT", f"{_users_path(tenant)}/{existing.remote_id}", json_body=resource)
    _raise_for(response, "SCIM replace")
    return _remote(response.json())


def scim_user_delete(*, machine_url: str, tenant: str, external_id: str, remote_id: str = "") -> None:
    """Delete the user; a user already gone counts as deleted."""
    if not remote_id:
        existing = scim_user_find(machine_url=machine_url, tenant=tenant, external_id=external_id)
        if existing is None:
            return
        remote_id = existing.remote_id
    response = _scim(machine_url, "DELETE", f"{_users_path(tenant)}/{remote_id}")
    if response.status_code == 404:
        return
    _raise_for(response, "SCIM delete")


def scim_users_list(*, machine_url: str, tenant: str, page_size: int = 100) -> list[RemoteUser]:
    """Every user of the tenant, paging with startIndex/count."""
    users: list[RemoteUser] = []
    start = 1
    while True:
        response = _scim(
            machine_url, "GET", _users_path(tenant), params={"startIndex": start, "count": page_size}
        )
        _raise_for(response, "SCIM list")
        body = response.json()
        page = [_remote(r) for r in body.get("Resources", [])]
        users += page
        if not page or len(users) >= int(body.get("totalResults", 0)):
            return users
        start += len(page)
