"""Free trials: an admin starts one, staff extend it, a periodic sweep mails reminders and
expires it. Every status change goes through services.entitlement_set, so each region's
entitlements document is recorded anew in the same transaction.

- One trial per product per account: starting one for a product the account has (or had) any
  entitlement to, in any region, is refused. Adding regions to a running trial is the upsell's
  job, not a second start.
- A trial covers one or more regions with one end; extending it moves the end of every region.
- Reminders: 7 days and 1 day before the end, each once (Entitlement.reminders_sent). A trial
  shorter than a reminder's lead never gets it; extending a trial makes its reminders due again.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership, User
from accounts.services import account_region_add
from products import emails, sales_flags
from products.models import Entitlement, Product, ProductRegion
from products.services import entitlement_set
from regions.models import AccountRegion, Region

logger = logging.getLogger(__name__)

TRIAL = Entitlement.Status.TRIAL
# (key, lead): the longest lead first.
REMINDERS = (("7d", timedelta(days=7)), ("1d", timedelta(days=1)))
MAX_EXTENSION_DAYS = 365


def _reminders_due(ends_at: datetime, now: datetime) -> list[str]:
    """Keys of the reminders whose time has come for a trial ending at `ends_at`."""
    return [key for key, lead in REMINDERS if ends_at - lead <= now]


def _label(product: Product, regions: list[Region]) -> str:
    return f"{product.name} ({', '.join(r.code.upper() for r in regions)})"


@transaction.atomic
def trial_start(
    *, account: Account, product: Product, regions: list[Region], actor: Membership
) -> list[Entitlement]:
    """Start the account's free trial of the product in these regions (admins and owners: the
    "members.manage" right for now). Regions the account does not use yet are added, which
    provisions every member there. Returns the trial's entitlements, one per region."""
    if actor.account_id != account.pk:
        raise PermissionDenied("Not a member of this account.")
    permissions.require(actor, "members.manage")
    account = account_lock(account.pk)  # orders concurrent starts
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    if product.coming_soon:
        raise ValidationError(f"{product.name} is not available yet (coming soon).", code="coming_soon")
    if not product.trial_days:
        raise ValidationError(f"{product.name} has no free trial.", code="no_trial")
    regions = sorted({region.pk: region for region in regions}.values(), key=lambda r: r.code)
    if not regions:
        raise ValidationError("Choose at least one region.", code="no_region")
    offered = set(ProductRegion.objects.filter(product=product).values_list("region_id", flat=True))
    unavailable = [region.name for region in regions if region.pk not in offered]
    if unavailable:
        raise ValidationError(
            f"{product.name} is not offered in {', '.join(unavailable)}.", code="unavailable"
        )
    if Entitlement.objects.filter(account=account, product=product).exists():
        raise ValidationError(
            f"{account.name} already has or had {product.name}: one free trial per product.",
            code="trial_taken",
        )
    used = set(AccountRegion.objects.filter(account=account).values_list("region_id", flat=True))
    added = []
    for region in regions:
        if region.pk not in used:
            account_region_add(account=account, region=region, audit_actor=actor.user)
            added.append(region.code)
    now = timezone.now()
    if not 0 < product.trial_days <= 3650:  # (a catalog edited outside the admin's validation)
        raise ValidationError({"product": f"{product.name} has no valid trial length."}, code="no_trial")
    ends_at = now + timedelta(days=product.trial_days)
    entitlements = []
    for region in regions:
        entitlement = entitlement_set(
            account=account, product=product, region=region, status=TRIAL, ends_at=ends_at, actor=actor.user
        )
        entitlements.append(entitlement)
    # A reminder already due at the start (a 7-day trial's "7 days left") is never sent.
    Entitlement.objects.filter(pk__in=[e.pk for e in entitlements]).update(
        reminders_sent=_reminders_due(ends_at, now)
    )
    audit_record(
        action="trial.start", account=account, actor=actor.user, target_type="product",
        target_id=product.code, target_label=_label(product, regions),
        after={"product": product.code, "regions": [r.code for r in regions], "regions_added": added,
               "ends_at": ends_at.isoformat()},
    )  # fmt: skip
    # A lead for sales when another account of the same company domain tried it too; never a refusal.
    sales_flags.trial_sales_flags_record(account=account, product=product, starter=actor.user)
    return entitlements


@transaction.atomic
def trial_extend(*, entitlement: Entitlement, days: int, actor: User) -> list[Entitlement]:
    """Staff give a running trial `days` more (every region of it: a trial has one end, counted
    from now if it already passed). Returns the trial's entitlements."""
    if actor is None or not actor.is_staff:
        raise PermissionDenied("Only staff extend trials.")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(f"Extend by 1 to {MAX_EXTENSION_DAYS} days.", code="days")
    account = account_lock(entitlement.account_id)
    rows = list(
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("product", "region")
        .filter(account=account, product_id=entitlement.product_id, status=TRIAL)
        .order_by("region__code")
    )
    if not rows:
        raise ValidationError("Only a running trial can be extended.", code="not_trial")
    now = timezone.now()
    ends = [row.ends_at for row in rows if row.ends_at is not None]
    before = max(ends) if ends else now
    ends_at = max(before, now) + timedelta(days=days)
    product = rows[0].product
    extended = [
        entitlement_set(
            account=account, product=product, region=row.region, status=TRIAL, ends_at=ends_at, actor=actor
        )
        for row in rows
    ]
    Entitlement.objects.filter(pk__in=[e.pk for e in extended]).update(
        reminders_sent=_reminders_due(ends_at, now)
    )
    audit_record(
        action="trial.extend", account=account, actor=actor, target_type="product",
        target_id=product.code, target_label=_label(product, [row.region for row in rows]),
        before={"ends_at": before.isoformat()}, after={"ends_at": ends_at.isoformat(), "days": days},
    )  # fmt: skip
    return extended


def _expire(entitlement: Entitlement, now: datetime) -> bool:
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=entitlement.account_id).first()  # account first
        locked = (
            Entitlement.objects.select_for_update(of=("self",))
            .select_related("account", "product", "region")
            .filter(pk=entitlement.pk, status=TRIAL, ends_at__lte=now)  # not extended meanwhile
            .first()
        )
        if locked is None:
            return False
        entitlement_set(
            account=locked.account, product=locked.product, region=locked.region,
            status=Entitlement.Status.EXPIRED, ends_at=locked.ends_at,
        )  # fmt: skip
        return True


def _remind(account_id: int, product_id: int, now: datetime) -> bool:
    """Mail the trial's most urgent due reminder unless it went already; True when mailed. The
    mark and the mail share a transaction: a failed send is retried by the next sweep."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account_id).first()
        rows = list(
            Entitlement.objects.select_for_update(of=("self",))
            .select_related("account", "product", "region")
            .filter(account_id=account_id, product_id=product_id, status=TRIAL, ends_at__gt=now)
            .order_by("region__code")
        )
        if not rows:
            return False
        ends_at = min(row.ends_at for row in rows)
        due = _reminders_due(ends_at, now)
        sent = set().union(*(row.reminders_sent for row in rows))
        if not due or due[-1] in sent:
            return False
        for row in rows:
            row.reminders_sent = sorted(set(row.reminders_sent) | set(due))
            row.save(update_fields=["reminders_sent"])
        emails.send_trial_reminder(
            account=rows[0].account, product=rows[0].product, regions=[row.region for row in rows],
            ends_at=ends_at, now=now,
        )  # fmt: skip
        return True


def trials_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Expire trials whose end passed (each region's document is pushed) and mail the reminders
    due, each once. Idempotent: run it as often as you like (a beat task does)."""
    now = now or timezone.now()
    expired = 0
    past = Entitlement.objects.filter(status=TRIAL, ends_at__lte=now).order_by("pk")
    for entitlement in past:
        try:
            expired += _expire(entitlement, now)
        except ValidationError as exc:  # e.g. the account closed: its regions were withdrawn already
            logger.warning("trial %s not expired through the ledger: %s", entitlement.pk, exc)
            still = Entitlement.objects.filter(pk=entitlement.pk, status=TRIAL, ends_at__lte=now)
            expired += still.update(status=Entitlement.Status.EXPIRED)
    longest = REMINDERS[0][1]
    soon = Entitlement.objects.filter(
        status=TRIAL, ends_at__gt=now, ends_at__lte=now + longest, account__closed_at__isnull=True
    )
    trials = sorted(set(soon.values_list("account_id", "product_id")))
    reminded = 0
    for account_id, product_id in trials:
        # One account's failure (a mail server refusing one address, a bad row) must not keep the
        # reminders of every other account from going out; the next sweep tries it again.
        try:
            reminded += _remind(account_id, product_id, now)
        except Exception:
            logger.exception("trial reminder for account %s, product %s failed", account_id, product_id)
    return {"expired": expired, "reminded": reminded}
