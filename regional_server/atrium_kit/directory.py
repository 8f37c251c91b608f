"""The directory client: this region reads its tenants' users, groups, products and regions from
Atrium's user service — the seeds' "the backup service asks the global user service for read
permission".

    from atrium_kit.directory import directory_client, DirectoryUnavailable
    try:
        people = directory_client().users("acme")     # every page, list of dicts
    except DirectoryUnavailable as exc:
        ...  # show exc.message; never a 500

Transport: httpx over mutual TLS to ATRIUM_MACHINE_URL (trusting only REGION_TLS_CA_FILE,
presenting REGION_TLS_CLIENT_CERT/KEY). Authorization: the region's own M2M token, a
client-credentials grant at Atrium's token endpoint with the region's OIDC client
(REGION_OIDC_CLIENT_ID and its secret), scope `directory:read`, `resource` = ATRIUM_MACHINE_URL
(RFC 8707, so the token's `aud` is Atrium's machine port and nothing else). The token is cached
until shortly before it expires and fetched afresh once when the directory answers 401 (a rotated
key, a token revoked early). Atrium answers only for tenants that use this region; any other
tenant is a 404, like one that does not exist.

Every failure — transport, TLS, timeout, a refused token, a 4xx/5xx, a body that is not the
contract's shape — is a DirectoryUnavailable with a message (and `status` when Atrium answered),
so callers never see an httpx exception.
"""

import logging
import re
import ssl
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

log = logging.getLogger(__name__)

SCOPE = "directory:read"
PAGE_LIMIT = 500  # the API's maximum page size: fewest round trips
MAX_PAGES = 10_000  # a cursor that never ends is Atrium's bug, not a reason to loop forever
# Refresh a cached token this many seconds before it expires (at most half its lifetime).
TOKEN_REFRESH_MARGIN_S = 30
# \Z, not $: `$` also matches before a trailing newline ("acme\n" would pass).
TENANT_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?\Z")


class DirectoryUnavailable(Exception):
    """Atrium's directory could not answer this question. `status` is Atrium's HTTP status when it
    answered (404: no such tenant for this region), None when it did not."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class DirectoryConfig:
    machine_url: str
    token_endpoint: str
    client_id: str
    client_secret: str
    ca_file: str
    client_cert: str
    client_key: str
    timeout: float

    @classmethod
    def from_settings(cls) -> "DirectoryConfig":
        return cls(
            machine_url=settings.ATRIUM_MACHINE_URL.rstrip("/"),
            token_endpoint=settings.ATRIUM_TOKEN_ENDPOINT,
            client_id=settings.OIDC_RP_CLIENT_ID,
            client_secret=settings.OIDC_RP_CLIENT_SECRET,
            ca_file=str(settings.REGION_TLS_CA_FILE),
            client_cert=str(settings.REGION_TLS_CLIENT_CERT),
            client_key=str(settings.REGION_TLS_CLIENT_KEY),
            timeout=float(settings.ATRIUM_DIRECTORY_TIMEOUT),
        )


class DirectoryClient:
    def __init__(self, config: DirectoryConfig):
        self.config = config
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, time it stops being used)
        self._http: httpx.Client | None = None

    # --- the contract (A) ----------------------------------------------------------------------
    def catalog(self) -> dict:
        body = self._get_json("/directory/v1/catalog")
        _require(body, "catalog", products=list, regions=list)
        return body

    def tenant(self, tenant_slug: str) -> dict:
        body = self._get_json(f"/directory/v1/tenants/{_slug(tenant_slug)}")
        _require(body, "tenant", products=list, regions=list)
        if body.get("tenant") != tenant_slug:
            # Another tenant's answer must never be shown as this one's (a bug or a proxy mix-up).
            raise DirectoryUnavailable(f"Atrium's directory answered for another tenant than {tenant_slug}.")
        return body

    def users(self, tenant_slug: str) -> list[dict]:
        """Every member of the tenant with access to this region, all pages followed."""
        path = f"/directory/v1/tenants/{_slug(tenant_slug)}/users"
        users: list[dict] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = {"limit": str(PAGE_LIMIT)}
            if cursor is not None:
                params["cursor"] = cursor
            body = self._get_json(path, params=params)
            _require(body, "users page", users=list)
            _require_items(body["users"], "users", id=str, role=str)
            users.extend(body["users"])
            cursor = body.get("next")
            if cursor is None:
                return users
            if not body["users"]:
                # An empty page that promises more would walk fresh cursors MAX_PAGES times.
                raise DirectoryUnavailable("Atrium's directory returned an empty page with a next cursor.")
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                raise DirectoryUnavailable("Atrium's directory returned an invalid or repeated page cursor.")
            seen.add(cursor)
        raise DirectoryUnavailable(f"Atrium's directory listed more than {MAX_PAGES} pages of users.")

    def groups(self, tenant_slug: str) -> list[dict]:
        body = self._get_json(f"/directory/v1/tenants/{_slug(tenant_slug)}/groups")
        _require(body, "groups", groups=list)
        _require_items(body["groups"], "groups", id=str)
        return body["groups"]

    # --- transport -------------------------------------------------------------------------------
    def _get_json(self, path: str, *, params: dict | None = None):
        response = self._get(path, params=params, token=self._bearer())
        if response.status_code == 401:
            # A key rotated or the token was revoked early: one fresh token, one retry.
            response = self._get(path, params=params, token=self._bearer(fresh=True))
        if response.status_code != 200:
            raise DirectoryUnavailable(
                f"Atrium's directory answered {response.status_code} for {path}: {_detail(response)}",
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise DirectoryUnavailable(
                f"Atrium's directory answered {path} with a body that is not JSON."
            ) from exc

    def _get(self, path: str, *, params: dict | None, token: str) -> httpx.Response:
        try:
            return self._client().get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            log.warning("Atrium's directory is unreachable (%s): %s", path, exc)
            raise DirectoryUnavailable(
                f"Atrium's directory at {self.config.machine_url} is unreachable: {type(exc).__name__}: {exc}"
            ) from exc

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    base_url=self.config.machine_url,
                    verify=self._tls_context(),
                    timeout=self.config.timeout,
                    limits=httpx.Limits(max_keepalive_connections=4, keepalive_expiry=30),
                )
            return self._http

    def _tls_context(self) -> ssl.SSLContext:
        # httpx 0.28 drops `cert=` when `verify` is a path: the context carries CA and client cert.
        try:
            context = ssl.create_default_context(cafile=self.config.ca_file)
            context.load_cert_chain(self.config.client_cert, self.config.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise DirectoryUnavailable(
                f"This region's TLS files for Atrium's machine port are missing or unreadable ({exc}): set "
                "REGION_TLS_CA_FILE, REGION_TLS_CLIENT_CERT and REGION_TLS_CLIENT_KEY"
            ) from exc
        return context

    # --- the region's own M2M token --------------------------------------------------------------
    def _bearer(self, *, fresh: bool = False) -> str:
        with self._lock:
            if self._token and not fresh and time.time() < self._token[1]:
                return self._token[0]
            self._token = None
            token, expires_in = self._token_request()
            margin = min(TOKEN_REFRESH_MARGIN_S, expires_in / 2)
            self._token = (token, time.time() + expires_in - margin)
            return token

    def _token_request(self) -> tuple[str, float]:
        config = self.config
        try:
            response = httpx.post(
                config.token_endpoint,
                data={"grant_type": "client_credentials", "scope": SCOPE, "resource": config.machine_url},
                auth=(config.client_id, config.client_secret),
                timeout=config.timeout,
            )
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(
                f"Atrium's token endpoint is unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise DirectoryUnavailable(
                f"Atrium refused this region a directory token ({response.status_code}): {_detail(response)}",
                status=response.status_code,
            )
        try:
            body = response.json()
            token, expires_in = body["access_token"], float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DirectoryUnavailable("Atrium's token endpoint answered 200 without a token.") from exc
        if not isinstance(token, str) or not token or expires_in <= 0:
            raise DirectoryUnavailable("Atrium's token endpoint answered 200 without a usable token.")
        return token, expires_in

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None


def _slug(tenant_slug: str) -> str:
    # Never let a caller's string become another path on Atrium's machine port.
    if not isinstance(tenant_slug, str) or not TENANT_SLUG.match(tenant_slug):
        raise DirectoryUnavailable(f"{tenant_slug!r} is not a tenant slug.")
    return tenant_slug


def _require(body, what: str, **fields: type) -> None:
    if not isinstance(body, dict) or any(not isinstance(body.get(k), t) for k, t in fields.items()):
        raise DirectoryUnavailable(f"Atrium's directory answered the {what} in an unexpected shape.")


def _require_items(items: list, what: str, **fields: type) -> None:
    # Products index these entries (`u["id"]`, `u.get("role") in ...`): junk must not reach them.
    def usable(item) -> bool:
        return isinstance(item, dict) and all(isinstance(item.get(k), t) for k, t in fields.items())

    if not all(usable(i) for i in items):
        raise DirectoryUnavailable(f"Atrium's directory listed {what} in an unexpected shape.")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error_description") or body.get("error") or "")[:200]
    return ""


_client: DirectoryClient | None = None
_client_lock = threading.Lock()


def directory_client() -> DirectoryClient:
    """One client per process (one token, kept-alive connections), rebuilt when its settings
    change (tests point it at their own servers)."""
    global _client
    config = DirectoryConfig.from_settings()
    with _client_lock:
        if _client is None or _client.config != config:
            if _client is not None:
                _client.close()
            _client = DirectoryClient(config)
        return _client
