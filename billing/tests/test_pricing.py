"""The invoice arithmetic, exact to the cent (billing/pricing.py is pure: no database)."""

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from billing import pricing


def d(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def change(region, at, before, after, price_before="10.00", price_after=None):
    return pricing.Change(
        region=region,
        at=at,
        seats_before=before,
        seats_after=after,
        price_before=Decimal(price_before),
        price_after=Decimal(price_after or price_before),
    )


def test_monthly_periods_follow_calendar_months_anchored_on_the_first_day():
    assert pricing.period_end(d(2027, 1, 31, 14, 5), "month") == d(2027, 2, 28)
    # February's short month does not pull the anchor: the next period ends on the 31st again.
    assert pricing.period_end(d(2027, 2, 28), "month", anchor_day=31) == d(2027, 3, 31)
    assert pricing.period_end(d(2027, 12, 15), "month") == d(2028, 1, 15)
    assert pricing.period_end(d(2028, 1, 31), "month") == d(2028, 2, 29)  # leap year


def test_yearly_periods_are_calendar_years():
    assert pricing.period_end(d(2027, 3, 1), "year") == d(2028, 3, 1)
    assert pricing.period_end(d(2028, 2, 29), "year") == d(2029, 2, 28)
    assert pricing.period_days(d(2027, 1, 1), pricing.period_end(d(2027, 1, 1), "year")) == 365


def test_a_change_counts_from_the_start_of_its_utc_day():
    # March 2027 has 31 days; a change at 15:00 on the 17th pays for the 17th to the 31st: 15 days.
    fraction = pricing.remaining_fraction(
        period_start=d(2027, 3, 1), period_end=d(2027, 4, 1), at=d(2027, 3, 17, 15)
    )
    assert fraction == Fraction(15, 31)


def test_seats_up_mid_month_prorates_to_the_cent():
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=[change("eu", d(2027, 3, 17, 15), 5, 8)],
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    # 3 seats × 10.00 × 15/31 = 14.516… → 14.52
    assert [(line.region, line.seats, line.amount) for line in lines] == [("eu", 3, Decimal("14.52"))]
    assert lines[0].kind == "proration"
    assert "5 → 8 seats" in lines[0].description and "15 of 31 days" in lines[0].description


def test_several_changes_in_one_day_net_into_one_line_rounded_once():
    changes = [
        change("eu", d(2027, 3, 17, 10), 5, 8),
        change("eu", d(2027, 3, 17, 12), 8, 6),
        change("eu", d(2027, 3, 17, 18), 6, 9),
    ]
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=changes,
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    # ONE line 5 → 9: 4 × 10.00 × 15/31 = 19.354… → 19.35 (three lines would be 14.52 − 9.68 + 14.52 = 19.36).
    assert [(line.seats, line.amount) for line in lines] == [(4, Decimal("19.35"))]


def test_changes_on_two_days_and_two_regions_make_one_line_each():
    changes = [
        change("eu", d(2027, 3, 17, 10), 5, 8),
        change("us", d(2027, 3, 17, 11), 2, 3),
        change("eu", d(2027, 3, 25, 10), 8, 10),
    ]
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=changes,
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    # eu 17th: 3 × 10 × 15/31 = 14.52; us 17th: 1 × 10 × 15/31 = 4.84; eu 25th: 2 × 10 × 7/31 = 4.516… → 4.52
    assert [(line.region, line.period_start.day, line.amount) for line in lines] == [
        ("eu", 17, Decimal("14.52")),
        ("us", 17, Decimal("4.84")),
        ("eu", 25, Decimal("4.52")),
    ]


def test_a_day_whose_changes_cancel_out_makes_no_line():
    changes = [change("eu", d(2027, 3, 17, 10), 5, 8), change("eu", d(2027, 3, 17, 11), 8, 5)]
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=changes,
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    assert lines == []


def test_seats_down_on_the_day_of_an_increase_nets_below_the_increase():
    # Up 5 → 8 then down to 7 the same day: one line of +2 seats, 2 × 10 × 15/31 = 9.677… → 9.68
    changes = [change("eu", d(2027, 3, 17, 10), 5, 8), change("eu", d(2027, 3, 17, 16), 8, 7)]
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=changes,
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    assert [(line.seats, line.amount) for line in lines] == [(2, Decimal("9.68"))]


def test_an_upgrade_prorates_the_price_difference():
    # 4 seats from 10.00 to 15.00 on the 17th: 4 × 5.00 × 15/31 = 9.677… → 9.68
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=[change("us", d(2027, 3, 17), 4, 4, "10.00", "15.00")],
        currency="USD",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    assert [(line.seats, line.unit_price, line.amount) for line in lines] == [
        (0, Decimal("15.00"), Decimal("9.68"))
    ]


def test_currency_rounding_is_half_up_per_currency():
    assert set(pricing.CURRENCIES) == {"USD", "EUR", "AUD"}
    # 1 seat × 0.05 EUR × 15/30 = 0.025 exactly: half up gives 0.03 (banker's rounding would give 0.02).
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=[change("eu", d(2027, 4, 16), 0, 1, "0.05")],
        currency="EUR",
        period_start=d(2027, 4, 1),
        period_end=d(2027, 5, 1),
    )
    assert lines[0].amount == Decimal("0.03")
    assert pricing.money(Decimal("2.345"), "AUD") == Decimal("2.35")
    assert pricing.money(Decimal("-2.345"), "USD") == Decimal("-2.35")
    assert pricing.money(Fraction(1, 3), "USD") == Decimal("0.33")


def test_yearly_proration_counts_days_of_the_year():
    # 2 seats at 100.00 a year added on 2 July 2027: 183 of 365 days → 200 × 183/365 = 100.273… → 100.27
    lines = pricing.proration_lines(
        product_name="Backup",
        changes=[change("au", d(2027, 7, 2, 8), 3, 5, "100.00")],
        currency="AUD",
        period_start=d(2027, 1, 1),
        period_end=d(2028, 1, 1),
    )
    assert lines[0].amount == Decimal("100.27")
    assert "183 of 365 days" in lines[0].description


def test_mrr_normalises_yearly_prices_to_a_month():
    assert pricing.mrr(unit_price=Decimal("10.00"), seats=7, interval="month", currency="USD") == Decimal(
        "70.00"
    )
    assert pricing.mrr(unit_price=Decimal("120.00"), seats=3, interval="year", currency="USD") == Decimal(
        "30.00"
    )
    assert pricing.mrr(unit_price=Decimal("100.00"), seats=1, interval="year", currency="EUR") == Decimal(
        "8.33"
    )


def test_recurring_lines_one_per_region_and_the_total_is_their_sum():
    lines = pricing.recurring_lines(
        product_name="Backup",
        seats_by_region={"us": 3, "eu": 5, "au": 0},
        unit_price=Decimal("12.99"),
        currency="AUD",
        interval="month",
        period_start=d(2027, 3, 1),
        period_end=d(2027, 4, 1),
    )
    assert [(line.region, line.seats, line.amount) for line in lines] == [
        ("eu", 5, Decimal("64.95")),
        ("us", 3, Decimal("38.97")),
    ]
    draft = pricing.InvoiceDraft(
        currency="AUD", period_start=d(2027, 3, 1), period_end=d(2027, 4, 1), lines=lines
    )
    assert draft.total == Decimal("103.92")
