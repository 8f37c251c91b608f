"""OpenID Connect as the spec says, checked from outside as a relying party would (issue 11):
real HTTP against the portal's live server (`max_age`, `auth_time`, `prompt`, code replay), and
step-up with a real EU region process whose tenant's pushed policy requires MFA."""

import time
from base64 import b32encode
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pyotp
import pytest
import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.oidc_helpers import basic_auth, confidential_client
from conftest import PASSWORD, pkce_pair
from regions import client as region_client
from tests.e2e.conftest import csrf_token_in, provision_into_region

pytestmark = pytest.mark.e2e

RP_ID = "rp-outside"
RP_SECRET = "rp-outside-secret-0123456789"
REDIRECT = "https://rp.test/callback"
LOA_2 = "urn:atrium:loa:2"


@pytest.fixture
def rp(transactional_db):
    return confidential_client(
        RP_ID, RP_SECRET, grant_types=["authorization_code", "refresh_token"],
        scopes=["openid", "email", "profile"], redirect_uris=[REDIRECT],
    )  # fmt: skip


@pytest.fixture
def portal(live_server, settings):
    # The issuer (and the endpoints discovery names) is this live server, as the regions' is.
    settings.ATRIUM_ISSUER = live_server.url
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


class RelyingParty:
    """What a relying party does: discovery, the authorize redirect, the token exchange, the
    ID token verified against the published JWKS, userinfo."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.discovery = httpx.get(f"{base_url}/.well-known/openid-configuration", timeout=10).json()
        self.jwks = jwt.PyJWKClient(self.discovery["jwks_uri"])

    def authorize_url(self, challenge: str, **extra) -> str:
        params = {
            "response_type": "code", "client_id": RP_ID, "redirect_uri": REDIRECT, "scope": "openid email",
            "state": "s-1", "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256", **extra,
        }  # fmt: skip
        return f"{self.discovery['authorization_endpoint']}?{urlencode(params)}"

    def exchange(self, code: str, verifier: str) -> httpx.Response:
        return httpx.post(
            self.discovery["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
            headers={"Authorization": basic_auth(RP_ID, RP_SECRET)}, timeout=10,
        )  # fmt: skip

    def id_token_claims(self, id_token: str) -> dict:
        key = self.jwks.get_signing_key_from_jwt(id_token).key
        return jwt.decode(
            id_token, key, algorithms=["RS256"], audience=RP_ID, issuer=self.discovery["issuer"]
        )

    def userinfo(self, access_token: str) -> httpx.Response:
        return httpx.get(
            self.discovery["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )


def answer_of(response: httpx.Response) -> dict:
    """The authorization response at the RP's redirect URI."""
    assert response.status_code == 302, response.text[:300]
    location = response.headers["location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def sign_in(browser: httpx.Client, email: str) -> None:
    page = browser.get("/accounts/login/")
    done = browser.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": csrf_token_in(page.text), "login": email, "password": PASSWORD},
        headers={"Referer": str(page.url)},
    )
    assert done.status_code == 302 and "/accounts/login/" not in done.headers["location"], done.text[:300]


def reauthenticate(browser: httpx.Client, location: str) -> httpx.Response:
    assert urlparse(location).path == "/accounts/reauthenticate/", location
    page = browser.get(location)
    return browser.post(
        location,
        data={"csrfmiddlewaretoken": csrf_token_in(page.text), "password": PASSWORD},
        headers={"Referer": str(page.url)},
    )


def test_max_age_1_forces_a_fresh_login_and_the_id_token_carries_its_auth_time(
    live_server, portal, rp, alice
):
    relying_party = RelyingParty(live_server.url)
    assert {"auth_time", "amr", "acr", "sid"} <= set(relying_party.discovery["claims_supported"])
    sign_in(portal, alice.email)
    verifier, challenge = pkce_pair()
    url = relying_party.authorize_url(challenge, max_age="1")
    # when the RP asks with max_age=1 once the session is a few seconds old
    with time_machine.travel(time.time() + 5, tick=True):
        asked = portal.get(url)
        assert asked.status_code == 302
        fresh_at = int(time.time())
        back = reauthenticate(portal, asked.headers["location"])
        assert back.status_code == 302
        code = answer_of(portal.get(back.headers["location"]))["code"]
        body = relying_party.exchange(code, verifier).json()
        # then the ID token names the fresh login
        claims = relying_party.id_token_claims(body["id_token"])
    assert fresh_at <= claims["auth_time"] <= fresh_at + 3
    assert claims["amr"] == ["pwd"] and claims["acr"] == "urn:atrium:loa:1" and claims["sid"]


def test_a_replayed_code_is_refused_and_revokes_the_first_access_token(live_server, portal, rp, alice):
    relying_party = RelyingParty(live_server.url)
    sign_in(portal, alice.email)
    verifier, challenge = pkce_pair()
    code = answer_of(portal.get(relying_party.authorize_url(challenge)))["code"]
    first = relying_party.exchange(code, verifier)
    assert first.status_code == 200, first.text
    access_token = first.json()["access_token"]
    assert relying_party.userinfo(access_token).status_code == 200
    # when the code is presented a second time
    replay = relying_party.exchange(code, verifier)
    # then it is refused and the token issued from it no longer works
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert relying_party.userinfo(access_token).status_code == 401


def test_prompt_none_and_prompt_login_keep_working(live_server, portal, rp, alice):
    relying_party = RelyingParty(live_server.url)
    # prompt=none without a session: login_required, never a page
    _, challenge = pkce_pair()
    assert (
        answer_of(portal.get(relying_party.authorize_url(challenge, prompt="none")))["error"]
        == "login_required"
    )
    sign_in(portal, alice.email)
    verifier, challenge = pkce_pair()
    relying_party.exchange(answer_of(portal.get(relying_party.authorize_url(challenge)))["code"], verifier)
    # prompt=none with a session that granted the RP before: a code, silently
    verifier, challenge = pkce_pair()
    silent = answer_of(portal.get(relying_party.authorize_url(challenge, prompt="none")))
    assert relying_party.exchange(silent["code"], verifier).status_code == 200
    # prompt=none with max_age=0: the login is too old, and no page is shown
    _, challenge = pkce_pair()
    stale = answer_of(portal.get(relying_party.authorize_url(challenge, prompt="none", max_age="0")))
    assert stale["error"] == "login_required" and stale["state"] == "s-1"
    # prompt=login: the password again, then the code
    verifier, challenge = pkce_pair()
    back = reauthenticate(
        portal, portal.get(relying_party.authorize_url(challenge, prompt="login")).headers["location"]
    )
    assert (
        relying_party.exchange(answer_of(portal.get(back.headers["location"]))["code"], verifier).status_code
        == 200
    )


# --- step-up with a real region -------------------------------------------------------------------
def eu_requires_mfa(eu, tenant: str) -> None:
    """The tenant's policy as Atrium pushes it (regions/client.py, the only seam to regions)."""
    document = {"tenant": tenant, "mfa_required": True, "session_lifetime_seconds": None,
                "idle_timeout_seconds": None, "sso_only": False}  # fmt: skip
    assert (
        region_client.tenant_policy_put(
            machine_url=eu.machine_url, tenant=tenant, document=document, version=1
        )
        == 1
    )


def current_code(device: TOTPDevice) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).now()


def test_the_region_refuses_a_login_without_mfa_and_the_step_up_succeeds(
    live_server, portal, regions, region_processes, alice, acme
):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[alice])
    eu_requires_mfa(eu, "acme")
    # alice signed in at Atrium with her password, and set up an authenticator app since
    sign_in(portal, alice.email)
    device = TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True)
    # when she opens EU
    page = portal.get(eu.people_url + "/?from=test", follow_redirects=True)
    # then EU did not take the password-only login: it asked Atrium again for MFA ...
    hops = [str(hop.url) for hop in page.history]
    assert any("/oidc/callback/" in hop for hop in hops)
    assert any("/identity/o/authorize" in hop and "acr_values=urn%3Aatrium%3Aloa%3A2" in hop for hop in hops)
    assert urlparse(str(page.url)).path == "/accounts/mfa/verify/", page.url
    assert portal.get(eu.people_url + "/").status_code == 302  # no EU session yet
    # ... and once she enters her code, she lands in EU, where she was going
    landed = portal.post(
        "/accounts/mfa/verify/",
        data={"csrfmiddlewaretoken": csrf_token_in(page.text), "code": current_code(device),
              "next": parse_qs(urlparse(str(page.url)).query)["next"][0]},
        headers={"Referer": str(page.url)}, follow_redirects=True,
    )  # fmt: skip
    assert str(landed.url) == eu.people_url + "/?from=test", landed.url
    assert landed.status_code == 200
    home = portal.get(eu.people_url + "/")
    assert 'data-testid="region-user-email">alice@acme.test<' in home.text


def test_someone_without_mfa_is_sent_to_set_it_up_and_gets_no_region_session(
    live_server, portal, regions, region_processes, alice, acme
):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[alice])
    eu_requires_mfa(eu, "acme")
    sign_in(portal, alice.email)
    page = portal.get(eu.people_url + "/", follow_redirects=True)
    assert urlparse(str(page.url)).path == "/accounts/mfa/"
    assert portal.get(eu.people_url + "/").status_code == 302


def test_a_tenant_without_the_policy_admits_the_password_login(
    live_server, portal, regions, region_processes, alice, acme
):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[alice])
    sign_in(portal, alice.email)
    page = portal.get(eu.people_url + "/", follow_redirects=True)
    assert str(page.url) == eu.people_url + "/"
    assert 'data-testid="region-user-email">alice@acme.test<' in page.text
    assert not any("acr_values" in str(hop.url) for hop in page.history)
