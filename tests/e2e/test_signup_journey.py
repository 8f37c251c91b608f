"""Issue 9's journey in a real browser (Playwright + Debian's Chromium), against the portal's
live server, real regional-server processes (people and mTLS machine listeners) and a real
Celery worker: a visitor signs up, opens the verification link from the mail (Django's locmem
outbox: the only thing not real), names the company and its home region, lands on the catalog,
starts a free trial of Security Posture in EU and opens it on the EU regional server, signed in
there through Atrium without typing a password again."""

import re

import pytest
from django.core import mail
from django.db.models import F

from accounts.models import Account, Membership
from products.models import Entitlement
from products.services import product_create
from regions.models import AccountRegion, ProvisioningRecord
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

EMAIL = "dana@initrode.test"
PASSWORD = "a-long-and-unusual-passphrase-77"
LINK = re.compile(r"(https?://\S+/accounts/confirm-email/[^/\s]+/)")


@pytest.fixture
def catalog(regions):
    """What the catalog offers in this test: posture in US and EU with a 14-day trial."""
    return {
        "posture": product_create(
            code="posture", name="Security Posture", regions=[regions["us"], regions["eu"]], trial_days=14,
            tagline="Findings across your backups",
        ),
        "backup": product_create(code="backup", name="Backup & Recovery", regions=list(regions.values()),
                                 trial_days=30),
    }  # fmt: skip


def synced(tenant: str) -> bool:
    rows = ProvisioningRecord.objects.filter(tenant=tenant)
    return rows.exists() and not rows.exclude(acked_version=F("desired_version")).exists()


def test_a_visitor_signs_up_starts_a_trial_in_eu_and_opens_the_product_there(
    page, live_server, worker, regions, region_processes, catalog
):
    portal, eu = live_server.url, region_processes["eu"]
    mail.outbox.clear()

    # a visitor finds "Sign up" on the portal and signs up with email and password
    page.goto(f"{portal}/accounts/login/")
    page.click("a[data-nav=signup]")
    page.wait_for_url(f"{portal}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{portal}/accounts/confirm-email/")

    # the verification mail carries the link; the browser opens it and confirms
    mails = wait_for(lambda: [m for m in mail.outbox if m.to == [EMAIL]], what="the verification mail")
    link = LINK.search(mails[0].body).group(1)
    assert link.startswith(portal)
    page.goto(link)
    page.click("form button[type=submit]")

    # onboarding: company name and home region
    page.wait_for_url(f"{portal}/welcome/")
    # (a submit without a name is a form error on the same page)
    page.click("button[data-action=signup-complete]")
    assert page.locator("[data-error=company_name]").inner_text() == "Your company needs a name."
    assert not Account.objects.exists()
    page.fill("input[name=company_name]", "Initrode Labs")
    page.check("input[name=region][value=eu]")
    page.click("button[data-action=signup-complete]")

    # straight on to the catalog of the new account
    page.wait_for_url(f"{portal}/products/?account=initrode-labs")
    assert "Initrode Labs is ready" in page.locator("[role=status]").first.inner_text()
    account = Account.objects.get(slug="initrode-labs")
    assert Membership.objects.get(account=account).role == "owner"
    assert list(AccountRegion.objects.filter(account=account).values_list("region__code", flat=True)) == [
        "eu"
    ]

    # the posture product page, and its free trial started in EU
    page.click("tr[data-product=posture] a[href^='/products/posture/']")
    page.wait_for_url(f"{portal}/products/posture/?account=initrode-labs")
    page.check("section[data-testid=trial] input[name=regions][value=eu]")
    page.click("section[data-testid=trial] button[type=submit]")
    page.wait_for_url(f"{portal}/products/posture/?account=initrode-labs")
    assert (
        "free trial of Security Posture has started in EU" in page.locator("[role=status]").first.inner_text()
    )
    trial = Entitlement.objects.get(account=account, product=catalog["posture"])
    assert (trial.region.code, trial.status) == ("eu", "trial")

    # the worker delivers the owner and the entitlements document to EU
    wait_for(lambda: synced("initrode-labs"), timeout=60, what="initrode-labs synced to EU")

    # the product in EU: the region sends the browser to Atrium, already signed in, and back
    page.goto(f"{eu.people_url}/p/posture/")
    page.wait_for_url(f"{eu.people_url}/p/posture/")
    # (posture is served by its product app on the platform kit: the tenant and the status are
    # in the kit's footer every product page shares, not in the generic page's product-tenant /
    # product-status elements)
    assert page.locator("h1").inner_text() == "Security Posture"
    footer = page.locator("footer.kit-product-footer").inner_text()
    assert re.search(r"Tenant initrode-labs · trial\s+until", footer), footer
    document = ProvisioningRecord.objects.get(
        kind="entitlements", tenant="initrode-labs", region=regions["eu"]
    )
    assert page.get_by_test_id("entitlements-version").inner_text() == str(document.acked_version)
    assert document.desired["products"][0]["code"] == "posture"
    assert document.desired["products"][0]["status"] == "trial"
