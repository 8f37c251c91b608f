"""A person's journey in a real browser (Playwright + Debian's Chromium): sign in at Atrium,
open the account, open a region from it without signing in again."""

import pytest
from playwright.sync_api import sync_playwright

from conftest import PASSWORD
from tests.e2e.conftest import provision_into_region

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # test makes around it are still plain synchronous calls (Playwright's documented setting).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        yield context.new_page()
        browser.close()


def test_alice_signs_in_once_and_opens_a_region_from_her_account(
    page, live_server, regions, region_processes, alice, bob, acme
):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[alice])
    # when she signs in at the portal
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # then she lands on her account with its members and regions
    page.wait_for_url(f"{live_server.url}/a/acme/")
    assert page.locator("[data-member='bob@acme.test']").is_visible()
    # when she opens EU from there
    page.click("[data-region='eu']")
    # then EU greets her without a second password prompt
    page.wait_for_url(eu.people_url + "/")
    assert page.get_by_test_id("region-user-email").inner_text() == "alice@acme.test"
    assert page.get_by_test_id("region-tenant").inner_text() == "acme"


def test_alice_adds_an_employee_and_watches_every_badge_turn_synced(
    page, live_server, worker, regions, alice, acme
):
    from tests.e2e.conftest import account_uses

    account_uses(acme, [regions["us"], regions["eu"]])
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/a/acme/")
    page.goto(f"{live_server.url}/a/acme/members/")
    page.fill("#member-add input[name=email]", "erin@acme.test")
    page.fill("#member-add input[name=first_name]", "Erin")
    page.click("button[data-action=add]")
    page.wait_for_url(f"{live_server.url}/a/acme/members/")
    # no reload: htmx refreshes the table until both regions confirmed
    erin = page.locator("tr[data-member='erin@acme.test']")
    for code in ("us", "eu"):
        erin.locator(f"[data-region='{code}'][data-sync-state='synced']").wait_for(timeout=30_000)
    page.locator("#members-table[data-syncing='false']").wait_for(timeout=30_000)
