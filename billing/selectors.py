"""Billing's reads for the customer pages and the API: a fixed number of queries whatever the
number of subscriptions, invoices or members."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import Account, Membership
from billing import pricing
from billing.invoicing import CHANGE_KINDS, changes_from_events, renewal_plan
from billing.models import Invoice, Plan, Subscription, SubscriptionEvent, SubscriptionRegion
from products.models import Product
from regions.models import Region

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def plans_offered(*, product: Product | None = None) -> QuerySet[Plan]:
    plans = Plan.objects.filter(active=True).select_related("product")
    return plans.filter(product=product) if product is not None else plans


def seats_in_use(*, account: Account, region_codes: list[str]) -> dict[str, int]:
    """Active members with access to each region (all regions, or that region chosen): the seats
    the account actually uses. One query."""
    if not region_codes:
        return {}
    active = Membership.objects.filter(account=account, status=Membership.Status.ACTIVE, user__is_active=True)
    counts = active.aggregate(
        **{
            f"r_{code}": Count("pk", distinct=True, filter=Q(all_regions=True) | Q(regions__code=code))
            for code in region_codes
        }
    )
    return {code: counts[f"r_{code}"] for code in region_codes}


@dataclass
class SubscriptionRow:
    subscription: Subscription
    items: list[SubscriptionRegion]
    seats_used: dict[str, int]
    next_invoice: pricing.InvoiceDraft

    @property
    def seats_purchased(self) -> int:
        return sum(item.seats for item in self.items)

    @property
    def rows(self) -> list[dict]:
        return [
            {
                "item": item,
                "used": self.seats_used.get(item.region.code, 0),
                "over": self.seats_used.get(item.region.code, 0) > item.seats,
            }
            for item in self.items
        ]


def subscriptions_of_account(*, account: Account) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(account=account)
        .select_related("plan__product", "pending_plan__product", "product")
        .prefetch_related(
            Prefetch(
                "items", queryset=SubscriptionRegion.objects.select_related("region").order_by("region__code")
            )
        )
        .order_by("product__code", "-started_at")
    )


def subscription_of_account(*, account: Account, subscription_id: int) -> Subscription:
    found = subscriptions_of_account(account=account).filter(pk=subscription_id).first()
    if found is None:
        raise Http404("No such subscription")
    return found


def billing_overview(*, account: Account) -> list[SubscriptionRow]:
    """Each live subscription with seats used vs purchased and its upcoming invoice (what renewal
    will bill, prorations included). Four queries."""
    subscriptions = list(subscriptions_of_account(account=account).filter(status__in=LIVE))
    if not subscriptions:
        return []
    earliest = min(s.current_period_start for s in subscriptions)
    events: dict[int, list[SubscriptionEvent]] = {}
    for event in SubscriptionEvent.objects.filter(
        subscription__in=subscriptions, kind__in=CHANGE_KINDS, effective_at__gte=earliest
    ).order_by("effective_at", "pk"):
        events.setdefault(event.subscription_id, []).append(event)
    codes = sorted({item.region.code for s in subscriptions for item in s.items.all()})
    used = seats_in_use(account=account, region_codes=codes)
    rows = []
    for subscription in subscriptions:
        items = list(subscription.items.all())
        in_period = [
            e
            for e in events.get(subscription.pk, [])
            if subscription.current_period_start <= e.effective_at < subscription.current_period_end
        ]
        renewal = renewal_plan(
            subscription=subscription, items=items, changes=changes_from_events(in_period),
            region_names={i.region.code: i.region.name for i in items},
        )  # fmt: skip
        draft = renewal.draft or pricing.InvoiceDraft(
            currency=subscription.currency,
            period_start=subscription.current_period_end,
            period_end=subscription.current_period_end,
        )
        rows.append(
            SubscriptionRow(subscription=subscription, items=items, seats_used=used, next_invoice=draft)
        )
    return rows


def invoices_of_account(*, account: Account) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(account=account)
        .select_related("subscription__product")
        .order_by("-period_start", "-pk")
    )


def invoice_of_account(*, account: Account, number: str) -> Invoice:
    """Another account's invoice is indistinguishable from a missing one (404)."""
    if "\x00" in number:  # PostgreSQL refuses NUL in text: no invoice has one
        raise Http404("No such invoice")
    invoice = (
        Invoice.objects.filter(account=account, number=number)
        .select_related("account", "subscription__product", "subscription__plan")
        .prefetch_related("lines__region", "lines__product", "payments")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice")
    return invoice


def sellable_regions(*, account: Account, product: Product) -> list[Region]:
    """Regions the product is offered in and the account uses: where seats can be bought."""
    return list(
        Region.objects.filter(
            pk__in=product.availability.values("region_id"), account_regions__account=account
        ).order_by("code")
    )


def upcoming_total(rows: list[SubscriptionRow]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row.next_invoice.currency] = totals.get(row.next_invoice.currency, Decimal("0.00")) + (
            row.next_invoice.total
        )
    return totals
