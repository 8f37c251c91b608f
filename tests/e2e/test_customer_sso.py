"""Customer SSO end to end: a second Atrium (its own gunicorn, database, key and issuer) is Acme's
IdP; Acme proves its domain through a local DNS server process, connects the IdP, and a person
of that IdP signs in at Atrium (email first → IdP → back), gets a membership just in time that
reaches the EU region; SSO-only refuses the password; an IdP asserting an address outside the
verified domains is refused."""

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import Membership, User
from accounts.models_security import SecurityPolicy
from accounts.models_sso import ClaimedDomain, SSOConnection
from accounts.services import account_create
from conftest import PASSWORD
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, csrf_token_in, stop_process, wait_for
from tests.e2e.idp_instance import (
    IDP_PASSWORD,
    RP_CLIENT_ID,
    RP_CLIENT_SECRET,
    dns_start,
    idp_start,
    idp_stop,
)

pytestmark = pytest.mark.e2e
DORA = "dora@acme.test"  # a person of Acme's IdP, unknown to Atrium before her first login
MALLORY = "mallory@globex.test"  # a person of the same IdP, of a domain Acme never verified


@pytest.fixture(scope="session")
def second_atrium(live_server, tmp_path_factory, django_db_setup):
    run_dir = tmp_path_factory.mktemp("second-atrium")
    instance = idp_start(
        run_dir=run_dir,
        redirect_uri=f"{live_server.url}/accounts/oidc/sso-acme/login/callback/",
        people=[DORA, MALLORY],
    )
    try:
        yield instance
    finally:
        idp_stop(instance)


@pytest.fixture
def acme_sso(second_atrium, regions, worker, alice, client, settings, tmp_path):
    """Acme (EU) proves acme.test through the DNS server process and connects the second Atrium,
    all through its SSO page."""
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = True
    acme = account_create(name="Acme", slug="acme", owner=alice)
    account_uses(acme, [regions["eu"]])
    client.force_login(alice)
    assert client.post("/a/acme/sso/domains/", {"domain": "acme.test"}).status_code == 302
    claim = ClaimedDomain.objects.get(account=acme)
    dns = dns_start(records={claim.record_name: claim.record_value}, run_dir=tmp_path)
    try:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        client.post(f"/a/acme/sso/domains/{claim.pk}/check/")
    finally:
        stop_process(dns.process)
    claim.refresh_from_db()
    assert claim.is_verified and claim.method == "dns", claim.last_check_error
    response = client.post(
        "/a/acme/sso/connection/",
        {"issuer": second_atrium.url, "client_id": RP_CLIENT_ID, "secret": RP_CLIENT_SECRET,
         "default_role": "member", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-3000:]
    client.logout()
    return acme


def _email_first(browser: httpx.Client, base_url: str, email: str) -> httpx.Response:
    page = browser.get(f"{base_url}/accounts/login/")
    return browser.post(
        f"{base_url}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf_token_in(page.text), "login": email, "password": ""},
    )


def _sign_in_at_idp(browser: httpx.Client, idp_login: httpx.Response, email: str) -> httpx.Response:
    return browser.post(
        str(idp_login.url),
        data={"csrfmiddlewaretoken": csrf_token_in(idp_login.text), "login": email, "password": IDP_PASSWORD},
    )


def test_a_person_of_the_customers_idp_signs_in_and_gets_a_membership_that_reaches_the_region(
    acme_sso, second_atrium, live_server, regions
):
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        # given: the email first at Atrium sends her to Acme's IdP with a login hint
        idp_login = _email_first(browser, live_server.url, DORA)
        assert str(idp_login.url).startswith(f"{second_atrium.url}/accounts/login/"), idp_login.url
        authorize = next(r for r in idp_login.history if "/identity/o/authorize" in str(r.url))
        assert parse_qs(urlparse(str(authorize.url)).query)["login_hint"] == [DORA]
        # when: she signs in there
        back = _sign_in_at_idp(browser, idp_login, DORA)
    # then: she is back at Atrium, signed in, a member of Acme with the default role
    assert back.status_code == 200, second_atrium.log_tail()
    assert str(back.url).startswith(live_server.url), back.url
    dora = User.objects.get(email=DORA)
    assert not dora.has_usable_password()
    assert Membership.objects.get(account=acme_sso, user=dora).role == Membership.Role.MEMBER
    assert SocialAccount.objects.get(user=dora).provider == "sso-acme"
    assert dora.emailaddress_set.get().verified
    # ... and the membership reaches EU through the ledger
    wait_for(
        lambda: ProvisioningRecord.objects.filter(
            object_key=str(dora.public_id), region=regions["eu"], state=ProvisioningRecord.State.SYNCED
        ).exists(),
        timeout=30,
        what="dora synced in EU",
    )
    remote = region_client.scim_user_find(
        machine_url=regions["eu"].machine_url, tenant="acme", external_id=str(dora.public_id)
    )
    assert remote is not None and remote.user_name.lower() == DORA and remote.active


def test_sso_only_refuses_the_password_form_for_the_verified_domain(acme_sso, live_server, alice):
    SecurityPolicy.objects.create(account=acme_sso, sso_only=True)
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(f"{live_server.url}/accounts/login/")
        refused = browser.post(
            f"{live_server.url}/accounts/login/",
            data={
                "csrfmiddlewaretoken": csrf_token_in(page.text),
                "login": alice.email,
                "password": PASSWORD,
            },
        )
        assert refused.status_code == 200
        assert "single sign-on only" in refused.text
        assert browser.get(f"{live_server.url}/a/acme/").url.path == "/accounts/login/"


def test_an_idp_asserting_an_email_outside_the_verified_domains_is_refused(
    acme_sso, second_atrium, live_server
):
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        idp_login = _email_first(browser, live_server.url, DORA)
        # The IdP signs in someone else: an address of a domain Acme never verified.
        refused = _sign_in_at_idp(browser, idp_login, MALLORY)
    assert refused.status_code == 403
    assert "globex.test is not one of them" in refused.text
    assert not User.objects.filter(email=MALLORY).exists()
    assert not SocialAccount.objects.exists()
    assert SSOConnection.objects.get(account=acme_sso).enabled


def test_in_a_real_browser_the_email_alone_leads_through_the_idp_back_into_the_account(
    acme_sso, second_atrium, live_server, page
):
    # given: the login page, only the work email typed (no password: SSO)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", DORA)
    page.click("button[type=submit]")
    # when: the IdP (the second Atrium) asks for her password there, hinted with her email
    page.wait_for_url(f"{second_atrium.url}/accounts/login/**")
    assert "login_hint=dora%40acme.test" in page.url or "login_hint%3Ddora%2540acme.test" in page.url
    page.fill("input[name=login]", DORA)
    page.fill("input[name=password]", IDP_PASSWORD)
    page.click("button[type=submit]")
    # then: back at Atrium, signed in as her, in Acme
    page.wait_for_url(f"{live_server.url}/**")
    page.goto(f"{live_server.url}/a/acme/")
    assert page.url == f"{live_server.url}/a/acme/"
    assert "Acme" in page.content()
    assert Membership.objects.filter(account=acme_sso, user__email=DORA, role="member").exists()
