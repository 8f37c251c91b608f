"""A stand-in for Atrium's side of the directory (test support, not collected).

Two real servers on loopback: Atrium's token endpoint (plain HTTP, as in the demo) and Atrium's
machine port (HTTPS with mutual TLS: a trustme CA issues the server certificate and the region's
client certificate; a client without one fails the handshake). The machine port serves contract A
from the data a test sets, accepts only the newest token the token endpoint minted, and records
every request. The kit's directory client talks to them unchanged."""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import trustme
from django.test import override_settings

CATALOG = {
    "portal_url": "http://portal.test",
    "regions": [
        {"code": "us", "name": "United States", "people_url": "http://127.0.0.1:8101"},
        {"code": "eu", "name": "Europe", "people_url": "http://127.0.0.1:8102"},
        {"code": "au", "name": "Australia", "people_url": "http://127.0.0.1:8103"},
    ],
    "products": [
        {"code": "backup", "name": "Backup & Recovery", "tagline": "t", "icon": "i", "coming_soon": False,
         "regions": ["us", "eu", "au"]},
        {"code": "posture", "name": "Security Posture", "tagline": "t", "icon": "i", "coming_soon": False,
         "regions": ["us", "eu"]},
        {"code": "archiver", "name": "Archiver", "tagline": "t", "icon": "i", "coming_soon": False,
         "regions": ["us", "eu", "au"]},
        {"code": "insights", "name": "Data Insights", "tagline": "t", "icon": "i", "coming_soon": True,
         "regions": []},
    ],
}  # fmt: skip


def tenant_document(slug: str = "acme", products=(), regions=("us", "eu")) -> dict:
    by_code = {r["code"]: r for r in CATALOG["regions"]}
    return {
        "tenant": slug,
        "name": slug.title(),
        "regions": [by_code[c] for c in regions],
        "products": [{"code": c, "name": c.title(), "status": s, "region": r} for c, s, r in products],
    }


class _Server:
    def __init__(self, handler, ssl_context: ssl.SSLContext | None = None):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeAtrium:
    """`tokens_minted`, `token_requests` and `requests` record what the region sent; set
    `routes[path] = (status, body)` (body: dict → JSON, str → as is) or `users_pages`, and
    `token_reply` to change the token endpoint's answer, `delay` to make the machine port slow."""

    def __init__(self, tmp_path: Path):
        self.ca = trustme.CA()
        self.dir = tmp_path
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        client = self.ca.issue_cert("region-us-client")
        client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
        client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
        self.routes: dict[str, tuple[int, object]] = {}
        self.users_pages: dict[str | None, dict] | None = None
        self.token_reply: tuple[int, object] | None = None
        self.token_lifetime = 3600
        self.tokens_minted: list[str] = []
        self.token_requests: list[dict] = []
        self.requests: list[dict] = []
        self.delay = 0.0
        self.revoked: set[str] = set()
        self._lock = threading.Lock()
        fake = self

        class TokenHandler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.token_requests.append(
                        {"form": form, "authorization": self.headers.get("Authorization")}
                    )
                    if fake.token_reply is not None:
                        status, body = fake.token_reply
                    else:
                        token = f"token-{len(fake.tokens_minted) + 1}"
                        fake.tokens_minted.append(token)
                        status, body = 200, {"access_token": token, "token_type": "Bearer",
                                             "expires_in": fake.token_lifetime}  # fmt: skip
                _reply(self, status, body)

            def log_message(self, *args):
                pass

        class MachineHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                authorization = self.headers.get("Authorization", "")
                with fake._lock:
                    fake.requests.append({"path": url.path, "query": query, "authorization": authorization})
                    newest = fake.tokens_minted[-1] if fake.tokens_minted else None
                    valid = authorization == f"Bearer {newest}" and newest not in fake.revoked
                if fake.delay:
                    time.sleep(fake.delay)  # the server is slow; the client's timeout is under test
                if not valid:
                    return _reply(
                        self, 401, {"error": "invalid_token", "detail": "Unknown or expired token."}
                    )
                if url.path in fake.routes:
                    return _reply(self, *fake.routes[url.path])
                if url.path.endswith("/users") and fake.users_pages is not None:
                    page = fake.users_pages.get(query.get("cursor"))
                    if page is None:
                        return _reply(self, 400, {"error": "invalid_cursor", "detail": "Bad cursor."})
                    return _reply(self, 200, page)
                return _reply(self, 404, {"error": "not_found", "detail": "No such tenant."})

            def log_message(self, *args):
                pass

        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(server_context)
        self.ca.configure_trust(server_context)
        server_context.verify_mode = ssl.CERT_REQUIRED
        self.token_server = _Server(TokenHandler)
        self.machine_server = _Server(MachineHandler, server_context)
        self.token_url = f"http://127.0.0.1:{self.token_server.port}/identity/o/api/token"
        self.machine_url = f"https://127.0.0.1:{self.machine_server.port}"

    def serve_tenant(self, document: dict) -> None:
        self.routes[f"/directory/v1/tenants/{document['tenant']}"] = (200, document)

    def serve_catalog(self, catalog: dict = CATALOG) -> None:
        self.routes["/directory/v1/catalog"] = (200, catalog)

    def settings(self, **extra):
        """Points the region's directory client at this Atrium."""
        return override_settings(
            **{
                "ATRIUM_MACHINE_URL": self.machine_url,
                "ATRIUM_TOKEN_ENDPOINT": self.token_url,
                "OIDC_RP_CLIENT_ID": "region-us",
                "OIDC_RP_CLIENT_SECRET": "region-us-secret",
                "REGION_TLS_CA_FILE": self.dir / "ca.pem",
                "REGION_TLS_CLIENT_CERT": self.dir / "client.pem",
                "REGION_TLS_CLIENT_KEY": self.dir / "client.key",
                **extra,
            }
        )

    def stop(self):
        self.token_server.stop()
        self.machine_server.stop()


def _reply(handler: BaseHTTPRequestHandler, status: int, body) -> None:
    raw = (json.dumps(body) if not isinstance(body, str) else body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)
