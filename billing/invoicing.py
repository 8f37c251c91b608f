"""Invoices: the draft of a period's invoice (recurring lines per product × region plus the netted
proration of the previous period's changes), and the invoice run that renews subscriptions at
period end.

The run is idempotent twice over: accounts, then subscriptions, are taken with `FOR UPDATE SKIP
LOCKED` and re-filtered on their period under the lock (a second, concurrent run renews other rows
or none; a skipped one is renewed by the next beat),
and the database allows one invoice per subscription and period (invoice_one_per_subscription_period).
It works in chunks with bulk writes, so 5,000 subscriptions take a few dozen queries per chunk.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Account
from billing import pricing
from billing.models import Invoice, InvoiceLine, Plan, Subscription, SubscriptionEvent, SubscriptionRegion

logger = logging.getLogger(__name__)

CHANGE_KINDS = (SubscriptionEvent.Kind.SEATS, SubscriptionEvent.Kind.REGIONS, SubscriptionEvent.Kind.PLAN)
RUN_CHUNK = 500


def invoice_number(*, account_id: int, period_start: datetime, subscription_id: int) -> str:
    """Deterministic: the same subscription and period always get the same number."""
    return f"ATR-{account_id}-{period_start:%Y%m}-{subscription_id}"


def plan_label(plan: Plan) -> str:
    return f"{plan.product.code}/{plan.code}"


def seats_of(items) -> dict[str, int]:
    return {item.region.code: item.seats for item in items}


def state_of(subscription: Subscription, items) -> dict:
    """The JSON snapshot kept in SubscriptionEvent.before / .after."""
    return {
        "plan": plan_label(subscription.plan),
        "unit_price": str(subscription.unit_price),
        "interval": subscription.interval,
        "seats": seats_of(items),
        "pending_seats": {i.region.code: i.pending_seats for i in items if i.pending_seats is not None},
        "pending_plan": plan_label(subscription.pending_plan) if subscription.pending_plan_id else None,
        "cancel_at_period_end": subscription.cancel_at_period_end,
    }


def mrr_of(*, unit_price: Decimal, seats: dict[str, int], interval: str, currency: str) -> Decimal:
    return pricing.mrr(unit_price=unit_price, seats=sum(seats.values()), interval=interval, currency=currency)


def changes_from_events(events) -> list[pricing.Change]:
    """The mid-period changes (seats, regions, upgrades) the events recorded, per region."""
    changes = []
    for event in events:
        if event.kind not in CHANGE_KINDS:
            continue
        before_seats, after_seats = event.before.get("seats", {}), event.after.get("seats", {})
        price_before = Decimal(event.before.get("unit_price", "0"))
        price_after = Decimal(event.after.get("unit_price", "0"))
        for region in sorted(set(before_seats) | set(after_seats)):
            seats_before, seats_after = before_seats.get(region, 0), after_seats.get(region, 0)
            if seats_before == seats_after and (price_before == price_after or seats_after == 0):
                continue
            changes.append(
                pricing.Change(
                    region=region,
                    at=event.effective_at,
                    seats_before=seats_before,
                    seats_after=seats_after,
                    price_before=price_before,
                    price_after=price_after,
                )
            )
    return changes


def period_events(subscription: Subscription):
    return SubscriptionEvent.objects.filter(
        subscription=subscription,
        kind__in=CHANGE_KINDS,
        effective_at__gte=subscription.current_period_start,
        effective_at__lt=subscription.current_period_end,
    ).order_by("effective_at", "pk")


@dataclass
class Renewal:
    """What renewing a subscription at its period end does (computed, not yet written)."""

    cancelled: bool
    plan: Plan
    unit_price: Decimal
    currency: str
    interval: str
    period_start: datetime
    period_end: datetime
    seats: dict[str, int]  # after pending decreases; 0 = region removed
    removed_regions: list[str]
    draft: pricing.InvoiceDraft | None  # None: nothing to invoice (a cancellation without prorations)


def renewal_plan(
    *, subscription: Subscription, items, changes: list[pricing.Change], region_names: dict[str, str]
) -> Renewal:
    """Pure: the renewal of `subscription` at its current period end, with the invoice it makes.
    Pending decreases and downgrades apply; the price is locked anew from the (new) plan."""
    product_name = subscription.product.name
    old_start, old_end = subscription.current_period_start, subscription.current_period_end
    prorations = pricing.proration_lines(
        product_name=product_name,
        changes=changes,
        currency=subscription.currency,
        period_start=old_start,
        period_end=old_end,
        region_names=region_names,
    )
    seats = {
        item.region.code: (item.pending_seats if item.pending_seats is not None else item.seats)
        for item in items
    }
    removed = sorted(code for code, count in seats.items() if count == 0)
    if subscription.cancel_at_period_end:
        draft = None
        if prorations:
            draft = pricing.InvoiceDraft(
                currency=subscription.currency, period_start=old_end, period_end=old_end, lines=prorations
            )
        return Renewal(
            cancelled=True,
            plan=subscription.plan,
            unit_price=subscription.unit_price,
            currency=subscription.currency,
            interval=subscription.interval,
            period_start=old_end,
            period_end=old_end,
            seats=seats,
            removed_regions=sorted(seats),
            draft=draft,
        )
    plan = subscription.pending_plan or subscription.plan
    anchor_day = pricing.utc_day_start(subscription.started_at).day
    new_end = pricing.period_end(old_end, plan.interval, anchor_day)
    draft = pricing.InvoiceDraft(currency=plan.currency, period_start=old_end, period_end=new_end)
    draft.lines = (
        pricing.recurring_lines(
            product_name=product_name,
            seats_by_region=seats,
            unit_price=plan.unit_price,
            currency=plan.currency,
            interval=plan.interval,
            period_start=old_end,
            period_end=new_end,
            region_names=region_names,
        )
        + prorations
    )
    return Renewal(
        cancelled=False,
        plan=plan,
        unit_price=plan.unit_price,
        currency=plan.currency,
        interval=plan.interval,
        period_start=old_end,
        period_end=new_end,
        seats=seats,
        removed_regions=removed,
        draft=draft,
    )


def invoice_objects(
    *,
    subscription: Subscription,
    draft: pricing.InvoiceDraft,
    regions_by_code: dict,
    now: datetime,
    due_at: datetime | None = None,
) -> tuple[Invoice, list[InvoiceLine]]:
    """Billing is in advance: a renewal's invoice is due when its period starts (a late worker does
    not lengthen the grace period); the first invoice when the customer converts."""
    invoice = Invoice(
        number=invoice_number(
            account_id=subscription.account_id,
            period_start=draft.period_start,
            subscription_id=subscription.pk,
        ),
        account_id=subscription.account_id,
        subscription=subscription,
        period_start=draft.period_start,
        period_end=draft.period_end,
        currency=draft.currency,
        total=draft.total,
        status=Invoice.Status.OPEN,
        issued_at=now,
        due_at=due_at or now,
    )
    lines = [
        InvoiceLine(
            invoice=invoice,
            kind=line.kind,
            product_id=subscription.product_id,
            region=regions_by_code[line.region],
            description=line.description[:300],
            seats=line.seats,
            unit_price=line.unit_price,
            amount=line.amount,
            period_start=line.period_start,
            period_end=line.period_end,
            position=position,
        )
        for position, line in enumerate(draft.lines)
    ]
    return invoice, lines


def invoice_create(
    *, subscription: Subscription, draft: pricing.InvoiceDraft, regions_by_code: dict, now: datetime
) -> Invoice:
    invoice, lines = invoice_objects(
        subscription=subscription, draft=draft, regions_by_code=regions_by_code, now=now
    )
    invoice.save()
    InvoiceLine.objects.bulk_create(lines)
    return invoice


@dataclass
class InvoiceRunResult:
    subscriptions_renewed: int = 0
    invoices_created: int = 0
    cancelled: int = 0
    invoice_numbers: list[str] = field(default_factory=list)


def _due(now: datetime):
    return Subscription.objects.filter(
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE],
        current_period_end__lte=now,
        account__closed_at__isnull=True,
    )


def invoices_run(*, now: datetime) -> InvoiceRunResult:
    """Renew every subscription whose period ended by `now` (several periods if the worker was
    down) and create each period's invoice. Safe to run twice or concurrently."""
    result = InvoiceRunResult()
    skipped: set[int] = set()
    while True:
        with transaction.atomic():
            taken = _run_chunk(now=now, result=result, skipped=skipped)
        if taken < RUN_CHUNK:
            return result


def _run_chunk(*, now: datetime, result: InvoiceRunResult, skipped: set[int]) -> int:
    """One chunk, in the services' lock order: the Account rows first (skipping accounts another
    transaction holds: a concurrent run, or a customer's change that commits first), then their
    subscriptions. Returns how many due subscriptions it looked at (renewed or skipped)."""
    from billing.services import entitlements_end  # services import this module

    due = list(_due(now).exclude(pk__in=skipped).order_by("pk").values_list("pk", "account_id")[:RUN_CHUNK])
    if not due:
        return 0
    locked = set(
        Account.objects.select_for_update(skip_locked=True)
        .filter(pk__in={account_id for _, account_id in due})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    skipped.update(pk for pk, account_id in due if account_id not in locked)
    subscriptions = list(
        _due(now)
        .filter(pk__in=[pk for pk, account_id in due if account_id in locked])
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("plan__product", "pending_plan__product", "product")
        .order_by("pk")
    )
    # Due rows not taken (locked elsewhere, or renewed meanwhile) are not looked at again in this run.
    skipped.update({pk for pk, _ in due} - {sub.pk for sub in subscriptions})
    if not subscriptions:
        return len(due)
    ids = [s.pk for s in subscriptions]
    items_by_sub: dict[int, list[SubscriptionRegion]] = {}
    regions_by_code = {}
    for item in SubscriptionRegion.objects.filter(subscription_id__in=ids).select_related("region"):
        items_by_sub.setdefault(item.subscription_id, []).append(item)
        regions_by_code[item.region.code] = item.region
    region_names = {code: region.name for code, region in regions_by_code.items()}
    earliest = min(s.current_period_start for s in subscriptions)
    events_by_sub: dict[int, list[SubscriptionEvent]] = {}
    events = SubscriptionEvent.objects.filter(
        subscription_id__in=ids, kind__in=CHANGE_KINDS, effective_at__gte=earliest
    ).order_by("effective_at", "pk")
    for event in events:
        events_by_sub.setdefault(event.subscription_id, []).append(event)

    invoices, lines, new_events, deleted_items, changed_items = [], [], [], [], []
    to_end: list[tuple[Subscription, list[str], str]] = []
    for subscription in subscriptions:
        subscription.updated_at = now
        items = sorted(items_by_sub.get(subscription.pk, []), key=lambda i: i.region.code)
        sub_events = events_by_sub.get(subscription.pk, [])
        while subscription.current_period_end <= now and subscription.status != Subscription.Status.CANCELLED:
            in_period = [
                e
                for e in sub_events
                if subscription.current_period_start <= e.effective_at < subscription.current_period_end
            ]
            before = state_of(subscription, items)
            mrr_before = mrr_of(
                unit_price=subscription.unit_price,
                seats=seats_of(items),
                interval=subscription.interval,
                currency=subscription.currency,
            )
            renewal = renewal_plan(
                subscription=subscription,
                items=items,
                changes=changes_from_events(in_period),
                region_names=region_names,
            )
            if renewal.draft is not None:
                invoice, invoice_lines = invoice_objects(
                    subscription=subscription,
                    draft=renewal.draft,
                    regions_by_code=regions_by_code,
                    now=now,
                    due_at=renewal.draft.period_start,
                )
                invoices.append(invoice)
                lines.extend(invoice_lines)
            if renewal.cancelled:
                subscription.status = Subscription.Status.CANCELLED
                subscription.cancelled_at = subscription.current_period_end
                kind, mrr_after = SubscriptionEvent.Kind.CANCEL, Decimal("0.00")
                to_end.append((subscription, renewal.removed_regions, "cancelled"))
                effective = subscription.current_period_end
            else:
                effective = subscription.current_period_end
                subscription.plan = renewal.plan
                subscription.pending_plan = None
                subscription.unit_price = renewal.unit_price
                subscription.currency = renewal.currency
                subscription.interval = renewal.interval
                subscription.current_period_start = renewal.period_start
                subscription.current_period_end = renewal.period_end
                kept = []
                for item in items:
                    if item.pending_seats is not None:
                        item.seats, item.pending_seats = item.pending_seats, None
                        (deleted_items if item.seats == 0 else changed_items).append(item)
                    if item.seats:
                        kept.append(item)
                items = kept
                if renewal.removed_regions:
                    to_end.append((subscription, renewal.removed_regions, "cancelled"))
                kind = SubscriptionEvent.Kind.RENEW
                mrr_after = mrr_of(
                    unit_price=subscription.unit_price,
                    seats=seats_of(items),
                    interval=subscription.interval,
                    currency=subscription.currency,
                )
                result.subscriptions_renewed += 1
            new_events.append(
                SubscriptionEvent(
                    subscription=subscription,
                    account_id=subscription.account_id,
                    kind=kind,
                    effective_at=effective,
                    mrr_before=mrr_before,
                    mrr_after=mrr_after,
                    currency=subscription.currency,
                    before=before,
                    after=state_of(subscription, items),
                )
            )
            if renewal.cancelled:
                result.cancelled += 1
    if invoices:
        Invoice.objects.bulk_create(invoices, batch_size=1000)
        InvoiceLine.objects.bulk_create(lines, batch_size=2000)
        result.invoices_created += len(invoices)
        result.invoice_numbers.extend(invoice.number for invoice in invoices)
    SubscriptionEvent.objects.bulk_create(new_events, batch_size=1000)
    _save_renewals(subscriptions)
    if changed_items:
        SubscriptionRegion.objects.bulk_update(
            [i for i in changed_items if i.seats], ["seats", "pending_seats"], batch_size=500
        )
    if deleted_items:
        SubscriptionRegion.objects.filter(pk__in=[i.pk for i in deleted_items]).delete()
    for subscription, region_codes, status in to_end:
        try:
            entitlements_end(subscription=subscription, region_codes=region_codes, status=status)
        except ValidationError:
            # A closed account or a withdrawn region: the invoice and the renewal still stand.
            logger.warning("billing: could not end entitlements of subscription %s", subscription.pk)
    return len(due)


def _save_renewals(subscriptions: list[Subscription]) -> None:
    """One parameterised UPDATE per row, sent in one pipeline (psycopg executemany): Django's
    bulk_update builds CASE expressions that cost seconds per thousand rows."""
    # The table name is a literal on purpose (no string building in SQL); test_invoice_run covers it.
    sql = (
        "UPDATE billing_subscription SET plan_id = %s, pending_plan_id = %s, unit_price = %s, currency = %s, "
        "interval = %s, current_period_start = %s, current_period_end = %s, status = %s, cancelled_at = %s, "
        "updated_at = %s WHERE id = %s"
    )
    rows = [
        (s.plan_id, s.pending_plan_id, s.unit_price, s.currency, s.interval, s.current_period_start,
         s.current_period_end, s.status, s.cancelled_at, s.updated_at, s.pk)
        for s in subscriptions
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
