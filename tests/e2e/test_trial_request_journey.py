"""A member's trial request in a real browser (Playwright + Debian's Chromium), against the portal's
live server, real regional-server processes and a real Celery worker: Acme lets members request
trials; Bob asks for Security Posture in EU from the product page; Alice (owner) gets the mail,
sees the request waiting on the account home, approves it; the worker delivers; Bob opens the
product on the EU regional server. Mail is Django's locmem outbox (the only thing not real)."""

import pytest
from django.core import mail
from django.db.models import F

from accounts.models import Membership
from conftest import PASSWORD
from products.models import Entitlement, TrialRequest
from products.services import product_create
from products.trial_requests import trial_policy_set
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, browser_sign_in, wait_for

pytestmark = pytest.mark.e2e


def sign_in(page, base_url: str, email: str) -> None:
    browser_sign_in(page, base_url, email, PASSWORD)


def synced(tenant: str) -> bool:
    rows = ProvisioningRecord.objects.filter(tenant=tenant)
    return rows.exists() and not rows.exclude(acked_version=F("desired_version")).exists()


def test_a_member_requests_a_trial_an_owner_approves_and_the_member_opens_it_in_eu(
    browser, live_server, worker, regions, region_processes, acme, alice, bob
):
    portal, eu = live_server.url, region_processes["eu"]
    posture = product_create(
        code="posture", name="Security Posture", regions=[regions["us"], regions["eu"]], trial_days=14
    )
    account_uses(acme, [regions["eu"]])
    trial_policy_set(actor=Membership.objects.get(account=acme, user=alice), policy="members_request")
    wait_for(lambda: synced("acme"), timeout=60, what="acme's members in EU")
    mail.outbox.clear()

    # Bob (a member) asks for a trial in EU from the product page
    bobs = browser.new_context().new_page()
    sign_in(bobs, portal, "bob@acme.test")
    bobs.goto(f"{portal}/products/posture/?account=acme")
    form = bobs.locator("form[data-testid=request-trial]")
    form.locator("input[name=regions][value=eu]").check()
    form.locator("textarea[name=note]").fill("We need it for the Q3 audit")
    form.locator("button[type=submit]").click()
    bobs.wait_for_url(f"{portal}/products/posture/?account=acme")
    assert "went to the admins of Acme" in bobs.locator("[role=status]").first.inner_text()
    assert bobs.get_by_test_id("request-pending").is_visible()
    assert not Entitlement.objects.exists()

    # Alice (the owner) is mailed, and sees the request waiting on the account home
    assert [m.to for m in mail.outbox] == [["alice@acme.test"]]
    assert "We need it for the Q3 audit" in mail.outbox[0].body
    alices = browser.new_context().new_page()
    sign_in(alices, portal, "alice@acme.test")
    alices.goto(f"{portal}/a/acme/")
    alices.locator("[data-testid=pending-requests] a").click()
    alices.wait_for_url(f"{portal}/products/trial-requests/?account=acme")
    trial_request = TrialRequest.objects.get()
    alices.click(f"button[data-approve='{trial_request.pk}']")
    alices.wait_for_url(f"{portal}/products/trial-requests/?account=acme")
    assert "trial of Security Posture has started" in alices.locator("[role=status]").first.inner_text()
    assert alices.locator(f"tr[data-request='{trial_request.pk}']").get_attribute("data-status") == "approved"
    trial = Entitlement.objects.get(account=acme, product=posture)
    assert (trial.region.code, trial.status) == ("eu", "trial")

    # the worker delivers the document; Bob opens the product on the EU regional server
    wait_for(lambda: synced("acme"), timeout=60, what="acme's entitlements in EU")
    bobs.goto(f"{eu.people_url}/p/posture/")
    bobs.wait_for_url(f"{eu.people_url}/p/posture/")
    assert bobs.locator("h1").inner_text() == "Security Posture"
    assert any(m.to == ["bob@acme.test"] and "has started" in m.subject for m in mail.outbox)
