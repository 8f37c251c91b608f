"""Hostile review: exact amounts at period boundaries (last second of the period, 29 February in a
yearly period, a 31 January anchor) and same-day reversals, through the services and the invoice run."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.services import (
    invoices_run,
    subscription_convert_trial,
    subscription_plan_change,
    subscription_seats_change,
    subscription_seats_change_preview,
)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_seat_added_at_the_last_second_of_the_period_costs_one_day(acme_everywhere, backup, plans, owner):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=utc(2027, 3, 1, 9),
    )  # fmt: skip
    last = utc(2027, 3, 31, 23, 59, 59)
    preview = subscription_seats_change_preview(subscription=sub, seats_by_region={"eu": 8}, now=last)
    assert preview.charge_now == Decimal("0.97")  # 3 × 10.00 × 1/31
    subscription_seats_change(subscription=sub, seats_by_region={"eu": 8}, actor=owner, now=last)
    invoices_run(now=utc(2027, 4, 1, 0, 0, 1))
    april = sub.invoices.get(period_start=utc(2027, 4, 1))
    assert [(line.kind, line.amount) for line in april.lines.order_by("position")] == [
        ("recurring", Decimal("80.00")),
        ("proration", Decimal("0.97")),
    ]
    assert april.total == preview.next_invoice.total == Decimal("80.97")


def test_a_seat_added_on_29_february_in_a_yearly_period_costs_one_day_of_366(
    acme_everywhere, backup, plans, owner
):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["yearly"], seats_by_region={"us": 2},
        actor=owner, now=utc(2027, 3, 1, 9),
    )  # fmt: skip
    assert sub.current_period_end == utc(2028, 3, 1)
    preview = subscription_seats_change_preview(
        subscription=sub, seats_by_region={"us": 3}, now=utc(2028, 2, 29, 18)
    )
    assert preview.charge_now == Decimal("0.27")  # 100.00 × 1/366


def test_a_31_january_anchor_renews_on_the_last_day_of_short_months(acme_everywhere, backup, plans, owner):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 1},
        actor=owner, now=utc(2027, 1, 31, 23, 59, 59),
    )  # fmt: skip
    invoices_run(now=utc(2027, 5, 1))
    assert list(sub.invoices.order_by("period_start").values_list("period_start", "period_end")) == [
        (utc(2027, 1, 31), utc(2027, 2, 28)),
        (utc(2027, 2, 28), utc(2027, 3, 31)),
        (utc(2027, 3, 31), utc(2027, 4, 30)),
        (utc(2027, 4, 30), utc(2027, 5, 31)),
    ]


def test_seats_down_then_up_then_down_on_one_day_net_to_one_line_of_the_right_sign(
    acme_everywhere, backup, plans, owner
):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=utc(2027, 3, 1, 9),
    )  # fmt: skip
    for hour, seats in ((9, 3), (10, 7), (11, 6)):
        subscription_seats_change(
            subscription=sub, seats_by_region={"eu": seats}, actor=owner, now=utc(2027, 3, 17, hour)
        )
    item = sub.items.get()
    assert (item.seats, item.pending_seats) == (6, None)
    invoices_run(now=utc(2027, 4, 1, 0, 5))
    proration = sub.invoices.get(period_start=utc(2027, 4, 1)).lines.get(kind="proration")
    assert (proration.seats, proration.amount) == (1, Decimal("4.84"))  # 1 × 10.00 × 15/31


def test_an_upgrade_then_a_downgrade_on_one_day_charges_the_upgrade_and_renews_on_the_old_plan(
    acme_everywhere, backup, plans, owner
):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 2},
        actor=owner, now=utc(2027, 3, 1, 9),
    )  # fmt: skip
    subscription_plan_change(subscription=sub, plan=plans["team"], actor=owner, now=utc(2027, 3, 17, 9))
    subscription_plan_change(subscription=sub, plan=plans["basic"], actor=owner, now=utc(2027, 3, 17, 10))
    invoices_run(now=utc(2027, 4, 1, 0, 5))
    april = sub.invoices.get(period_start=utc(2027, 4, 1))
    assert [(line.kind, line.unit_price, line.amount) for line in april.lines.order_by("position")] == [
        ("recurring", Decimal("10.00"), Decimal("20.00")),
        ("proration", Decimal("15.00"), Decimal("4.84")),  # 2 × 5.00 × 15/31
    ]
