"""Single logout: signing out at Atrium ends the person's region sessions within seconds through
OpenID Connect Back-Channel Logout 1.0 — real regional processes (people and machine listeners,
mutual TLS), a real worker minting the logout token at delivery, real HTTP browsers. A region
whose machine listener is down during the logout ends the session when it comes back."""

import time

import httpx
import pytest
from django.db.models import F

from accounts.models import UserSession
from conftest import PASSWORD
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, browser_sign_in, csrf_token_in, portal_login_via, wait_for

pytestmark = pytest.mark.e2e

LOGOUT = ProvisioningRecord.Kind.LOGOUT


def new_browser() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=30)


def provisioned_in(account, regions_) -> None:
    account_uses(account, regions_)
    wait_for(
        lambda: (
            ProvisioningRecord.objects.filter(kind=ProvisioningRecord.Kind.USER).exists()
            and not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()
        ),
        what="members provisioned in the regions",
    )


def region_session_alive(browser: httpx.Client, region) -> bool:
    """The region's home answers 200 for a live session; a logged-out browser is sent to log in."""
    response = browser.get(region.people_url + "/", follow_redirects=False)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def sign_out_at_atrium(browser: httpx.Client, portal_url: str) -> None:
    page = browser.get(f"{portal_url}/accounts/logout/")
    done = browser.post(
        f"{portal_url}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf_token_in(page.text)},
        headers={"Referer": str(page.url)},
    )
    assert "/accounts/login/" in str(done.url), done.url


def test_signing_out_at_atrium_ends_the_eu_session_within_seconds(
    worker, regions, region_processes, live_server, alice, acme
):
    # given alice, provisioned in EU by the ledger, has an EU session opened through Atrium
    eu = region_processes["eu"]
    provisioned_in(acme, [regions["eu"]])
    browser = new_browser()
    landed = portal_login_via(browser, eu.people_url + "/", "alice@acme.test", PASSWORD)
    assert landed.status_code == 200 and 'data-testid="region-user-email">alice@acme.test<' in landed.text
    assert region_session_alive(browser, eu)
    # when she signs out at Atrium
    signed_out_at = time.monotonic()
    sign_out_at_atrium(browser, live_server.url)
    # then within seconds the EU session is gone: the region's page needs a login again
    wait_for(lambda: not region_session_alive(browser, eu), timeout=10, what="the EU session to end")
    assert time.monotonic() - signed_out_at < 10
    again = browser.get(eu.people_url + "/")
    assert "/accounts/login/" in str(again.url)  # at Atrium, whose session ended too
    assert UserSession.objects.get(user=alice).ended_at is not None
    # and the delivered logout leaves no row behind (the ledger does not grow with logouts)
    wait_for(lambda: not ProvisioningRecord.objects.filter(kind=LOGOUT).exists(), what="the logout row to go")


def test_a_region_down_during_the_logout_ends_the_session_when_it_returns(
    worker, regions, region_processes, live_server, alice, acme
):
    eu = region_processes["eu"]
    provisioned_in(acme, [regions["eu"]])
    browser = new_browser()
    portal_login_via(browser, eu.people_url + "/", "alice@acme.test", PASSWORD)
    assert region_session_alive(browser, eu)
    # given EU's machine listener is down (its people listener still serves the session)
    eu.stop("machine")
    try:
        # when she signs out at Atrium
        sign_out_at_atrium(browser, live_server.url)
        row = wait_for(
            lambda: ProvisioningRecord.objects.filter(kind=LOGOUT, attempts__gte=1).first(),
            what="a failed delivery attempt",
        )
        assert row.state == ProvisioningRecord.State.RETRYING
        assert "unreachable" in row.last_error
        # the region has not heard of it yet
        assert region_session_alive(browser, eu)
    finally:
        eu.start("machine")
    # then once EU is back the ledger delivers a freshly minted logout token and the session ends
    wait_for(lambda: not region_session_alive(browser, eu), timeout=30, what="the EU session to end")
    wait_for(lambda: not ProvisioningRecord.objects.filter(kind=LOGOUT).exists(), what="the logout row to go")


def test_an_admin_signing_a_member_out_ends_their_region_sessions(
    worker, regions, region_processes, live_server, alice, bob, acme
):
    eu = region_processes["eu"]
    provisioned_in(acme, [regions["eu"]])
    bobs = new_browser()
    portal_login_via(bobs, eu.people_url + "/", "bob@acme.test", PASSWORD)
    alices = new_browser()
    portal_login_via(alices, eu.people_url + "/", "alice@acme.test", PASSWORD)
    assert region_session_alive(bobs, eu) and region_session_alive(alices, eu)
    # when alice (owner) signs bob out everywhere from the members page
    from accounts.models import Membership

    bob_m = Membership.objects.get(account=acme, user=bob)
    url = f"{live_server.url}/a/acme/members/{bob_m.pk}/sign-out/"
    confirm = alices.get(url)
    assert confirm.status_code == 200
    done = alices.post(
        url, data={"csrfmiddlewaretoken": csrf_token_in(confirm.text)}, headers={"Referer": url}
    )
    assert done.status_code == 200 and "/a/acme/members/" in str(done.url)
    # then bob's EU session ends, alice's stays
    wait_for(lambda: not region_session_alive(bobs, eu), timeout=10, what="bob's EU session to end")
    assert region_session_alive(alices, eu)


def test_in_a_browser_revoking_the_other_session_signs_that_browser_out(browser, live_server, alice, acme):
    # given alice is signed in on two browsers (two contexts share no cookies)
    laptop, phone = browser.new_context().new_page(), browser.new_context().new_page()
    for page in (laptop, phone):
        browser_sign_in(page, live_server.url, "alice@acme.test", PASSWORD)
    # when she opens her sessions page on the laptop and revokes the other one
    laptop.goto(f"{live_server.url}/profile/sessions/")
    assert laptop.locator("[data-testid=current-session]").count() == 1
    other = laptop.locator("tr[data-session]:not([data-current]) button[data-action=revoke]")
    assert other.count() == 1
    other.click()
    laptop.wait_for_url(f"{live_server.url}/profile/sessions/")
    assert laptop.locator("tr[data-session]").count() == 1
    # then the phone's next page asks it to sign in, and the laptop stays signed in
    phone.goto(f"{live_server.url}/profile/")
    assert "/accounts/login/" in phone.url
    laptop.goto(f"{live_server.url}/profile/")
    assert laptop.url == f"{live_server.url}/profile/"
