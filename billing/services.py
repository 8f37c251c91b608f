"""Billing's writers: trial → paid, seat / region / plan changes (each with a `_preview` twin that
returns the exact amounts from the same code, billing/pricing.py), cancel and reactivate; the
invoice run (billing/invoicing.py) and payments and dunning (billing/payments.py) are re-exported
here. Keyword-only, each owns its transaction; changes are audited with accounts.audit.audit_record.

`actor` is the customer's Membership (it must have `billing.manage` in the subscription's account),
a staff User (Django admin, sales tools), or None for the system (the demo loader, the worker).
`seats_by_region` maps a Region (or a region code) to a seat count.

Rules (see /work/briefs/readme-billing.md):
- seats up and new regions take effect now; the prorated charge goes onto the NEXT invoice, netted
  per region and UTC day (billing/pricing.py);
- a decrease first undoes that day's increases (now), the rest waits for the period's end
  (`pending_seats`; 0 removes the region then);
- a plan change is an upgrade (now, prorated) or a downgrade (period end) as its PlanChange row
  says; a pair without a row is refused;
- cancel takes effect at period end (access runs to it); reactivate undoes a pending cancel.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership, User
from billing import pricing
from billing.invoicing import (
    InvoiceRunResult,
    changes_from_events,
    invoice_create,
    invoices_run,
    mrr_of,
    period_events,
    renewal_plan,
    state_of,
)
from billing.models import Invoice, Plan, PlanChange, Subscription, SubscriptionEvent, SubscriptionRegion
from billing.payments import dunning_run, invoice_mark_paid
from products.models import Entitlement, Product, ProductRegion
from products.services import entitlement_set
from regions.models import AccountRegion, Region

Actor = Membership | User | None
SeatsByRegion = Mapping[Region | str, int]
MAX_SEATS = 100_000

__all__ = [
    "InvoiceRunResult",
    "dunning_run",
    "invoice_mark_paid",
    "invoices_run",
    "subscription_cancel",
    "subscription_convert_trial",
    "subscription_convert_trial_preview",
    "subscription_plan_change",
    "subscription_plan_change_preview",
    "subscription_reactivate",
    "subscription_seats_change",
    "subscription_seats_change_preview",
]


# -- helpers -------------------------------------------------------------------------------------


def authorize(actor: Actor, account: Account) -> User | None:
    """The user to audit as, after checking the actor may manage this account's billing."""
    if actor is None:
        return None
    if isinstance(actor, Membership):
        if actor.account_id != account.pk:
            raise PermissionDenied("This membership belongs to another account.")
        permissions.require(actor, "billing.manage")
        return actor.user
    if not actor.is_staff:
        raise PermissionDenied("Only Atrium staff or the account's billing roles change billing.")
    return actor


def _now(now: datetime | None) -> datetime:
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValidationError("`now` needs a time zone.", code="naive")
    return now


def _regions_by_code(seats_by_region: SeatsByRegion) -> tuple[dict[str, int], dict[str, Region]]:
    """Normalise keys to region codes; load the Region rows; refuse bad counts clearly."""
    seats: dict[str, int] = {}
    for key, count in seats_by_region.items():
        code = key.code if isinstance(key, Region) else str(key)
        if "\x00" in code:  # PostgreSQL refuses NUL in text; no region code has one
            raise ValidationError({"seats": "Unknown region."}, code="region_unknown")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ValidationError({"seats": f"Seats for {code} must be a whole number."}, code="seats_type")
        if count < 0 or count > MAX_SEATS:
            raise ValidationError(
                {"seats": f"Seats for {code} must be between 0 and {MAX_SEATS}."}, code="seats"
            )
        seats[code] = count
    regions = {region.code: region for region in Region.objects.filter(code__in=list(seats))}
    unknown = sorted(set(seats) - set(regions))
    if unknown:
        raise ValidationError({"seats": f"Unknown region {', '.join(unknown)}."}, code="region_unknown")
    return seats, regions


def _check_regions_sellable(*, account: Account, product: Product, codes: list[str]) -> None:
    offered = set(
        ProductRegion.objects.filter(product=product, region__code__in=codes).values_list(
            "region__code", flat=True
        )
    )
    used = set(
        AccountRegion.objects.filter(account=account, region__code__in=codes).values_list(
            "region__code", flat=True
        )
    )
    for code in sorted(codes):
        if code not in offered:
            raise ValidationError({"seats": f"{product.name} is not offered in {code}."}, code="unavailable")
        if code not in used:
            raise ValidationError(
                {"seats": f"{account.name} does not use region {code}."}, code="region_not_used"
            )


def _items(subscription: Subscription) -> list[SubscriptionRegion]:
    return list(subscription.items.select_related("region").order_by("region__code"))


def _region_names(items, extra: dict[str, Region] | None = None) -> dict[str, str]:
    names = {item.region.code: item.region.name for item in items}
    names.update({code: region.name for code, region in (extra or {}).items()})
    return names


def _lock(subscription: Subscription) -> Subscription:
    account_lock(subscription.account_id)
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__product", "pending_plan__product", "product", "account")
        .get(pk=subscription.pk)
    )


def _require_live(subscription: Subscription, now: datetime) -> None:
    if subscription.status == Subscription.Status.CANCELLED:
        raise ValidationError("This subscription is cancelled.", code="cancelled")
    if subscription.current_period_end <= now:
        # The invoice run renews it first, so a change always lands in the right period.
        raise ValidationError(
            "This subscription's period has ended; it renews within minutes.", code="renewing"
        )
    if now < subscription.current_period_start:
        # `now` was taken before a renewal this change waited for (the run held the lock): dated in
        # the period just invoiced, it would never be charged. The customer retries in the new one.
        raise ValidationError("This subscription has just renewed; try again.", code="renewing")


def entitlements_end(*, subscription: Subscription, region_codes: list[str], status: str) -> None:
    """End the subscription's entitlements in these regions (cancelled, expired)."""
    for region in Region.objects.filter(code__in=region_codes).order_by("code"):
        entitlement_set(
            account=subscription.account, product=subscription.product, region=region, status=status
        )


def _entitlements_activate(
    *, account: Account, product: Product, regions, actor: User | None, ends_at: datetime | None = None
) -> None:
    for region in regions:
        entitlement_set(
            account=account,
            product=product,
            region=region,
            status=Entitlement.Status.ACTIVE,
            ends_at=ends_at,
            actor=actor,
        )


def access_ends_at(subscription: Subscription) -> datetime | None:
    """When a region's access stops by itself: the period end of a cancelling subscription (so
    regions stop on time even if the worker is late), else never."""
    return subscription.current_period_end if subscription.cancel_at_period_end else None


# -- previews ------------------------------------------------------------------------------------


@dataclass
class ChangePreview:
    """What a change does: the seats and plan now and at period end, the prorated amount it adds
    to the next invoice (`charge_now`), and that next invoice in full (`next_invoice`)."""

    subscription: Subscription
    seats_now: dict[str, int]
    seats_at_renewal: dict[str, int]
    plan_now: Plan
    plan_at_renewal: Plan
    unit_price_now: Decimal
    charge_now: Decimal
    next_invoice: pricing.InvoiceDraft
    takes_effect: str  # "now", "period_end", "now_and_period_end" or "nothing"
    messages: list[str] = field(default_factory=list)
    # internal: what apply writes
    _seats: dict[str, int] = field(default_factory=dict, repr=False)
    _pending: dict[str, int | None] = field(default_factory=dict, repr=False)
    _new_regions: dict[str, Region] = field(default_factory=dict, repr=False)
    _upgrade: bool = False
    _pending_plan: Plan | None = None


def subscription_convert_trial_preview(
    *,
    account: Account,
    product: Product,
    plan: Plan,
    seats_by_region: SeatsByRegion,
    now: datetime | None = None,
) -> pricing.InvoiceDraft:
    """The first invoice (billing.pricing.InvoiceDraft) converting now would create; writes nothing."""
    now = _now(now)
    if plan.product_id != product.pk:
        raise ValidationError({"plan": f"{plan.name} is not a plan of {product.name}."}, code="plan_product")
    if not plan.active:
        raise ValidationError({"plan": f"{plan.name} is no longer offered."}, code="plan_retired")
    seats, regions = _regions_by_code(seats_by_region)
    seats = {code: count for code, count in seats.items() if count > 0}
    if not seats:
        raise ValidationError({"seats": "Buy at least one seat in one region."}, code="no_seats")
    _check_regions_sellable(account=account, product=product, codes=list(seats))
    start = pricing.utc_day_start(now)
    end = pricing.period_end(start, plan.interval)
    draft = pricing.InvoiceDraft(currency=plan.currency, period_start=start, period_end=end)
    draft.lines = pricing.recurring_lines(
        product_name=product.name,
        seats_by_region=seats,
        unit_price=plan.unit_price,
        currency=plan.currency,
        interval=plan.interval,
        period_start=start,
        period_end=end,
        region_names={code: region.name for code, region in regions.items()},
    )
    return draft


@transaction.atomic
def subscription_convert_trial(
    *,
    account: Account,
    product: Product,
    plan: Plan,
    seats_by_region: SeatsByRegion,
    actor: Actor,
    now: datetime | None = None,
    expected_total: str | None = None,
) -> Subscription:
    """Trial → paid: an active Subscription with the plan's price locked, its regions, a START
    event, the first invoice (for the first period) and active entitlements in those regions.
    `expected_total` ("<total> <currency>", as the preview showed it) refuses to buy at another price."""
    now = _now(now)
    user = authorize(actor, account)
    account = account_lock(account.pk)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    plan = Plan.objects.select_related("product").get(pk=plan.pk)  # the price as it is now
    draft = subscription_convert_trial_preview(
        account=account, product=product, plan=plan, seats_by_region=seats_by_region, now=now
    )
    if expected_total is not None and expected_total != f"{draft.total} {draft.currency}":
        # Staff changed the plan's price (or currency) after the customer's preview.
        raise ValidationError(
            f"The first invoice is now {draft.total} {draft.currency}, not {expected_total[:40]}: "
            "check the new preview and confirm again.",
            code="preview_changed",
        )
    live = Subscription.objects.filter(account=account, product=product).exclude(
        status=Subscription.Status.CANCELLED
    )
    if live.exists():
        raise ValidationError(f"{account.name} already subscribes to {product.name}.", code="subscribed")
    seats = {line.region: line.seats for line in draft.lines}
    regions = {region.code: region for region in Region.objects.filter(code__in=list(seats))}
    subscription = Subscription.objects.create(
        account=account,
        product=product,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        unit_price=plan.unit_price,
        currency=plan.currency,
        interval=plan.interval,
        current_period_start=draft.period_start,
        current_period_end=draft.period_end,
        started_at=draft.period_start,
        created_at=now,
    )
    items = SubscriptionRegion.objects.bulk_create(
        [
            SubscriptionRegion(subscription=subscription, region=regions[code], seats=n)
            for code, n in seats.items()
        ]
    )
    after = state_of(subscription, items)
    mrr_after = mrr_of(
        unit_price=plan.unit_price, seats=seats, interval=plan.interval, currency=plan.currency
    )
    SubscriptionEvent.objects.create(
        subscription=subscription,
        account=account,
        kind=SubscriptionEvent.Kind.START,
        effective_at=now,
        mrr_before=Decimal("0.00"),
        mrr_after=mrr_after,
        currency=plan.currency,
        before={},
        after=after,
        actor=user,
    )
    invoice = invoice_create(subscription=subscription, draft=draft, regions_by_code=regions, now=now)
    _entitlements_activate(account=account, product=product, regions=regions.values(), actor=user)
    audit_record(
        action="subscription.start",
        account=account,
        actor=user,
        target_type="subscription",
        target_id=subscription.pk,
        target_label=str(product.name),
        after={**after, "invoice": invoice.number, "total": str(invoice.total)},
    )
    return subscription


def _next_invoice(subscription: Subscription, items, changes, region_names) -> pricing.InvoiceDraft:
    renewal = renewal_plan(subscription=subscription, items=items, changes=changes, region_names=region_names)
    if renewal.draft is None:
        end = subscription.current_period_end
        return pricing.InvoiceDraft(currency=subscription.currency, period_start=end, period_end=end)
    return renewal.draft


class _Virtual:
    """A SubscriptionRegion-like row for previews (never saved)."""

    def __init__(self, region: Region, seats: int, pending_seats: int | None):
        self.region, self.seats, self.pending_seats = region, seats, pending_seats


def _change_from(subscription, before_items, after_items, price_after, now) -> list[pricing.Change]:
    before = {i.region.code: i.seats for i in before_items}
    after = {i.region.code: i.seats for i in after_items}
    out = []
    for code in sorted(set(before) | set(after)):
        b, a = before.get(code, 0), after.get(code, 0)
        if b != a or (subscription.unit_price != price_after and a):
            out.append(
                pricing.Change(
                    region=code,
                    at=now,
                    seats_before=b,
                    seats_after=a,
                    price_before=subscription.unit_price,
                    price_after=price_after,
                )
            )
    return out


def _seats_plan(
    subscription: Subscription, items, seats_by_region: SeatsByRegion, now: datetime
) -> ChangePreview:
    seats_req, regions = _regions_by_code(seats_by_region)
    current = {item.region.code: item for item in items}
    new_codes = [code for code, n in seats_req.items() if code not in current and n > 0]
    for code, count in seats_req.items():
        if code not in current and count == 0:
            raise ValidationError(
                {"seats": f"The subscription has no seats in {code}."}, code="region_absent"
            )
    if new_codes:
        _check_regions_sellable(account=subscription.account, product=subscription.product, codes=new_codes)
    events = list(period_events(subscription))
    changes = changes_from_events(events)
    after_items, messages = [], []
    for code in sorted(set(current) | set(new_codes)):
        item = current.get(code)
        seats_now = item.seats if item else 0
        pending = item.pending_seats if item else None
        if code in seats_req:
            target = seats_req[code]
            first = pricing.day_first_state(changes, region=code, at=now)
            day_start_seats = first[0] if first else seats_now
            if target >= seats_now:
                seats_now, pending = target, None
            else:
                immediate = max(target, min(day_start_seats, seats_now))
                seats_now = immediate
                pending = target if target < immediate else None
        region = item.region if item else regions[code]
        if seats_now > 0 or pending is not None:
            after_items.append(_Virtual(region, seats_now, pending))
    if not any((i.pending_seats if i.pending_seats is not None else i.seats) for i in after_items):
        raise ValidationError(
            {"seats": "Keep at least one seat, or cancel the subscription."}, code="no_seats"
        )
    # A region removed the same day it was added (0 seats now) leaves at once.
    after_items = [i for i in after_items if i.seats > 0]
    new_changes = _change_from(subscription, items, after_items, subscription.unit_price, now)
    names = _region_names(items, regions)
    charge = _charge_delta(subscription, changes, new_changes, names)
    preview = ChangePreview(
        subscription=subscription,
        seats_now={i.region.code: i.seats for i in after_items},
        seats_at_renewal={
            i.region.code: (i.pending_seats if i.pending_seats is not None else i.seats) for i in after_items
        },
        plan_now=subscription.plan,
        plan_at_renewal=subscription.pending_plan or subscription.plan,
        unit_price_now=subscription.unit_price,
        charge_now=charge,
        next_invoice=_next_invoice(subscription, after_items, changes + new_changes, names),
        takes_effect="nothing",
        messages=messages,
        _seats={i.region.code: i.seats for i in after_items},
        _pending={i.region.code: i.pending_seats for i in after_items},
        _new_regions=regions,
    )
    now_changed = bool(new_changes)
    # Period end: a pending decrease set, changed or cleared.
    later = any(
        (current[c].pending_seats if c in current else None) != p for c, p in preview._pending.items()
    )
    preview.takes_effect = (
        "now_and_period_end"
        if now_changed and later
        else "now"
        if now_changed
        else "period_end"
        if later
        else "nothing"
    )
    return preview


def _charge_delta(subscription, changes, new_changes, names) -> Decimal:
    """What a change adds to the next invoice: the period's netted prorations with it, minus without."""

    def total(all_changes):
        lines = pricing.proration_lines(
            product_name="",
            changes=all_changes,
            currency=subscription.currency,
            period_start=subscription.current_period_start,
            period_end=subscription.current_period_end,
            region_names=names,
        )
        return sum((line.amount for line in lines), Decimal("0.00"))

    return pricing.money(total(changes + new_changes) - total(changes), subscription.currency)


def subscription_seats_change_preview(
    *, subscription: Subscription, seats_by_region: SeatsByRegion, now: datetime | None = None
) -> ChangePreview:
    """What changing these regions' seats would do (regions not named stay as they are; 0 removes a
    region at period end). Writes nothing."""
    now = _now(now)
    subscription = Subscription.objects.select_related(
        "plan__product", "pending_plan__product", "product", "account"
    ).get(pk=subscription.pk)
    _require_live(subscription, now)
    return _seats_plan(subscription, _items(subscription), seats_by_region, now)


def _record(subscription, kind, before_items, after_items, before_state, user, now, mrr_before):
    after_state = state_of(subscription, after_items)
    mrr_after = mrr_of(
        unit_price=subscription.unit_price,
        seats={i.region.code: i.seats for i in after_items},
        interval=subscription.interval,
        currency=subscription.currency,
    )
    SubscriptionEvent.objects.create(
        subscription=subscription,
        account=subscription.account,
        kind=kind,
        effective_at=now,
        mrr_before=mrr_before,
        mrr_after=mrr_after,
        currency=subscription.currency,
        before=before_state,
        after=after_state,
        actor=user,
    )
    audit_record(
        action=f"subscription.{kind}",
        account=subscription.account,
        actor=user,
        target_type="subscription",
        target_id=subscription.pk,
        target_label=subscription.product.name,
        before=before_state,
        after=after_state,
    )


def _mrr_now(subscription, items) -> Decimal:
    return mrr_of(
        unit_price=subscription.unit_price,
        seats={i.region.code: i.seats for i in items},
        interval=subscription.interval,
        currency=subscription.currency,
    )


@transaction.atomic
def subscription_seats_change(
    *, subscription: Subscription, seats_by_region: SeatsByRegion, actor: Actor, now: datetime | None = None
) -> Subscription:
    """Seats up / new regions now (prorated onto the next invoice, netted per UTC day); seats
    down / removed regions at period end (a decrease first undoes that day's increases)."""
    now = _now(now)
    user = authorize(actor, subscription.account)
    subscription = _lock(subscription)
    _require_live(subscription, now)
    items = _items(subscription)
    preview = _seats_plan(subscription, items, seats_by_region, now)
    if preview.takes_effect == "nothing":
        return subscription
    before_state, mrr_before = state_of(subscription, items), _mrr_now(subscription, items)
    current = {item.region.code: item for item in items}
    added = []
    for code, seats in preview._seats.items():
        item = current.pop(code, None)
        if item is None:
            region = preview._new_regions[code]
            item = SubscriptionRegion.objects.create(
                subscription=subscription, region=region, seats=seats, pending_seats=preview._pending[code]
            )
            added.append(region)
        elif (item.seats, item.pending_seats) != (seats, preview._pending[code]):
            item.seats, item.pending_seats = seats, preview._pending[code]
            item.save(update_fields=["seats", "pending_seats"])
    removed_now = list(current.values())  # added and removed the same day
    SubscriptionRegion.objects.filter(pk__in=[i.pk for i in removed_now]).delete()
    after_items = _items(subscription)
    kind = SubscriptionEvent.Kind.REGIONS if added or removed_now else SubscriptionEvent.Kind.SEATS
    _record(subscription, kind, items, after_items, before_state, user, now, mrr_before)
    _entitlements_activate(
        account=subscription.account,
        product=subscription.product,
        regions=added,
        actor=user,
        ends_at=access_ends_at(subscription),
    )
    if removed_now:
        entitlements_end(
            subscription=subscription, region_codes=[i.region.code for i in removed_now], status="cancelled"
        )
    return subscription


def _plan_plan(subscription: Subscription, items, plan: Plan, now: datetime) -> ChangePreview:
    if plan.pk == subscription.plan_id:
        raise ValidationError({"plan": "The subscription is already on this plan."}, code="same_plan")
    if plan.product_id != subscription.product_id:
        raise ValidationError({"plan": f"{plan.name} is not a plan of this product."}, code="plan_product")
    if not plan.active:
        raise ValidationError({"plan": f"{plan.name} is no longer offered."}, code="plan_retired")
    if plan.currency != subscription.currency:
        # The renewal invoice would carry this period's prorations, computed in the old currency.
        raise ValidationError(
            {
                "plan": f"{plan.name} is billed in {plan.currency}; "
                "cancel and subscribe again to switch currency."
            },
            code="plan_currency",
        )
    rule = PlanChange.objects.filter(from_plan_id=subscription.plan_id, to_plan=plan).first()
    if rule is None:
        raise ValidationError(
            {
                "plan": f"Changing from {subscription.plan.name} to {plan.name} is not offered; "
                "contact Atrium."
            },
            code="no_plan_change",
        )
    events = list(period_events(subscription))
    changes = changes_from_events(events)
    names = _region_names(items)
    upgrade = rule.direction == PlanChange.Direction.UPGRADE
    if upgrade and (plan.currency != subscription.currency or plan.interval != subscription.interval):
        raise ValidationError(
            {
                "plan": "An immediate upgrade keeps the currency and billing interval; this pair should be a "
                "downgrade (at period end)."
            },
            code="upgrade_mismatch",
        )
    renewal_items = [_Virtual(i.region, i.seats, i.pending_seats) for i in items]
    if upgrade:
        new_changes = _change_from(subscription, items, items, plan.unit_price, now)
        charge = _charge_delta(subscription, changes, new_changes, names)
        # The renewal after an upgrade: the new plan, no pending downgrade.
        virtual = Subscription(
            pk=subscription.pk,
            account_id=subscription.account_id,
            product=subscription.product,
            plan=plan,
            pending_plan=None,
            unit_price=plan.unit_price,
            currency=plan.currency,
            interval=plan.interval,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            started_at=subscription.started_at,
            cancel_at_period_end=subscription.cancel_at_period_end,
        )
        next_invoice = _next_invoice(virtual, renewal_items, changes + new_changes, names)
    else:
        charge = Decimal("0.00")
        virtual = Subscription(
            pk=subscription.pk,
            account_id=subscription.account_id,
            product=subscription.product,
            plan=subscription.plan,
            pending_plan=plan,
            unit_price=subscription.unit_price,
            currency=subscription.currency,
            interval=subscription.interval,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            started_at=subscription.started_at,
            cancel_at_period_end=subscription.cancel_at_period_end,
        )
        next_invoice = _next_invoice(virtual, renewal_items, changes, names)
    seats = {i.region.code: i.seats for i in items}
    return ChangePreview(
        subscription=subscription,
        seats_now=seats,
        seats_at_renewal={
            c: (i.pending_seats if i.pending_seats is not None else i.seats)
            for c, i in ((i.region.code, i) for i in items)
        },
        plan_now=plan if upgrade else subscription.plan,
        plan_at_renewal=plan,
        unit_price_now=plan.unit_price if upgrade else subscription.unit_price,
        charge_now=charge,
        next_invoice=next_invoice,
        takes_effect="now" if upgrade else "period_end",
        _upgrade=upgrade,
        _pending_plan=None if upgrade else plan,
    )


def subscription_plan_change_preview(
    *, subscription: Subscription, plan: Plan, now: datetime | None = None
) -> ChangePreview:
    now = _now(now)
    subscription = Subscription.objects.select_related(
        "plan__product", "pending_plan__product", "product", "account"
    ).get(pk=subscription.pk)
    _require_live(subscription, now)
    return _plan_plan(subscription, _items(subscription), plan, now)


@transaction.atomic
def subscription_plan_change(
    *, subscription: Subscription, plan: Plan, actor: Actor, now: datetime | None = None
) -> Subscription:
    """Upgrade now (prorated) or downgrade at period end, as the PlanChange row for the pair says;
    a pair without a row is refused (ValidationError)."""
    now = _now(now)
    user = authorize(actor, subscription.account)
    subscription = _lock(subscription)
    _require_live(subscription, now)
    items = _items(subscription)
    plan = Plan.objects.select_related("product").get(pk=plan.pk)
    preview = _plan_plan(subscription, items, plan, now)
    before_state, mrr_before = state_of(subscription, items), _mrr_now(subscription, items)
    if preview._upgrade:
        subscription.plan, subscription.unit_price, subscription.pending_plan = plan, plan.unit_price, None
    else:
        subscription.pending_plan = plan
    subscription.save(update_fields=["plan", "unit_price", "pending_plan", "updated_at"])
    _record(subscription, SubscriptionEvent.Kind.PLAN, items, items, before_state, user, now, mrr_before)
    return subscription


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, actor: Actor, now: datetime | None = None
) -> Subscription:
    """Cancel at period end: access and the paid period run to its end (entitlements carry that end,
    so regions stop on time even if the worker is late)."""
    now = _now(now)
    user = authorize(actor, subscription.account)
    subscription = _lock(subscription)
    _require_live(subscription, now)
    if subscription.cancel_at_period_end:
        return subscription
    subscription.cancel_at_period_end = True
    subscription.save(update_fields=["cancel_at_period_end", "updated_at"])
    items = _items(subscription)
    # Access dunning took (an unpaid running period) stays taken: cancelling is not paying.
    expired = set(
        Entitlement.objects.filter(
            account=subscription.account,
            product=subscription.product,
            region__in=[i.region for i in items],
            status=Entitlement.Status.EXPIRED,
        ).values_list("region_id", flat=True)
    )
    for item in items:
        entitlement_set(
            account=subscription.account,
            product=subscription.product,
            region=item.region,
            status=Entitlement.Status.EXPIRED if item.region_id in expired else Entitlement.Status.ACTIVE,
            ends_at=subscription.current_period_end,
            actor=user,
        )
    audit_record(
        action="subscription.cancel",
        account=subscription.account,
        actor=user,
        target_type="subscription",
        target_id=subscription.pk,
        target_label=subscription.product.name,
        after={"cancel_at_period_end": True, "ends_at": subscription.current_period_end.isoformat()},
    )
    return subscription


@transaction.atomic
def subscription_reactivate(
    *, subscription: Subscription, actor: Actor, now: datetime | None = None
) -> Subscription:
    """Undo a pending cancellation before the period ends (after it, subscribe again)."""
    now = _now(now)
    user = authorize(actor, subscription.account)
    subscription = _lock(subscription)
    _require_live(subscription, now)
    if not subscription.cancel_at_period_end:
        raise ValidationError("This subscription is not being cancelled.", code="not_cancelling")
    subscription.cancel_at_period_end = False
    subscription.save(update_fields=["cancel_at_period_end", "updated_at"])
    expired = (
        subscription.status == Subscription.Status.PAST_DUE
        and Entitlement.objects.filter(
            account=subscription.account, product=subscription.product, status=Entitlement.Status.EXPIRED
        ).exists()
    )
    for item in _items(subscription):
        entitlement_set(
            account=subscription.account,
            product=subscription.product,
            region=item.region,
            status=Entitlement.Status.EXPIRED if expired else Entitlement.Status.ACTIVE,
            ends_at=None,
            actor=user,
        )
    audit_record(
        action="subscription.reactivate",
        account=subscription.account,
        actor=user,
        target_type="subscription",
        target_id=subscription.pk,
        target_label=subscription.product.name,
        after={"cancel_at_period_end": False},
    )
    return subscription


def invoice_for(*, subscription: Subscription) -> Invoice | None:
    """The invoice of the subscription's current period (None before the first run)."""
    return subscription.invoices.filter(period_start=subscription.current_period_start).first()
