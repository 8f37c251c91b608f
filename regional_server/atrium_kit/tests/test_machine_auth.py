"""Machine tokens on the machine port: trusted clients only, and Atrium's key set cached with an
expiry. A tiny HTTP server on loopback plays Atrium's JWKS endpoint (real HTTP); tests change the
key set it serves and count how often the region fetched it."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import RequestFactory, override_settings

from atrium_kit.machine_auth import MachineTokenError, MachineTokenMiddleware, machine_principal_from

KEY_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class FakeAtriumJwks:
    """Serves {"keys": [...]} at /.well-known/jwks.json and counts the requests."""

    def __init__(self):
        self.keys: list[dict] = []
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests += 1
                body = json.dumps({"keys": fake.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def atrium():
    fake = FakeAtriumJwks()
    fake.keys = [public_jwk(KEY_1, "k1")]
    yield fake
    fake.stop()


def jwks_settings(atrium, *, cache_seconds: float = 3600, refetch_seconds: float = 3600):
    return override_settings(
        ATRIUM_JWKS_URL=atrium.url,
        ATRIUM_JWKS_CACHE_SECONDS=cache_seconds,
        ATRIUM_JWKS_REFETCH_SECONDS=refetch_seconds,
    )


def machine_token(key=KEY_1, kid: str = "k1", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.ATRIUM_ISSUER,
        "aud": settings.REGION_MACHINE_URL,
        "client_id": "atrium-provisioner",
        "scope": "scim",
        "token_use": "access",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def authenticate(token: str):
    return machine_principal_from(f"Bearer {token}", required_scope="scim")


def refusal(token: str) -> MachineTokenError:
    with pytest.raises(MachineTokenError) as caught:
        authenticate(token)
    return caught.value


def wait_for(predicate, *, timeout: float = 10, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- trusted clients (issue 7 item 1) ---------------------------------------------------------
def test_the_provisioners_token_is_accepted(atrium):
    with jwks_settings(atrium):
        principal = authenticate(machine_token())
    assert principal.client_id == "atrium-provisioner"
    assert "scim" in principal.scopes


def test_a_well_formed_token_of_an_untrusted_client_is_403(atrium):
    with jwks_settings(atrium):
        error = refusal(machine_token(client_id="customer-app"))
    assert error.status == 403
    assert "not trusted" in error.detail


def test_a_token_naming_no_client_is_403(atrium):
    token = machine_token()
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["client_id"]
    with jwks_settings(atrium):
        assert refusal(jwt.encode(claims, KEY_1, algorithm="RS256", headers={"kid": "k1"})).status == 403


def test_the_trusted_client_list_is_configurable(atrium):
    with jwks_settings(atrium), override_settings(REGION_TRUSTED_CLIENT_IDS=frozenset({"other-provisioner"})):
        assert authenticate(machine_token(client_id="other-provisioner")).client_id == "other-provisioner"
        assert refusal(machine_token(client_id="atrium-provisioner")).status == 403


def test_a_trusted_client_without_the_paths_scope_is_403(atrium):
    with jwks_settings(atrium):
        error = refusal(machine_token(scope="tenant"))
    assert error.status == 403
    assert "scope 'scim'" in error.detail


def test_the_middleware_answers_an_untrusted_client_with_a_scim_error(atrium):
    request = RequestFactory().get(
        "/scim/v2/acme/Users", HTTP_AUTHORIZATION=f"Bearer {machine_token(client_id='customer-app')}"
    )
    with jwks_settings(atrium):
        response = MachineTokenMiddleware(lambda r: pytest.fail("the view must not run"))(request)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/scim+json"
    assert json.loads(response.content)["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert json.loads(response.content)["status"] == "403"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_the_middleware_answers_a_forged_token_with_401(atrium):
    request = RequestFactory().get("/scim/v2/acme/Users", HTTP_AUTHORIZATION=f"Bearer {machine_token(KEY_2)}")
    with jwks_settings(atrium):
        response = MachineTokenMiddleware(lambda r: pytest.fail("the view must not run"))(request)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


# --- the key-set cache (issue 7 item 6) -------------------------------------------------------
def test_keys_are_fetched_once_while_the_cache_is_fresh(atrium):
    with jwks_settings(atrium):
        for _ in range(5):
            authenticate(machine_token())
    assert atrium.requests == 1


def test_a_removed_key_is_trusted_only_until_the_cache_expires(atrium):
    with jwks_settings(atrium, cache_seconds=0.3, refetch_seconds=3600):
        authenticate(machine_token())
        # when Atrium rotates k1 out
        atrium.keys = [public_jwk(KEY_2, "k2")]
        # then, once the cached set has expired, a k1 token is refused
        wait_for(lambda: _refused(machine_token()), what="the removed key to be refused")
        assert refusal(machine_token()).status == 401
        # and the new key works
        assert authenticate(machine_token(KEY_2, "k2")).client_id == "atrium-provisioner"


def test_a_removed_key_is_refused_at_once_without_a_cache(atrium):
    with jwks_settings(atrium, cache_seconds=0):
        authenticate(machine_token())
        atrium.keys = [public_jwk(KEY_2, "k2")]
        assert "does not publish" in refusal(machine_token()).detail


def test_an_unknown_kid_refetches_the_keys_once(atrium):
    with jwks_settings(atrium, refetch_seconds=0):
        authenticate(machine_token())
        # when Atrium rotates a new key in and signs with it
        atrium.keys = [public_jwk(KEY_1, "k1"), public_jwk(KEY_2, "k2")]
        # then the first token with the new kid is accepted after one refetch
        assert authenticate(machine_token(KEY_2, "k2")).client_id == "atrium-provisioner"
    assert atrium.requests == 2


def test_a_flood_of_unknown_kids_within_the_refetch_interval_never_reaches_atrium(atrium):
    with jwks_settings(atrium, refetch_seconds=3600):
        authenticate(machine_token())
        errors = [refusal(machine_token(KEY_2, f"bogus-{i}")) for i in range(25)]
        # the real key still works from the cache
        authenticate(machine_token())
    assert {e.status for e in errors} == {401}
    # the fetch that filled the cache opened the interval: no bogus kid reached Atrium
    assert atrium.requests == 1


def test_an_unreachable_atrium_is_503_and_not_retried_on_every_request(atrium):
    url = atrium.url
    atrium.stop()
    with override_settings(
        ATRIUM_JWKS_URL=url, ATRIUM_JWKS_CACHE_SECONDS=3600, ATRIUM_JWKS_REFETCH_SECONDS=3600
    ):
        assert refusal(machine_token()).status == 503
        assert "unreachable a moment ago" in str(_cause(machine_token()))


def _refused(token: str) -> bool:
    try:
        authenticate(token)
    except MachineTokenError:
        return True
    return False


def _cause(token: str):
    with pytest.raises(MachineTokenError) as caught:
        authenticate(token)
    return caught.value.__cause__
