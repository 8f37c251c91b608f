"""Payments and dunning.

Payments go through a provider (`PaymentProvider`): a provider records money received for an
invoice; `ManualProvider` is staff marking an invoice paid in Django admin (a bank transfer seen).
A card provider would implement the same `record` and call `invoice_mark_paid` from its webhook.

Dunning (`dunning_run`, every few minutes from the beat): invoices are due when issued (billing is
in advance). An open invoice gets a reminder one day past due ("1d") and, ATRIUM_BILLING_GRACE_DAYS
(default 14) past due, a past-due notice ("grace") that makes its subscription past_due; each mail
is sent once (recorded in Invoice.reminders_sent). Access: a period already paid for is never taken
away. The entitlements expire only when the invoice of the period running now is itself unpaid
past grace (an older overdue invoice makes the subscription past_due and sends its notices, but
the period paid for keeps its access to its end); paying every overdue invoice makes the
subscription active again and the entitlements active again.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Membership, User
from billing.invoicing import mrr_of, seats_of, state_of
from billing.models import Invoice, Payment, Subscription, SubscriptionEvent
from products.models import Entitlement

logger = logging.getLogger(__name__)


def grace_days() -> int:
    return int(getattr(settings, "ATRIUM_BILLING_GRACE_DAYS", 14))


class PaymentProvider(Protocol):
    code: str

    def record(
        self, *, invoice: Invoice, reference: str, recorded_by: User | None, now: datetime
    ) -> Payment: ...


class ManualProvider:
    """Staff saw the money arrive (bank transfer) and mark the invoice paid."""

    code = "manual"

    def record(self, *, invoice: Invoice, reference: str, recorded_by: User | None, now: datetime) -> Payment:
        return Payment.objects.create(
            invoice=invoice,
            provider=self.code,
            reference=reference,
            amount=invoice.total,
            currency=invoice.currency,
            paid_at=now,
            recorded_by=recorded_by,
        )


PROVIDERS: dict[str, PaymentProvider] = {ManualProvider.code: ManualProvider()}


def _overdue(subscription: Subscription, now: datetime):
    return subscription.invoices.filter(
        status=Invoice.Status.OPEN, due_at__lte=now - timedelta(days=grace_days())
    )


@transaction.atomic
def invoice_mark_paid(
    *,
    invoice: Invoice,
    actor: Membership | User | None,
    provider: str = "manual",
    reference: str = "",
    now: datetime | None = None,
) -> Invoice:
    """Record the payment of an open invoice (idempotent: a paid invoice stays as it is). Clears
    past due when no other invoice of the subscription is overdue, and gives access back."""
    now = now or timezone.now()
    if isinstance(actor, Membership) or (actor is not None and not actor.is_staff):
        raise PermissionDenied("Only Atrium staff or a payment provider record payments.")
    if provider not in PROVIDERS:
        raise ValidationError(f"Unknown payment provider {provider!r}.", code="provider")
    account_lock(invoice.account_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.PAID:
        return invoice
    if invoice.status == Invoice.Status.VOID:
        raise ValidationError(f"Invoice {invoice.number} is void.", code="void")
    PROVIDERS[provider].record(invoice=invoice, reference=reference, recorded_by=actor, now=now)
    invoice.status, invoice.paid_at = Invoice.Status.PAID, now
    invoice.save(update_fields=["status", "paid_at"])
    audit_record(
        action="invoice.paid",
        account=invoice.account,
        actor=actor,
        target_type="invoice",
        target_id=invoice.pk,
        target_label=invoice.number,
        before={"status": "open"},
        after={
            "status": "paid",
            "provider": provider,
            "amount": str(invoice.total),
            "currency": invoice.currency,
        },
    )
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__product", "pending_plan__product", "product", "account")
        .get(pk=invoice.subscription_id)
    )
    if subscription.status == Subscription.Status.PAST_DUE:
        if not _overdue(subscription, now).exists():
            _clear_past_due(subscription, now=now, actor=actor)
        elif invoice.period_start <= now < invoice.period_end:
            # The period running now is paid for: it gets its access back even though an older
            # invoice keeps the subscription past due (dunning never blocks prepaid time).
            _entitlements_restore(subscription, actor=actor)
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: User, reason: str, now: datetime | None = None) -> Invoice:
    """Staff cancel an open invoice that is not owed (billed in error, settled outside Atrium).
    Idempotent; a paid invoice cannot be voided. A void invoice is no longer overdue, so a
    subscription past due only because of it is active again (and its access with it)."""
    now = now or timezone.now()
    if actor is None or not actor.is_staff:
        raise PermissionDenied("Only Atrium staff void invoices.")
    reason = " ".join(str(reason).split())[:300]
    if not reason:
        raise ValidationError("Say why the invoice is void.", code="reason")
    account_lock(invoice.account_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        return invoice
    if invoice.status == Invoice.Status.PAID:
        raise ValidationError(f"Invoice {invoice.number} is paid: refund it instead.", code="paid")
    invoice.status = Invoice.Status.VOID
    invoice.save(update_fields=["status"])
    audit_record(
        action="invoice.void", account=invoice.account, actor=actor, target_type="invoice",
        target_id=invoice.pk, target_label=invoice.number,
        before={"status": "open"}, after={"status": "void", "reason": reason},
    )  # fmt: skip
    subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=invoice.subscription_id)
    if subscription.status == Subscription.Status.PAST_DUE and not _overdue(subscription, now).exists():
        _clear_past_due(subscription, now=now, actor=actor)
    return invoice


def _status_set(
    subscription: Subscription,
    *,
    status: str,
    past_due_since: datetime | None,
    kind: str,
    now: datetime,
    actor: User | None,
) -> list:
    """A status change that leaves seats and price alone (past due, paid up): its event records the
    same MRR before and after. Returns the subscription's regions, read once."""
    items = list(subscription.items.select_related("region"))
    state = state_of(subscription, items)
    mrr = mrr_of(
        unit_price=subscription.unit_price, seats=seats_of(items), interval=subscription.interval,
        currency=subscription.currency,
    )  # fmt: skip
    subscription.status, subscription.past_due_since = status, past_due_since
    subscription.save(update_fields=["status", "past_due_since", "updated_at"])
    SubscriptionEvent.objects.create(
        subscription=subscription, account=subscription.account, kind=kind, effective_at=now,
        mrr_before=mrr, mrr_after=mrr, currency=subscription.currency, before=state, after=state, actor=actor,
    )  # fmt: skip
    return items


def _clear_past_due(subscription: Subscription, *, now: datetime, actor: User | None) -> None:
    items = _status_set(
        subscription, status=Subscription.Status.ACTIVE, past_due_since=None,
        kind=SubscriptionEvent.Kind.PAID, now=now, actor=actor,
    )  # fmt: skip
    _entitlements_restore(subscription, actor=actor, items=items)


def _entitlements_restore(subscription: Subscription, *, actor: User | None, items=None) -> None:
    """Make the entitlements dunning expired active again in the subscription's regions."""
    from billing.services import _entitlements_activate, access_ends_at

    items = items if items is not None else list(subscription.items.select_related("region"))
    expired = [
        e.region
        for e in Entitlement.objects.filter(
            account=subscription.account,
            product=subscription.product,
            status=Entitlement.Status.EXPIRED,
            region__in=[i.region for i in items],
        ).select_related("region")
    ]
    _entitlements_activate(
        account=subscription.account,
        product=subscription.product,
        regions=expired,
        actor=actor,
        ends_at=access_ends_at(subscription),
    )


@dataclass
class DunningResult:
    reminders: int = 0
    past_due: int = 0
    expired: int = 0


REMINDERS = (("1d", lambda: timedelta(days=1)), ("grace", lambda: timedelta(days=grace_days())))


def dunning_run(*, now: datetime) -> DunningResult:
    """Reminders once each; past due after grace; expiry only when the running period is unpaid."""
    result = DunningResult()
    first = min(delay() for _, delay in REMINDERS)
    candidates = list(
        Invoice.objects.filter(status=Invoice.Status.OPEN, due_at__lte=now - first).values_list(
            "pk", flat=True
        )
    )
    for invoice_id in candidates:
        with transaction.atomic():
            _dun(invoice_id, now, result)
    return result


def _recipients(account_id: int) -> list[str]:
    roles = [Membership.Role.OWNER, Membership.Role.BILLING]
    return sorted(
        Membership.objects.filter(
            account_id=account_id, role__in=roles, status=Membership.Status.ACTIVE
        ).values_list("user__email", flat=True)
    )


def _send(invoice_id: int, key: str) -> None:
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    recipients = _recipients(invoice.account_id)
    if not recipients:
        return
    if key == "grace":
        subject = f"Atrium: invoice {invoice.number} is past due"
    else:
        subject = f"Atrium: reminder, invoice {invoice.number} is due"
    body = (
        f"Invoice {invoice.number} for {invoice.account.name}: {invoice.total} {invoice.currency}, due "
        f"{invoice.due_at:%Y-%m-%d}. See {settings.ATRIUM_ISSUER}/a/{invoice.account.slug}/billing/invoices/"
        f"{invoice.number}/\nTime already paid for stays available.\n"
    )
    send_mail(subject, body, None, recipients)


def _dun(invoice_id: int, now: datetime, result: DunningResult) -> None:
    account_id = Invoice.objects.filter(pk=invoice_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return
    account_lock(account_id)  # the lock order of invoice_mark_paid: account, then invoice
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id, status="open").first()
    if invoice is None:
        return
    sent = list(invoice.reminders_sent)
    for key, delay in REMINDERS:
        if key not in sent and invoice.due_at + delay() <= now:
            sent.append(key)
            transaction.on_commit(lambda key=key: _send(invoice_id, key))
            result.reminders += 1
    if sent != invoice.reminders_sent:
        invoice.reminders_sent = sent
        invoice.save(update_fields=["reminders_sent"])
    if invoice.due_at + timedelta(days=grace_days()) > now:
        return
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__product", "pending_plan__product", "product", "account")
        .get(pk=invoice.subscription_id)
    )
    if subscription.status == Subscription.Status.ACTIVE:
        _status_set(
            subscription, status=Subscription.Status.PAST_DUE, past_due_since=now,
            kind=SubscriptionEvent.Kind.PAST_DUE, now=now, actor=None,
        )  # fmt: skip
        result.past_due += 1
    if subscription.status != Subscription.Status.PAST_DUE:
        return
    # Prepaid time is never blocked: expire only if the period running now is itself unpaid.
    running = subscription.invoices.filter(period_start__lte=now, period_end__gt=now).first()
    if running is None or running.status != Invoice.Status.OPEN:
        return
    if running.due_at + timedelta(days=grace_days()) > now:
        return
    from products.services import entitlement_set

    for entitlement in Entitlement.objects.filter(
        account=subscription.account,
        product=subscription.product,
        status=Entitlement.Status.ACTIVE,
        region__in=[i.region_id for i in subscription.items.all()],
    ).select_related("region"):
        entitlement_set(
            account=subscription.account,
            product=subscription.product,
            region=entitlement.region,
            status=Entitlement.Status.EXPIRED,
        )
        result.expired += 1
