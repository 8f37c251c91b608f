"""The invoice run works in bulk: its queries do not grow with the number of subscriptions (per chunk
of 500), so the monthly run over thousands of accounts stays within seconds."""

from datetime import UTC, datetime
from decimal import Decimal

from accounts.models import Account
from billing.invoicing import RUN_CHUNK
from billing.models import Invoice, InvoiceLine, Subscription, SubscriptionRegion
from billing.services import invoices_run

START = datetime(2027, 3, 1, tzinfo=UTC)
END = datetime(2027, 4, 1, tzinfo=UTC)


def make_subscriptions(count, *, product, plan, regions, offset=0):
    accounts = Account.objects.bulk_create(
        [Account(name=f"Bulk {n}", slug=f"bulk-{n}") for n in range(offset, offset + count)]
    )
    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(
                account=account,
                product=product,
                plan=plan,
                status="active",
                unit_price=plan.unit_price,
                currency=plan.currency,
                interval=plan.interval,
                current_period_start=START,
                current_period_end=END,
                started_at=START,
            )  # fmt: skip
            for account in accounts
        ]
    )
    SubscriptionRegion.objects.bulk_create(
        [
            SubscriptionRegion(subscription=subscription, region=region, seats=n % 7 + 1)
            for n, subscription in enumerate(subscriptions)
            for region in regions
        ]
    )
    return subscriptions


def test_the_run_makes_one_invoice_each_in_a_bounded_number_of_queries(
    backup, plans, regions, django_assert_max_num_queries
):
    region_list = [regions["us"], regions["eu"]]
    make_subscriptions(20, product=backup, plan=plans["basic"], regions=region_list)
    with django_assert_max_num_queries(20) as few:
        invoices_run(now=END)
    small = len(few.captured_queries)
    make_subscriptions(RUN_CHUNK - 1, product=backup, plan=plans["basic"], regions=region_list, offset=1000)
    with django_assert_max_num_queries(small + 4):  # more rows per bulk statement, not more statements
        result = invoices_run(now=END)
    assert result.invoices_created == RUN_CHUNK - 1
    assert Invoice.objects.count() == 20 + RUN_CHUNK - 1
    assert InvoiceLine.objects.count() == 2 * Invoice.objects.count()
    first = Invoice.objects.order_by("pk").first()
    seats = first.lines.get(region__code="eu").seats
    assert first.total == Decimal("10.00") * seats * 2
