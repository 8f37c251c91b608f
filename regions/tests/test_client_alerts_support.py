"""A region's machine port as a real mTLS server on loopback, answering Security Posture's alerts
summary (contract C) as a test says — well, badly, slowly — and recording what Atrium sent.
Support for test_client_alerts.py and products/tests/test_alerts*.py; it holds no tests.

The real regional server answers it in tests/e2e/test_cross_product_alerts.py; this stand-in
exists for the answers a real region should never give."""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings as django_settings

from accounts.client_secrets import client_secret_hash
from regions import client as region_client
from regions.models import Region
from regions.pki import PkiPaths, pki_ensure
from regions.services import provisioner_client_register

M2M_SECRET = "test-provisioner-secret-alerts-0123456789"
SUMMARY = "/tenant/v1/{tenant}/products/posture/alerts/summary"


class FakeRegionMachinePort:
    def __init__(self, pki: PkiPaths, code: str):
        self.replies: dict[str, tuple[int, object]] = {}  # tenant slug → (status, body)
        self.requests: list[dict] = []
        self.delay = 0.0
        self.unauthorized = 0  # answer this many requests 401 first (a rotated key)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = jwt.decode(token, options={"verify_signature": False}) if token else {}
                fake.requests.append({"path": self.path, "claims": claims, "token": token})
                if fake.delay:
                    time.sleep(fake.delay)  # a slow region; the client's timeout is under test
                if fake.unauthorized:
                    fake.unauthorized -= 1
                    return self._reply(401, {"status": "401", "detail": "Invalid token: expired."})
                tenant = self.path.split("/")[3]
                default = (404, {"status": "404", "detail": f"No tenant {tenant} in this region."})
                return self._reply(*fake.replies.get(tenant, default))

            def _reply(self, status, body):
                raw = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                try:
                    self.end_headers()
                    self.wfile.write(raw)
                except (ssl.SSLError, OSError):
                    pass  # the client gave up waiting (the timeout test): nobody reads the answer

            def log_message(self, *args):
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.server_cert(code)), str(pki.server_key(code)))
        context.verify_mode = ssl.CERT_REQUIRED
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.machine_url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def summary(self, slug: str, *, high=0, medium=0, low=0, status: int = 200, **overrides) -> None:
        """Answer `slug`'s summary with these counts (`overrides` replace fields of the body)."""
        body = {
            "tenant": slug,
            "open": high + medium + low,
            "by_severity": {"high": high, "medium": medium, "low": low},
            "url": "http://region.test/p/posture/alerts/",
            **overrides,
        }
        self.replies[slug] = (status, body)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pki(tmp_path):
    paths = PkiPaths(tmp_path / "pki")
    pki_ensure(paths=paths, regions=[("eu", "https://127.0.0.1:1"), ("us", "https://127.0.0.1:1")])
    return paths


@pytest.fixture
def atrium_for_regions(live_server, settings, pki, tmp_path):
    """Atrium's real token endpoint (the live server) and TLS files, as the worker has them."""
    settings.ATRIUM_ISSUER = live_server.url
    settings.ATRIUM_SECRETS_DIR = tmp_path
    settings.ATRIUM_M2M_CLIENT_SECRET = M2M_SECRET
    settings.ATRIUM_TLS_CA_FILE = pki.ca_cert
    settings.ATRIUM_TLS_CLIENT_CERT = pki.client_cert
    settings.ATRIUM_TLS_CLIENT_KEY = pki.client_key
    provisioner_client_register(client_id=django_settings.ATRIUM_M2M_CLIENT_ID, secrets_dir=tmp_path)
    Client.objects.filter(id=django_settings.ATRIUM_M2M_CLIENT_ID).update(
        secret=client_secret_hash(M2M_SECRET)
    )
    region_client.m2m_tokens_forget()
    region_client.http_clients_close()
    yield live_server
    region_client.m2m_tokens_forget()
    region_client.http_clients_close()


@pytest.fixture
def fake_eu(pki, atrium_for_regions):
    fake = FakeRegionMachinePort(pki, "eu")
    fake.region = Region.objects.create(
        code="eu", name="European Union", people_url="http://127.0.0.1:8102", machine_url=fake.machine_url
    )
    yield fake
    fake.stop()
