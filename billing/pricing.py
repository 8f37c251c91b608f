"""The invoice arithmetic, pure (no database reads or writes): previews and the invoice run call the
same functions, so a preview is exactly what is later invoiced.

Choices, documented once:
- Money is `Decimal`, rounded per currency (CURRENCIES) once per invoice line, ROUND_HALF_UP; an
  invoice total is the sum of its rounded lines.
- A period is [start, end). Periods begin at 00:00 UTC; a monthly period ends on the same day of
  the next calendar month, a yearly one a calendar year later. The day of month is anchored on the
  subscription's first period (31 Jan → 28/29 Feb → 31 Mar: no drift after a short month).
- Proration is by whole UTC days: a change made at any time on a day counts from the start of that
  day to the period's end, over the period's number of days. Because every change of a day shares
  one fraction, all the seat changes of one subscription region on one UTC day net into ONE
  proration line, from the day's first seats (and price) to its last.
- MRR is normalised to a month: yearly price / 12, rounded like money.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MONTH = "month"
YEAR = "year"


@dataclass(frozen=True)
class CurrencyRule:
    places: int
    rounding: str = ROUND_HALF_UP

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)


# The one table of currency rounding.
CURRENCIES: dict[str, CurrencyRule] = {
    "USD": CurrencyRule(places=2),
    "EUR": CurrencyRule(places=2),
    "AUD": CurrencyRule(places=2),
}


def money(amount: Decimal | Fraction | int, currency: str) -> Decimal:
    """Round an exact amount to the currency's minor unit."""
    rule = CURRENCIES[currency]
    if isinstance(amount, Fraction):
        # Exact: Decimal division at high precision, then one rounding (no float anywhere).
        amount = Decimal(amount.numerator) / Decimal(amount.denominator)
    return Decimal(amount).quantize(rule.quantum, rounding=rule.rounding)


def utc_day_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _add_months(start: date | datetime, months: int, anchor_day: int) -> datetime:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, tzinfo=UTC)


def period_end(start: datetime, interval: str, anchor_day: int | None = None) -> datetime:
    """The end of the period beginning at `start` (00:00 UTC), in calendar months or years."""
    if interval not in (MONTH, YEAR):
        raise ValueError(f"Unknown interval {interval!r}")
    start = utc_day_start(start)
    anchor_day = anchor_day or start.day
    return _add_months(start, 1 if interval == MONTH else 12, anchor_day)


def period_days(start: datetime, end: datetime) -> int:
    return (utc_day_start(end) - utc_day_start(start)).days


def remaining_fraction(*, period_start: datetime, period_end: datetime, at: datetime) -> Fraction:
    """The share of the period left from the start of `at`'s UTC day (inclusive) to its end."""
    total = period_days(period_start, period_end)
    day = max(utc_day_start(at), utc_day_start(period_start))
    remaining = (utc_day_start(period_end) - day).days
    if total <= 0 or remaining <= 0:
        return Fraction(0)
    return Fraction(min(remaining, total), total)


def mrr(*, unit_price: Decimal, seats: int, interval: str, currency: str) -> Decimal:
    """Monthly recurring revenue of `seats` at `unit_price` per interval."""
    per_interval = Decimal(unit_price) * seats
    return money(per_interval if interval == MONTH else Fraction(per_interval) / 12, currency)


@dataclass(frozen=True)
class Line:
    """One invoice line as billing.models.InvoiceLine stores it (region by code)."""

    kind: str  # "recurring" or "proration"
    region: str
    description: str
    seats: int
    unit_price: Decimal
    amount: Decimal
    period_start: datetime
    period_end: datetime


@dataclass
class InvoiceDraft:
    currency: str
    period_start: datetime
    period_end: datetime
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), money(0, self.currency))


def recurring_lines(
    *,
    product_name: str,
    seats_by_region: dict[str, int],
    unit_price: Decimal,
    currency: str,
    interval: str,
    period_start: datetime,
    period_end: datetime,
    region_names: dict[str, str] | None = None,
) -> list[Line]:
    """One line per product × region: seats × the locked unit price for the whole period."""
    names = region_names or {}
    lines = []
    for code in sorted(seats_by_region):
        seats = seats_by_region[code]
        if seats <= 0:
            continue
        lines.append(
            Line(
                kind="recurring",
                region=code,
                description=f"{product_name} — {names.get(code, code)}: {seats} seats × "
                f"{money(unit_price, currency)} {currency} per {interval}, "
                f"{period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}",
                seats=seats,
                unit_price=money(unit_price, currency),
                amount=money(Decimal(unit_price) * seats, currency),
                period_start=period_start,
                period_end=period_end,
            )
        )
    return lines


@dataclass(frozen=True)
class Change:
    """One mid-period change of one region: seats and unit price before and after, when."""

    region: str
    at: datetime
    seats_before: int
    seats_after: int
    price_before: Decimal
    price_after: Decimal


def proration_amount(
    *,
    first_seats: int,
    first_price: Decimal,
    last_seats: int,
    last_price: Decimal,
    fraction: Fraction,
    currency: str,
) -> Decimal:
    """(last seats × last price − first seats × first price) × the remaining share, rounded once."""
    delta = Fraction(Decimal(last_price) * last_seats - Decimal(first_price) * first_seats)
    return money(delta * fraction, currency)


def proration_lines(
    *,
    product_name: str,
    changes: Iterable[Change],
    currency: str,
    period_start: datetime,
    period_end: datetime,
    region_names: dict[str, str] | None = None,
) -> list[Line]:
    """Net the changes per region and UTC day (first state of the day → last) into one line each;
    a day whose changes cancel out makes no line."""
    names = region_names or {}
    by_key: dict[tuple[str, datetime], list[Change]] = {}
    for change in sorted(changes, key=lambda c: c.at):
        by_key.setdefault((change.region, utc_day_start(change.at)), []).append(change)
    lines = []
    for (region, day), day_changes in sorted(by_key.items(), key=lambda item: (item[0][1], item[0][0])):
        first, last = day_changes[0], day_changes[-1]
        fraction = remaining_fraction(period_start=period_start, period_end=period_end, at=day)
        amount = proration_amount(
            first_seats=first.seats_before,
            first_price=first.price_before,
            last_seats=last.seats_after,
            last_price=last.price_after,
            fraction=fraction,
            currency=currency,
        )
        if amount == 0 and first.seats_before == last.seats_after:
            continue
        remaining = (utc_day_start(period_end) - day).days
        total = period_days(period_start, period_end)
        what = f"{first.seats_before} → {last.seats_after} seats"
        if first.price_before != last.price_after:
            what += (
                f", {money(first.price_before, currency)} → {money(last.price_after, currency)} {currency}"
            )
        lines.append(
            Line(
                kind="proration",
                region=region,
                description=f"{product_name} — {names.get(region, region)}: {what} on {day:%Y-%m-%d}, "
                f"{remaining} of {total} days",
                seats=last.seats_after - first.seats_before,
                unit_price=money(last.price_after, currency),
                amount=amount,
                period_start=day,
                period_end=period_end,
            )
        )
    return lines


def day_first_state(changes: Sequence[Change], *, region: str, at: datetime) -> tuple[int, Decimal] | None:
    """The seats and price a region had at the start of `at`'s UTC day, if it changed that day."""
    day = utc_day_start(at)
    for change in sorted(changes, key=lambda c: c.at):
        if change.region == region and utc_day_start(change.at) == day:
            return change.seats_before, change.price_before
    return None
