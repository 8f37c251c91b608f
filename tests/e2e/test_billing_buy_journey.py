"""Trial → paid in a real browser (Playwright + Debian's Chromium) against the live portal, real
regional-server processes and a real Celery worker: Alice (owner of Acme, trialing Backup in US and
EU) clicks Buy on the product page, picks a plan and seats, sees the first invoice, confirms; the
billing page shows the subscription and the invoice; the worker delivers `active` (no end) to both
regions, which acknowledge the new entitlements document."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from billing.models import Invoice, Plan, Subscription
from conftest import PASSWORD
from products.services import entitlement_set, product_create
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, browser_sign_in, wait_for

pytestmark = pytest.mark.e2e


def delivered(region, status: str) -> bool:
    row = ProvisioningRecord.objects.filter(kind="entitlements", tenant="acme", region=region).first()
    if row is None or row.acked_version != row.desired_version:
        return False
    return {"code": "backup", "status": status, "ends_at": None} in row.desired["products"]


def test_an_owner_buys_a_trialed_product_and_the_regions_get_it_active(
    browser, live_server, worker, regions, acme, alice
):
    portal = live_server.url
    backup = product_create(
        code="backup", name="Backup", regions=[regions["us"], regions["eu"]], trial_days=30
    )
    Plan.objects.create(
        product=backup,
        code="team-monthly",
        name="Team monthly",
        interval="month",
        currency="EUR",
        unit_price=Decimal("12.50"),
    )
    account_uses(acme, [regions["us"], regions["eu"]])
    for code in ("us", "eu"):
        entitlement_set(
            account=acme,
            product=backup,
            region=regions[code],
            status="trial",
            ends_at=timezone.now() + timedelta(days=30),
        )

    page = browser.new_context().new_page()
    browser_sign_in(page, portal, "alice@acme.test", PASSWORD)
    page.goto(f"{portal}/products/backup/?account=acme")
    page.get_by_test_id("buy").locator("a").click()
    page.wait_for_url(f"{portal}/a/acme/billing/subscribe/backup/")
    page.fill("input[name=seats_us]", "3")
    page.fill("input[name=seats_eu]", "2")
    page.get_by_role("button", name="Preview the first invoice").click()
    preview = page.get_by_test_id("preview")
    assert preview.locator("[data-total]").inner_text() == "62.50 EUR"  # 5 seats × 12.50
    assert not Subscription.objects.exists()
    page.get_by_role("button", name="Confirm and subscribe").click()
    page.wait_for_url(f"{portal}/a/acme/billing/")

    subscription = Subscription.objects.get(account=acme, product=backup)
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.total == Decimal("62.50")
    assert page.locator(f"[data-invoice='{invoice.number}']").is_visible()
    assert page.locator("[data-subscription] [data-region=us] [data-purchased]").inner_text() == "3"
    wait_for(
        lambda: delivered(regions["us"], "active") and delivered(regions["eu"], "active"),
        timeout=60,
        what="active Backup acknowledged by US and EU",
    )
    assert (
        not ProvisioningRecord.objects.filter(tenant="acme")
        .exclude(acked_version=F("desired_version"))
        .exists()
    )

    # the printable invoice opens from the list
    page.click(f"[data-invoice='{invoice.number}'] a")
    page.wait_for_url(f"{portal}/a/acme/billing/invoices/{invoice.number}/")
    assert page.get_by_test_id("invoice").locator("[data-total]").inner_text() == "62.50 EUR"
