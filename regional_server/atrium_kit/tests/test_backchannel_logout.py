"""`POST /oidc/backchannel-logout` on the machine port (OIDC Back-Channel Logout 1.0): logout
tokens signed by a stand-in Atrium JWKS on loopback (real HTTP), real session rows. A good token
ends the named sessions (by sid, or every one of sub's); a replayed, foreign, unsigned, stale or
malformed one is a 400 `invalid_request` and ends nothing."""

import time
import uuid
from importlib import import_module

import jwt
import pytest
from django.conf import settings
from django.test import Client, override_settings

from atrium_kit.backchannel import LOGOUT_EVENT
from atrium_kit.models import LoginSession, LogoutTokenUse
from atrium_kit.services import login_session_record, user_upsert_local
from atrium_kit.tests.test_entitlements_api import MACHINE_STACK
from atrium_kit.tests.test_machine_auth import KEY_1, KEY_2, FakeAtriumJwks, jwks_settings, public_jwk

pytestmark = pytest.mark.django_db

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
ALICE = str(uuid.uuid4())
BOB = str(uuid.uuid4())


@pytest.fixture
def machine():
    atrium = FakeAtriumJwks()
    atrium.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(atrium), override_settings(**MACHINE_STACK):
        yield Client()
    atrium.stop()


def region_session(user, sid: str) -> str:
    """A real server-side session of `user`, recorded as opened from Atrium session `sid`."""
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    login_session_record(session_key=store.session_key, user=user, sid=sid)
    return store.session_key


def alive(key: str) -> bool:
    return SessionStore().exists(key)


def logout_token(*, key=KEY_1, kid="k1", headers=None, drop=(), **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.ATRIUM_ISSUER,
        "aud": settings.OIDC_RP_CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sub": ALICE,
        "sid": "sid-1",
        "events": {LOGOUT_EVENT: {}},
    } | overrides
    for name in drop:
        claims.pop(name)
    return jwt.encode(
        claims, key, algorithm="RS256", headers={"kid": kid, "typ": "logout+jwt", **(headers or {})}
    )


def post(http: Client, token: str):
    return http.post("/oidc/backchannel-logout", {"logout_token": token})


@pytest.fixture
def people():
    alice_acme = user_upsert_local(tenant_slug="acme", external_id=ALICE, email="alice@acme.test")
    alice_globex = user_upsert_local(tenant_slug="globex", external_id=ALICE, email="alice@acme.test")
    bob = user_upsert_local(tenant_slug="acme", external_id=BOB, email="bob@acme.test")
    return {
        "alice_sid1": region_session(alice_acme, "sid-1"),
        "alice_sid2": region_session(alice_acme, "sid-2"),
        "alice_switched": region_session(alice_globex, ""),  # a tenant switch records no sid
        "bob": region_session(bob, "sid-bob"),
    }


def test_a_logout_by_sid_ends_the_sessions_of_that_atrium_session_only(machine, people):
    response = post(machine, logout_token(sid="sid-1"))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert not alive(people["alice_sid1"])
    assert not alive(people["alice_switched"])  # hers, with no sid to tell it apart
    assert alive(people["alice_sid2"])  # another Atrium session of hers stays
    assert alive(people["bob"])
    assert not LoginSession.objects.filter(session_key=people["alice_sid1"]).exists()


def test_a_logout_by_sub_alone_ends_every_session_of_that_person_here(machine, people):
    response = post(machine, logout_token(drop=("sid",)))
    assert response.status_code == 200
    assert response.json() == {"sessions_ended": 3}
    assert not any(alive(people[k]) for k in ("alice_sid1", "alice_sid2", "alice_switched"))
    assert alive(people["bob"])


def test_a_logout_by_sid_alone_ends_that_session(machine, people):
    assert post(machine, logout_token(drop=("sub",), sid="sid-bob")).status_code == 200
    assert not alive(people["bob"])
    assert alive(people["alice_sid1"])


def test_a_logout_for_no_session_here_still_answers_200(machine, people):
    response = post(machine, logout_token(sub=str(uuid.uuid4()), sid="unknown"))
    assert response.status_code == 200
    assert response.json() == {"sessions_ended": 0}
    assert LoginSession.objects.count() == 4


def test_a_replayed_logout_token_is_refused(machine, people):
    token = logout_token(sid="sid-1")
    assert post(machine, token).status_code == 200
    replay = post(machine, token)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"
    assert "used before" in replay.json()["error_description"]


def test_used_token_ids_are_forgotten_once_they_could_not_pass_the_iat_check(machine, people):
    import time_machine

    assert post(machine, logout_token()).status_code == 200
    assert LogoutTokenUse.objects.count() == 1
    with time_machine.travel(time.time() + settings.REGION_LOGOUT_TOKEN_MAX_AGE + 3600, tick=False):
        assert post(machine, logout_token(drop=("sid",), sub=BOB)).status_code == 200
    assert LogoutTokenUse.objects.count() == 1  # only the new one


BAD_TOKENS = {
    "wrong_aud": lambda: logout_token(aud="region-us-other"),
    "wrong_iss": lambda: logout_token(iss="https://evil.test"),
    "signed_by_another_key": lambda: logout_token(key=KEY_2),
    "unknown_kid": lambda: logout_token(key=KEY_2, kid="k9"),
    "missing_events": lambda: logout_token(drop=("events",)),
    "other_event": lambda: logout_token(events={"http://schemas.openid.net/event/other": {}}),
    "event_not_an_object": lambda: logout_token(events={LOGOUT_EVENT: "yes"}),
    "with_nonce": lambda: logout_token(nonce="n-0S6_WzA2Mj"),
    "no_sub_no_sid": lambda: logout_token(drop=("sub", "sid")),
    "no_jti": lambda: logout_token(drop=("jti",)),
    "no_iat": lambda: logout_token(drop=("iat",)),
    "no_exp": lambda: logout_token(drop=("exp",)),
    "expired": lambda: logout_token(iat=int(time.time()) - 400, exp=int(time.time()) - 200),
    "issued_too_long_ago": lambda: logout_token(iat=int(time.time()) - 3600),
    "issued_in_the_future": lambda: logout_token(iat=int(time.time()) + 3600),
    "sid_not_a_string": lambda: logout_token(sid=["sid-1"]),
    "an_id_token_type": lambda: logout_token(headers={"typ": "JWT"}),
    "hs256": lambda: jwt.encode(
        {"iss": settings.ATRIUM_ISSUER, "aud": settings.OIDC_RP_CLIENT_ID, "sub": ALICE},
        "secret-key-of-at-least-32-bytes-0123",
        algorithm="HS256",
        headers={"kid": "k1"},
    ),
    "alg_none": lambda: jwt.encode({"sub": ALICE}, None, algorithm="none"),
    "not_a_jwt": lambda: "not-a-jwt",
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_a_bad_logout_token_is_a_400_and_ends_nothing(machine, people, name):
    response = post(machine, BAD_TOKENS[name]())
    assert response.status_code == 400, (name, response.content)
    assert response.json()["error"] == "invalid_request"
    assert LoginSession.objects.count() == 4
    assert all(alive(key) for key in people.values())


def test_a_request_without_a_logout_token_is_a_400(machine, people):
    response = machine.post("/oidc/backchannel-logout", {})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "logout_token is required"}


def test_a_json_body_is_not_the_form_the_spec_asks_for(machine, people):
    response = machine.post(
        "/oidc/backchannel-logout", {"logout_token": logout_token()}, content_type="application/json"
    )
    assert response.status_code == 400
    assert all(alive(key) for key in people.values())


def test_get_is_not_allowed(machine):
    assert machine.get("/oidc/backchannel-logout").status_code == 405


def test_atrium_keys_unreachable_is_a_retryable_503_not_a_refusal(people):
    with jwks_settings(_closed_jwks()), override_settings(**MACHINE_STACK):
        response = post(Client(), logout_token())
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily_unavailable"}
    assert all(alive(key) for key in people.values())


def _closed_jwks():
    class Closed:
        url = "http://127.0.0.1:9/.well-known/jwks.json"

    return Closed()


def test_the_people_listener_has_no_logout_endpoint(client):
    client.defaults["HTTP_HOST"] = settings.REGION_PEOPLE_URL.split("://", 1)[1]
    assert client.post("/oidc/backchannel-logout", {"logout_token": "x"}).status_code == 404
