"""Trial → paid, seat / region / plan changes and their previews, and what the invoice run bills for
them, with exact amounts. Backup basic monthly is 10.00 USD per seat; Acme converts on 1 March 2027
(31 days), so a change on the 17th pays 15/31 of a month."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent, Membership
from billing.models import Invoice, Subscription, SubscriptionEvent
from billing.services import (
    invoices_run,
    subscription_cancel,
    subscription_convert_trial,
    subscription_convert_trial_preview,
    subscription_plan_change,
    subscription_plan_change_preview,
    subscription_reactivate,
    subscription_seats_change,
    subscription_seats_change_preview,
)
from billing.tests.conftest import MAR_1
from products.models import Entitlement
from products.services import entitlement_set

APR_1 = datetime(2027, 4, 1, 0, 5, tzinfo=UTC)
MAR_17 = datetime(2027, 3, 17, 15, 0, tzinfo=UTC)


def at(day, hour=12):
    return datetime(2027, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def paid(acme_everywhere, backup, plans, owner, regions):
    """Acme on backup basic monthly: 5 seats in EU, 2 in US, converted from a trial on 1 March."""
    for code in ("eu", "us"):
        entitlement_set(account=acme_everywhere, product=backup, region=regions[code], status="trial")
    return subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5, "us": 2},
        actor=owner,
        now=MAR_1,
    )


def lines_of(invoice):
    return [(line.kind, line.region.code, line.seats, line.amount) for line in invoice.lines.all()]


def test_trial_to_paid_creates_the_subscription_first_invoice_and_active_entitlements(paid, acme, regions):
    subscription = Subscription.objects.get(pk=paid.pk)
    assert subscription.status == "active"
    assert (subscription.unit_price, subscription.currency, subscription.interval) == (
        Decimal("10.00"),
        "USD",
        "month",
    )
    assert (subscription.current_period_start, subscription.current_period_end) == (
        datetime(2027, 3, 1, tzinfo=UTC),
        datetime(2027, 4, 1, tzinfo=UTC),
    )
    assert {i.region.code: i.seats for i in subscription.items.all()} == {"eu": 5, "us": 2}
    start = SubscriptionEvent.objects.get(subscription=subscription)
    assert (start.kind, start.mrr_before, start.mrr_after) == ("start", Decimal("0.00"), Decimal("70.00"))
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.number == f"ATR-{acme.pk}-202703-{subscription.pk}"
    assert (invoice.total, invoice.status, invoice.currency) == (Decimal("70.00"), "open", "USD")
    assert lines_of(invoice) == [
        ("recurring", "eu", 5, Decimal("50.00")),
        ("recurring", "us", 2, Decimal("20.00")),
    ]
    statuses = dict(Entitlement.objects.filter(account=acme).values_list("region__code", "status"))
    assert statuses == {"eu": "active", "us": "active"}
    assert AuditEvent.objects.filter(account=acme, action="subscription.start").count() == 1


def test_the_conversion_preview_is_the_first_invoice(acme_everywhere, backup, plans, owner):
    preview = subscription_convert_trial_preview(
        account=acme_everywhere,
        product=backup,
        plan=plans["team"],
        seats_by_region={"au": 3, "us": 1},
        now=MAR_1,
    )
    subscription = subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["team"],
        seats_by_region={"au": 3, "us": 1},
        actor=owner,
        now=MAR_1,
    )
    invoice = subscription.invoices.get()
    assert preview.total == invoice.total == Decimal("60.00")
    assert [(line.region, line.seats, line.amount) for line in preview.lines] == [
        (code, seats, amount) for _, code, seats, amount in lines_of(invoice)
    ]


def test_conversion_refuses_a_region_the_product_is_not_offered_in(acme_everywhere, posture, owner):
    from billing.tests.conftest import make_plan

    plan = make_plan(posture, "posture-monthly", "8.00")
    with pytest.raises(ValidationError, match="not offered in au"):
        subscription_convert_trial(
            account=acme_everywhere,
            product=posture,
            plan=plan,
            seats_by_region={"au": 2},
            actor=owner,
            now=MAR_1,
        )
    assert not Subscription.objects.exists()


def test_conversion_refuses_a_plan_of_another_product_and_a_second_subscription(
    paid, acme_everywhere, backup, posture, plans, owner
):
    with pytest.raises(ValidationError, match="not a plan of Posture"):
        subscription_convert_trial(
            account=acme_everywhere,
            product=posture,
            plan=plans["basic"],
            seats_by_region={"us": 1},
            actor=owner,
            now=MAR_1,
        )
    with pytest.raises(ValidationError, match="already subscribes"):
        subscription_convert_trial(
            account=acme_everywhere,
            product=backup,
            plan=plans["basic"],
            seats_by_region={"us": 1},
            actor=owner,
            now=MAR_1,
        )


def test_a_member_cannot_buy_or_change_seats(acme_everywhere, backup, plans, bob_m, paid):
    with pytest.raises(PermissionDenied):
        subscription_seats_change(subscription=paid, seats_by_region={"eu": 9}, actor=bob_m, now=MAR_17)
    bob_m.role = Membership.Role.READ_ONLY
    bob_m.save()
    with pytest.raises(PermissionDenied):
        subscription_cancel(subscription=paid, actor=bob_m, now=MAR_17)


def test_a_billing_admin_of_another_account_is_refused(paid, globex):
    carol_m = Membership.objects.get(account=globex)
    with pytest.raises(PermissionDenied):
        subscription_seats_change(subscription=paid, seats_by_region={"eu": 9}, actor=carol_m, now=MAR_17)


def test_seats_up_mid_period_is_prorated_onto_the_next_invoice_as_the_preview_said(paid, owner, acme):
    preview = subscription_seats_change_preview(subscription=paid, seats_by_region={"eu": 8}, now=MAR_17)
    assert preview.takes_effect == "now"
    assert preview.charge_now == Decimal("14.52")  # 3 × 10.00 × 15/31
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 8}, actor=owner, now=MAR_17)
    assert Invoice.objects.filter(subscription=paid).count() == 1  # no invoice now: it waits for the next one

    result = invoices_run(now=APR_1)

    assert result.invoices_created == 1
    invoice = Invoice.objects.get(subscription=paid, period_start=datetime(2027, 4, 1, tzinfo=UTC))
    assert invoice.number == f"ATR-{acme.pk}-202704-{paid.pk}"
    assert lines_of(invoice) == [
        ("recurring", "eu", 8, Decimal("80.00")),
        ("recurring", "us", 2, Decimal("20.00")),
        ("proration", "eu", 3, Decimal("14.52")),
    ]
    assert invoice.total == Decimal("114.52")
    assert preview.next_invoice.total == invoice.total
    assert [(line.kind, line.region, line.seats, line.amount) for line in preview.next_invoice.lines] == [
        (kind, code, seats, amount) for kind, code, seats, amount in lines_of(invoice)
    ]


def test_several_seat_changes_in_one_day_become_one_proration_line(paid, owner):
    for hour, seats in ((9, 8), (11, 6), (16, 9)):
        subscription_seats_change(
            subscription=paid, seats_by_region={"eu": seats}, actor=owner, now=at(17, hour)
        )
    subscription_seats_change(subscription=paid, seats_by_region={"us": 3}, actor=owner, now=at(25))

    invoices_run(now=APR_1)

    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert lines_of(invoice) == [
        ("recurring", "eu", 9, Decimal("90.00")),
        ("recurring", "us", 3, Decimal("30.00")),
        ("proration", "eu", 4, Decimal("19.35")),  # 5 → 9: 4 × 10 × 15/31
        ("proration", "us", 1, Decimal("2.26")),  # 2 → 3 on the 25th: 10 × 7/31 = 2.258…
    ]
    assert invoice.total == Decimal("141.61")


def test_seats_down_wait_for_period_end_after_undoing_the_days_increase(paid, owner):
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 8}, actor=owner, now=at(17, 9))
    preview = subscription_seats_change_preview(subscription=paid, seats_by_region={"eu": 3}, now=at(17, 10))
    assert preview.seats_now == {"eu": 5, "us": 2}  # back to the day's first seats now …
    assert preview.seats_at_renewal == {"eu": 3, "us": 2}  # … and down to 3 at period end
    assert preview.charge_now == Decimal("-14.52")  # the day's increase is undone
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 3}, actor=owner, now=at(17, 10))
    item = paid.items.get(region__code="eu")
    assert (item.seats, item.pending_seats) == (5, 3)
    # A decrease another day is only pending: no credit.
    subscription_seats_change(subscription=paid, seats_by_region={"us": 1}, actor=owner, now=at(20))

    invoices_run(now=APR_1)

    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert lines_of(invoice) == [
        ("recurring", "eu", 3, Decimal("30.00")),
        ("recurring", "us", 1, Decimal("10.00")),
    ]
    assert {i.region.code: (i.seats, i.pending_seats) for i in paid.items.all()} == {
        "eu": (3, None),
        "us": (1, None),
    }
    renew = SubscriptionEvent.objects.get(subscription=paid, kind="renew")
    assert (renew.mrr_before, renew.mrr_after) == (Decimal("70.00"), Decimal("40.00"))


def test_a_region_added_mid_period_is_active_at_once_and_prorated(paid, owner, acme):
    subscription_seats_change(subscription=paid, seats_by_region={"au": 4}, actor=owner, now=MAR_17)
    assert Entitlement.objects.get(account=acme, region__code="au").status == "active"
    assert SubscriptionEvent.objects.filter(subscription=paid, kind="regions").count() == 1
    invoices_run(now=APR_1)
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert ("proration", "au", 4, Decimal("19.35")) in lines_of(invoice)  # 4 × 10 × 15/31
    assert invoice.total == Decimal("110.00") + Decimal("19.35")  # 11 seats


def test_a_region_removed_leaves_at_period_end_and_its_entitlement_ends(paid, owner, acme):
    subscription_seats_change(subscription=paid, seats_by_region={"us": 0}, actor=owner, now=MAR_17)
    assert Entitlement.objects.get(account=acme, region__code="us").status == "active"
    invoices_run(now=APR_1)
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert lines_of(invoice) == [("recurring", "eu", 5, Decimal("50.00"))]
    assert Entitlement.objects.get(account=acme, region__code="us").status == "cancelled"
    assert list(paid.items.values_list("region__code", flat=True)) == ["eu"]


def test_removing_every_seat_is_refused_with_a_hint_to_cancel(paid, owner):
    with pytest.raises(ValidationError, match="cancel"):
        subscription_seats_change(
            subscription=paid, seats_by_region={"us": 0, "eu": 0}, actor=owner, now=MAR_17
        )


def test_an_upgrade_applies_now_and_prorates_the_difference(paid, owner):
    preview = subscription_plan_change_preview(
        subscription=paid, plan=paid.plan.changes_from.get(direction="upgrade").to_plan, now=MAR_17
    )
    assert preview.takes_effect == "now"
    assert preview.charge_now == Decimal("16.94")  # 7 seats × 5.00 × 15/31 = 16.935… → eu 12.10 + us 4.84
    team = preview.plan_at_renewal
    subscription_plan_change(subscription=paid, plan=team, actor=owner, now=MAR_17)
    paid.refresh_from_db()
    assert (paid.plan, paid.unit_price) == (team, Decimal("15.00"))
    invoices_run(now=APR_1)
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert lines_of(invoice) == [
        ("recurring", "eu", 5, Decimal("75.00")),
        ("recurring", "us", 2, Decimal("30.00")),
        ("proration", "eu", 0, Decimal("12.10")),  # 5 × 5.00 × 15/31 = 12.096…
        ("proration", "us", 0, Decimal("4.84")),  # 2 × 5.00 × 15/31 = 4.838…
    ]
    assert invoice.total == preview.next_invoice.total == Decimal("121.94")


def test_a_downgrade_waits_for_period_end(paid, owner, plans):
    subscription_plan_change(subscription=paid, plan=plans["team"], actor=owner, now=at(2))
    preview = subscription_plan_change_preview(subscription=paid, plan=plans["basic"], now=MAR_17)
    assert (preview.takes_effect, preview.charge_now) == ("period_end", Decimal("0.00"))
    subscription_plan_change(subscription=paid, plan=plans["basic"], actor=owner, now=MAR_17)
    paid.refresh_from_db()
    assert (paid.plan, paid.pending_plan, paid.unit_price) == (
        plans["team"],
        plans["basic"],
        Decimal("15.00"),
    )
    invoices_run(now=APR_1)
    paid.refresh_from_db()
    assert (paid.plan, paid.pending_plan, paid.unit_price) == (plans["basic"], None, Decimal("10.00"))
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    # Recurring at the downgraded price; the upgrade on the 2nd is prorated: 7 × 5 × 30/31 = 33.87
    assert invoice.total == preview.next_invoice.total == Decimal("70.00") + Decimal("33.87")


def test_a_plan_pair_without_a_plan_change_row_is_refused(paid, owner, plans):
    subscription_plan_change(
        subscription=paid, plan=plans["yearly"], actor=owner, now=at(2)
    )  # a downgrade row
    from billing.tests.conftest import make_plan

    other = make_plan(paid.product, "enterprise-monthly", "40.00")
    with pytest.raises(ValidationError, match="not offered"):
        subscription_plan_change_preview(subscription=paid, plan=other, now=MAR_17)
    with pytest.raises(ValidationError, match="not offered"):
        subscription_plan_change(subscription=paid, plan=other, actor=owner, now=MAR_17)


def test_switching_to_yearly_at_period_end_starts_a_calendar_year(paid, owner, plans):
    subscription_plan_change(subscription=paid, plan=plans["yearly"], actor=owner, now=MAR_17)
    invoices_run(now=APR_1)
    paid.refresh_from_db()
    assert (paid.interval, paid.current_period_end) == ("year", datetime(2028, 4, 1, tzinfo=UTC))
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert invoice.total == Decimal("700.00")
    renew = SubscriptionEvent.objects.get(subscription=paid, kind="renew")
    assert (renew.mrr_before, renew.mrr_after) == (Decimal("70.00"), Decimal("58.33"))  # 700 / 12


def test_a_plan_price_change_applies_to_new_subscriptions_and_to_renewals_only(
    paid, plans, globex_eu, backup
):
    basic = plans["basic"]
    basic.unit_price = Decimal("12.00")
    basic.save()
    paid.refresh_from_db()
    assert paid.unit_price == Decimal("10.00")
    preview = subscription_seats_change_preview(subscription=paid, seats_by_region={"eu": 6}, now=MAR_17)
    assert preview.charge_now == Decimal("4.84")  # the locked 10.00: 10 × 15/31
    carol_m = Membership.objects.get(account=globex_eu)
    newer = subscription_convert_trial(
        account=globex_eu, product=backup, plan=basic, seats_by_region={"eu": 1}, actor=carol_m, now=MAR_17
    )
    assert newer.unit_price == Decimal("12.00")
    assert newer.invoices.get().total == Decimal("12.00")
    invoices_run(now=APR_1)
    paid.refresh_from_db()
    assert paid.unit_price == Decimal("12.00")  # locked anew at renewal
    assert Invoice.objects.get(subscription=paid, period_start__month=4).total == Decimal("84.00")


def test_cancel_runs_to_period_end_and_reactivate_undoes_it(paid, owner, acme):
    subscription_cancel(subscription=paid, actor=owner, now=MAR_17)
    ends = Entitlement.objects.get(account=acme, region__code="eu").ends_at
    assert ends == datetime(2027, 4, 1, tzinfo=UTC)
    subscription_reactivate(subscription=paid, actor=owner, now=at(18))
    assert Entitlement.objects.get(account=acme, region__code="eu").ends_at is None
    subscription_cancel(subscription=paid, actor=owner, now=at(20))

    result = invoices_run(now=APR_1)

    paid.refresh_from_db()
    assert (paid.status, result.cancelled, result.invoices_created) == ("cancelled", 1, 0)
    assert set(Entitlement.objects.filter(account=acme).values_list("status", flat=True)) == {"cancelled"}
    cancel = SubscriptionEvent.objects.get(subscription=paid, kind="cancel")
    assert (cancel.mrr_before, cancel.mrr_after) == (Decimal("70.00"), Decimal("0.00"))


def test_a_cancelled_subscription_still_bills_its_last_periods_prorations(paid, owner):
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 8}, actor=owner, now=MAR_17)
    subscription_cancel(subscription=paid, actor=owner, now=at(20))
    invoices_run(now=APR_1)
    final = Invoice.objects.get(subscription=paid, period_start=datetime(2027, 4, 1, tzinfo=UTC))
    assert lines_of(final) == [("proration", "eu", 3, Decimal("14.52"))]


def test_bad_seat_counts_are_clear_errors(paid, owner):
    with pytest.raises(ValidationError, match="between 0"):
        subscription_seats_change(subscription=paid, seats_by_region={"eu": -1}, actor=owner, now=MAR_17)
    with pytest.raises(ValidationError, match="Unknown region"):
        subscription_seats_change(subscription=paid, seats_by_region={"mars": 1}, actor=owner, now=MAR_17)
    with pytest.raises(ValidationError, match="whole number"):
        subscription_seats_change(subscription=paid, seats_by_region={"eu": "3"}, actor=owner, now=MAR_17)


def test_a_region_added_and_removed_the_same_day_leaves_at_once_and_costs_nothing(paid, owner, acme):
    subscription_seats_change(subscription=paid, seats_by_region={"au": 4}, actor=owner, now=at(17, 9))
    preview = subscription_seats_change_preview(subscription=paid, seats_by_region={"au": 0}, now=at(17, 11))
    assert (preview.takes_effect, preview.charge_now, preview.seats_now) == (
        "now",
        Decimal("-19.35"),
        {"eu": 5, "us": 2},
    )
    subscription_seats_change(subscription=paid, seats_by_region={"au": 0}, actor=owner, now=at(17, 11))
    assert not paid.items.filter(region__code="au").exists()
    assert Entitlement.objects.get(account=acme, region__code="au").status == "cancelled"
    invoices_run(now=APR_1)
    invoice = Invoice.objects.get(subscription=paid, period_start__month=4)
    assert lines_of(invoice) == [
        ("recurring", "eu", 5, Decimal("50.00")),
        ("recurring", "us", 2, Decimal("20.00")),
    ]


def test_raising_seats_again_clears_a_pending_decrease(paid, owner):
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 3}, actor=owner, now=at(10))
    assert paid.items.get(region__code="eu").pending_seats == 3
    preview = subscription_seats_change_preview(subscription=paid, seats_by_region={"eu": 5}, now=at(12))
    assert (preview.takes_effect, preview.charge_now) == ("period_end", Decimal("0.00"))
    subscription_seats_change(subscription=paid, seats_by_region={"eu": 5}, actor=owner, now=at(12))
    assert paid.items.get(region__code="eu").pending_seats is None


def test_reactivate_without_a_pending_cancel_is_refused(paid, owner):
    with pytest.raises(ValidationError, match="not being cancelled"):
        subscription_reactivate(subscription=paid, actor=owner, now=MAR_17)
