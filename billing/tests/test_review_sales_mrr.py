"""Hostile review of the MRR table on histories made by billing's own services: one currency per
subscription (what per-currency MRR relies on), a START after a cancellation (reactivation), and
a seat decrease counted when the renewal applies it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.services import account_create, account_region_add
from billing import services
from billing.models import Plan, PlanChange, SubscriptionEvent
from billing.sales import SalesScope
from billing.sales_selectors import mrr_movements
from billing.tests.test_sales_selectors import sales_user
from conftest import make_region, make_user
from products.services import product_create

MAR_1 = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
APR_1 = datetime(2027, 4, 1, 1, tzinfo=UTC)
D = Decimal


def at(day: datetime):
    return time_machine.travel(day, tick=False)


def _world():
    us = make_region("us", 8101, 9101)
    backup = product_create(code="backup", name="Backup & Recovery", regions=[us], trial_days=30)
    usd = Plan.objects.create(product=backup, code="usd", name="Basic USD", interval="month", currency="USD",
                              unit_price=D("10.00"))  # fmt: skip
    eur = Plan.objects.create(product=backup, code="eur", name="Basic EUR", interval="month", currency="EUR",
                              unit_price=D("9.00"))  # fmt: skip
    PlanChange.objects.create(from_plan=usd, to_plan=eur, direction=PlanChange.Direction.DOWNGRADE)
    acme = account_create(name="Acme", slug="acme", owner=make_user("alice@acme.test"))
    account_region_add(account=acme, region=us)
    return backup, usd, eur, acme


def _months(now: datetime, months: int = 3) -> dict[tuple[str, str], dict]:
    maya = sales_user("maya@atrium.test", manager=True)
    table = mrr_movements(scope=SalesScope(user=maya, is_manager=True), now=now, months=months)
    return {(row["month"], row["currency"]): row for row in table.rows}


def test_a_subscription_never_changes_currency_so_each_mrr_series_stays_whole(db):
    # The MRR table sums mrr_after - mrr_before in the event's currency: it is exact only while a
    # subscription's events are all in one currency. A downgrade at period end to a plan in another
    # currency (a PlanChange row allows the pair) once switched it at renewal and left 50 USD in
    # the USD series forever; the engine now refuses it, and this pins it for the dashboard.
    backup, usd, eur, acme = _world()
    with at(MAR_1):
        sub = services.subscription_convert_trial(
            account=acme, product=backup, plan=usd, seats_by_region={"us": 5}, actor=None, now=MAR_1
        )
    with at(MAR_1 + timedelta(days=10)), pytest.raises(ValidationError):
        services.subscription_plan_change(
            subscription=sub, plan=eur, actor=None, now=MAR_1 + timedelta(days=10)
        )
    with at(APR_1):
        services.invoices_run(now=APR_1)
    assert set(SubscriptionEvent.objects.filter(subscription=sub).values_list("currency", flat=True)) == {
        "USD"
    }
    rows = _months(APR_1 + timedelta(days=14))
    assert rows[("2027-04", "USD")]["mrr"] == D("50.00")
    assert ("2027-04", "EUR") not in rows


def test_a_new_subscription_after_a_cancellation_is_a_reactivation_and_a_decrease_counts_at_renewal(db):
    backup, usd, _, acme = _world()
    with at(MAR_1):
        first = services.subscription_convert_trial(
            account=acme, product=backup, plan=usd, seats_by_region={"us": 5}, actor=None, now=MAR_1
        )
        services.subscription_cancel(subscription=first, actor=None, now=MAR_1)
    with at(APR_1):
        services.invoices_run(now=APR_1)  # the cancellation takes effect: churn in April
    may_3 = datetime(2027, 5, 3, 9, tzinfo=UTC)
    with at(may_3):
        second = services.subscription_convert_trial(
            account=acme, product=backup, plan=usd, seats_by_region={"us": 4}, actor=None, now=may_3
        )
        services.subscription_seats_change(
            subscription=second, seats_by_region={"us": 2}, actor=None, now=may_3
        )
    june = datetime(2027, 6, 3, 10, tzinfo=UTC)
    with at(june):
        services.invoices_run(now=june)
    rows = _months(june + timedelta(days=1), months=4)
    assert rows[("2027-03", "USD")]["new"] == D("50.00")
    assert rows[("2027-04", "USD")]["churn"] == D("-50.00")
    assert rows[("2027-05", "USD")]["reactivation"] == D("40.00")
    assert rows[("2027-05", "USD")]["new"] == D("0.00")
    assert rows[("2027-05", "USD")]["contraction"] == D("0.00")  # waits for the period's end
    assert rows[("2027-06", "USD")]["contraction"] == D("-20.00")
    assert rows[("2027-06", "USD")]["mrr"] == D("20.00")
