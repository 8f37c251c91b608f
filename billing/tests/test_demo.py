"""The demo loader makes plans (backup, posture, archiver in USD / EUR / AUD, monthly and yearly, with
plan changes) and Acme's paid Backup with its first invoice, once."""

import io
from decimal import Decimal

from django.core.management import call_command

from billing.models import Invoice, Plan, PlanChange, Subscription
from products.models import Entitlement


def test_the_demo_has_plans_and_acmes_paid_backup_once(db):
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())

    assert Plan.objects.count() == 3 * 3 * 4
    assert set(Plan.objects.values_list("currency", flat=True)) == {"USD", "EUR", "AUD"}
    assert set(Plan.objects.values_list("interval", flat=True)) == {"month", "year"}
    assert Plan.objects.get(product__code="backup", code="pro-yearly-eur").unit_price == Decimal("135.00")
    up = PlanChange.objects.get(from_plan__code="standard-monthly-usd", to_plan__code="pro-monthly-usd",
                                from_plan__product__code="backup")  # fmt: skip
    assert up.direction == "upgrade"
    subscription = Subscription.objects.get(account__slug="acme", product__code="backup")
    assert subscription.status == "active"
    assert {i.region.code: i.seats for i in subscription.items.all()} == {"us": 3, "eu": 5, "au": 2}
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.total == Decimal("100.00")
    statuses = Entitlement.objects.filter(account__slug="acme", product__code="backup").values_list(
        "status", flat=True
    )
    assert set(statuses) == {"active"}
