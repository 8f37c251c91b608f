"""The region checks the ID token's `amr` against its tenant's pushed policy and asks Atrium for
step-up (`acr_values=urn:atrium:loa:2`) when it falls short (issue 11).

Atrium's token endpoint and JWKS are a small real HTTP server here (the end-to-end suite runs
the same journey against Atrium itself: tests/e2e/test_oidc_spec.py); the region's views,
backend, sessions and policy rows are all real."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import override_settings

from atrium_kit.auth import AMR_SESSION_KEY, LOA_MFA, STEP_UP_SESSION_KEY, AtriumOIDCBackend, amr_of
from atrium_kit.policy import tenant_policy_put
from atrium_kit.services import user_upsert_local

pytestmark = pytest.mark.django_db

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]


class FakeOP:
    """Atrium's token endpoint and JWKS: answers each code with an ID token carrying `amr`."""

    def __init__(self):
        self.amr: object = ["pwd"]
        self.sub = ""
        self.nonce = ""
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body: dict):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
                self._json({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._json({"id_token": op.id_token(), "access_token": "at", "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": settings.ATRIUM_ISSUER, "aud": settings.OIDC_RP_CLIENT_ID, "sub": self.sub, "iat": now,
            "exp": now + 300, "nonce": self.nonce, "sid": "sid-1", "amr": self.amr, "auth_time": now,
        }  # fmt: skip
        return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def op():
    fake = FakeOP()
    with override_settings(
        OIDC_OP_TOKEN_ENDPOINT=f"{fake.url}/token", OIDC_OP_JWKS_ENDPOINT=f"{fake.url}/jwks"
    ):
        yield fake
    fake.stop()


@pytest.fixture
def people(client):
    client.defaults["HTTP_HOST"] = PEOPLE_HOST
    return client


@pytest.fixture
def sub():
    return str(uuid.uuid4())


def policy(slug: str, *, mfa_required: bool, version: int = 1) -> None:
    tenant_policy_put(
        tenant_slug=slug,
        document={"tenant": slug, "version": version, "mfa_required": mfa_required,
                  "session_lifetime_seconds": None, "idle_timeout_seconds": None, "sso_only": False},
    )  # fmt: skip


def start_login(people, op, next_url: str = "/") -> dict:
    """The region's login request to Atrium: its query (state, nonce, acr_values ...)."""
    sent = people.get(f"/oidc/authenticate/?next={next_url}")
    assert sent.status_code == 302
    assert sent["Location"].startswith(settings.OIDC_OP_AUTHORIZATION_ENDPOINT + "?")
    query = {k: v[0] for k, v in parse_qs(urlparse(sent["Location"]).query).items()}
    op.nonce = query["nonce"]
    return query


def callback(people, query: dict):
    return people.get(f"/oidc/callback/?code=c-{uuid.uuid4().hex}&state={query['state']}")


def test_a_tenant_requiring_mfa_asks_atrium_for_step_up_and_the_mfa_login_succeeds(people, op, sub):
    # given acme requires MFA and the person signs in at Atrium with a password only
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    policy("acme", mfa_required=True)
    op.sub, op.amr = sub, ["pwd"]
    first = start_login(people, op, "/p/backup/")
    assert "acr_values" not in first
    # when Atrium answers
    answered = callback(people, first)
    # then no session opens, and the region asks again for MFA, keeping where the person was going
    assert "_auth_user_id" not in people.session
    assert answered.status_code == 302
    assert urlparse(answered["Location"]).path == "/oidc/authenticate/"
    assert parse_qs(urlparse(answered["Location"]).query)["next"] == ["/p/backup/"]
    sent = people.get(answered["Location"])
    second = {k: v[0] for k, v in parse_qs(urlparse(sent["Location"]).query).items()}
    assert second["acr_values"] == LOA_MFA
    # and the login with MFA opens the session
    op.nonce, op.amr = second["nonce"], ["pwd", "otp", "mfa"]
    landed = callback(people, second)
    assert landed.status_code == 302 and landed["Location"] == "/p/backup/"
    assert people.session["_auth_user_id"]
    assert people.session[AMR_SESSION_KEY] == ["pwd", "otp", "mfa"]
    assert STEP_UP_SESSION_KEY not in people.session


def test_a_step_up_answered_without_mfa_again_is_refused_without_a_loop(people, op, sub):
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    policy("acme", mfa_required=True)
    op.sub, op.amr = sub, ["pwd"]
    answered = callback(people, start_login(people, op))
    second = {
        k: v[0] for k, v in parse_qs(urlparse(people.get(answered["Location"])["Location"]).query).items()
    }
    op.nonce = second["nonce"]
    refused = callback(people, second)
    assert refused["Location"] == "/refused/?reason=mfa_required"
    page = people.get(refused["Location"])
    assert page.status_code == 403
    assert b"two-factor authentication" in page.content
    assert "_auth_user_id" not in people.session
    # a new attempt starts plainly again (and may step up again)
    assert "acr_values" not in start_login(people, op)


@pytest.mark.parametrize("mfa_required", [False, None])
def test_a_tenant_without_an_mfa_policy_admits_a_password_login(people, op, sub, mfa_required):
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    if mfa_required is not None:
        policy("acme", mfa_required=mfa_required)
    op.sub, op.amr = sub, ["pwd"]
    landed = callback(people, start_login(people, op))
    assert landed["Location"] == "/"
    assert people.session["_auth_user_id"]


@pytest.mark.parametrize("amr", ["mfa", ["pwd", 1], None, {"mfa": True}])
def test_an_amr_that_is_not_a_list_of_strings_counts_as_no_mfa(people, op, sub, amr):
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    policy("acme", mfa_required=True)
    op.sub, op.amr = sub, amr
    answered = callback(people, start_login(people, op))
    assert urlparse(answered["Location"]).path == "/oidc/authenticate/"
    assert "_auth_user_id" not in people.session


def test_switching_into_a_tenant_that_requires_mfa_steps_up_first(people, op, sub):
    # given the person is in acme (no MFA policy) and globex (MFA required), signed in without MFA
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@x.test")
    user_upsert_local(tenant_slug="globex", external_id=sub, email="a@x.test")
    policy("globex", mfa_required=True)
    op.sub, op.amr = sub, ["pwd"]
    assert callback(people, start_login(people, op))["Location"] == "/"
    home = people.get("/")
    assert 'data-testid="region-tenant">acme<' in home.content.decode()
    # when they switch to globex
    switched = people.post("/tenants/globex/switch/")
    # then they sign in again with MFA, and land in globex
    assert urlparse(switched["Location"]).path == "/oidc/authenticate/"
    query = {
        k: v[0] for k, v in parse_qs(urlparse(people.get(switched["Location"])["Location"]).query).items()
    }
    assert query["acr_values"] == LOA_MFA
    op.nonce, op.amr = query["nonce"], ["pwd", "otp", "mfa"]
    assert callback(people, query)["Location"] == "/"
    assert 'data-testid="region-tenant">globex<' in people.get("/").content.decode()


def test_switching_keeps_the_mfa_of_the_session(people, op, sub):
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@x.test")
    user_upsert_local(tenant_slug="globex", external_id=sub, email="a@x.test")
    policy("globex", mfa_required=True)
    op.sub, op.amr = sub, ["pwd", "otp", "mfa"]
    callback(people, start_login(people, op))
    assert people.post("/tenants/globex/switch/")["Location"] == "/"
    assert people.session[AMR_SESSION_KEY] == ["pwd", "otp", "mfa"]


def test_amr_of_reads_only_a_list_of_strings():
    assert amr_of({"amr": ["pwd", "mfa"]}) == ["pwd", "mfa"]
    assert amr_of({"amr": "mfa"}) == []
    assert amr_of({}) == []


def test_the_backend_still_verifies_audience_and_issuer_with_amr_present():
    now = int(time.time())
    token = jwt.encode(
        {"iss": "https://evil.test", "aud": settings.OIDC_RP_CLIENT_ID, "sub": "s", "iat": now, "exp": now + 60,
         "amr": ["mfa"]},
        KEY, algorithm="RS256", headers={"kid": "k1"},
    )  # fmt: skip
    with pytest.raises(Exception, match="(?i)issuer"):
        AtriumOIDCBackend()._verify_jws(token, KEY.public_key())
