"""Upsell: an account that owns a product adds a region to it in one click. Every member is
provisioned there (accounts.services.account_region_add back-fills them when the account did
not use the region yet) and the region receives the entitlements document, all in one
transaction; the progress page reads the members' ledger rows in that region.

- "Owns" means an effective entitlement (active, or a running trial) in some region.
- Owned as active anywhere: the new region is active too (no end, unless every active one ends;
  then the latest end). Owned only as a running trial: the new region joins the trial with the
  trial's end (a trial has one end, trials.py) and its reminders already sent, so adding a region
  never restarts or lengthens a trial. Buying it is another issue's job.
- A region where the entitlement expired or was cancelled can be added back; one where the
  account is entitled now is refused.
- Admins and owners ("members.manage", as for trials: it provisions every member).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership
from accounts.services import account_region_add
from products.models import Entitlement, Product, ProductRegion
from products.selectors import CatalogEntry, RegionOffer
from products.services import entitlement_set
from regions.models import AccountRegion, ProvisioningRecord, Region

ACTIVE = Entitlement.Status.ACTIVE
TRIAL = Entitlement.Status.TRIAL
RIGHT = "members.manage"

# Who bills a product an account pays for: billing registers a function from its AppConfig.ready
# (products knows nothing of money). When one answers with a page, a region of that product is
# added there, its seats charged, never here for free — billing must not drift from what the
# account can use.
BILLED_AT: list[Callable[[Account, Product], str | None]] = []


def billed_at(*, account: Account, product: Product) -> str | None:
    """The page where the account's paid subscription to the product changes, if it has one."""
    for where in BILLED_AT:
        url = where(account, product)
        if url:
            return url
    return None


@dataclass(frozen=True)
class UpsellPlan:
    """What adding the region would do: the entitlement's status and end, whether the account
    starts using the region, and how many members are provisioned there."""

    status: str
    ends_at: datetime | None
    reminders_sent: list[str]
    adds_region: bool
    members: int


def _members_to_provision(account: Account, region: Region) -> int:
    """Members the region holds once the account uses it: every one not being removed whose
    region access is all regions (or includes this one)."""
    memberships = Membership.objects.filter(account=account).exclude(status=Membership.Status.REMOVING)
    return memberships.filter(Q(all_regions=True) | Q(regions=region)).distinct().count()


def _plan(*, account: Account, product: Product, region: Region, rows: list[Entitlement]) -> UpsellPlan:
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    if product.coming_soon:
        raise ValidationError(f"{product.name} is not available yet (coming soon).", code="coming_soon")
    if not ProductRegion.objects.filter(product=product, region=region).exists():
        raise ValidationError(f"{product.name} is not offered in {region.name}.", code="unavailable")
    owned = [row for row in rows if row.is_effective]
    if not owned:
        raise ValidationError(
            f"{account.name} does not own {product.name}: start a trial or buy it first.", code="not_owned"
        )
    if any(row.region_id == region.pk for row in owned):
        raise ValidationError(f"{account.name} already has {product.name} in {region.name}.", code="entitled")
    active = [row for row in owned if row.status == ACTIVE]
    billing_page = billed_at(account=account, product=product) if active else None
    if billing_page:
        raise ValidationError(
            f"{account.name} pays for {product.name} per seat: add {region.name} with its seats on the "
            f"billing page ({billing_page}), where the change is previewed and charged.",
            code="billed",
        )
    basis = active or owned  # the active ones, else the trial's
    ends = [row.ends_at for row in basis]
    ends_at = None if None in ends else max(ends)
    status = ACTIVE if active else TRIAL
    sent = [] if active else sorted(set().union(*(row.reminders_sent for row in owned)))
    adds_region = not AccountRegion.objects.filter(account=account, region=region).exists()
    return UpsellPlan(
        status=status, ends_at=ends_at, reminders_sent=sent, adds_region=adds_region,
        members=_members_to_provision(account, region),
    )  # fmt: skip


def product_region_plan(*, account: Account, product: Product, region: Region) -> UpsellPlan:
    """What product_region_add would do (for the confirmation page), or the ValidationError
    it would raise. Writes nothing."""
    rows = list(Entitlement.objects.filter(account=account, product=product))
    return _plan(account=account, product=product, region=region, rows=rows)


@transaction.atomic
def product_region_add(
    *, account: Account, product: Product, region: Region, actor: Membership
) -> Entitlement:
    """Give the account the product it owns in one more region, adding the region to the
    account if needed (every member is provisioned there). Returns the new entitlement."""
    if actor.account_id != account.pk:
        raise PermissionDenied("Not a member of this account.")
    permissions.require(actor, RIGHT)
    account = account_lock(account.pk)  # orders concurrent changes
    rows = list(Entitlement.objects.select_for_update().filter(account=account, product=product))
    plan = _plan(account=account, product=product, region=region, rows=rows)
    if plan.adds_region:
        account_region_add(account=account, region=region, audit_actor=actor.user)
    entitlement = entitlement_set(
        account=account, product=product, region=region, status=plan.status, ends_at=plan.ends_at,
        actor=actor.user,
    )  # fmt: skip
    Entitlement.objects.filter(pk=entitlement.pk).update(reminders_sent=plan.reminders_sent)
    entitlement.reminders_sent = plan.reminders_sent
    ends_at = plan.ends_at.isoformat() if plan.ends_at else None
    audit_record(
        action="product.region_add", account=account, actor=actor.user, target_type="product",
        target_id=product.code, target_label=f"{product.name} ({region.code.upper()})",
        after={"product": product.code, "region": region.code, "status": plan.status, "ends_at": ends_at,
               "region_added": plan.adds_region, "members": plan.members},
    )  # fmt: skip
    return entitlement


# Reads ---------------------------------------------------------------------------------------


def upsell_offers(*, entry: CatalogEntry, membership: Membership | None) -> list[RegionOffer]:
    """The regions the product page offers to add: offered, the account not entitled there,
    while it owns the product elsewhere; only to people with the right. No query."""
    if membership is None or entry.product.coming_soon or not permissions.can(membership, RIGHT):
        return []
    if not any(offer.entitlement.is_effective for offer in entry.owned):
        return []
    return [
        offer
        for offer in entry.offers
        if offer.available and (offer.entitlement is None or not offer.entitlement.is_effective)
    ]


@dataclass(frozen=True)
class RegionProgress:
    """The account's members in one region, from their ledger rows (those desiring presence),
    and the state of the region's entitlements document ("" when there is none)."""

    members: int
    synced: int
    pending: int
    retrying: int
    failed: int
    document: str

    @property
    def failing(self) -> int:
        return self.retrying + self.failed

    @property
    def waiting(self) -> bool:
        """Something is still on its way (a page keeps polling); failed rows wait for a retry."""
        waiting = (ProvisioningRecord.State.PENDING, ProvisioningRecord.State.RETRYING)
        return bool(self.pending or self.retrying or self.document in waiting)

    @property
    def complete(self) -> bool:
        return self.synced == self.members and self.document == ProvisioningRecord.State.SYNCED

    @property
    def percent(self) -> int:
        return 100 if not self.members else self.synced * 100 // self.members


def region_progress(*, account: Account, region: Region) -> RegionProgress:
    """How many of the account's members are synced / pending / retrying / failed in a region
    it uses, and its entitlements document's state: two queries whatever the number of members.
    A region the account does not use is a 404."""
    if not AccountRegion.objects.filter(account=account, region=region).exists():
        raise Http404("The account does not use this region")
    State = ProvisioningRecord.State
    user = Q(kind=ProvisioningRecord.Kind.USER, desired__isnull=False)
    document = Q(kind=ProvisioningRecord.Kind.ENTITLEMENTS, object_key="entitlements")
    counts = ProvisioningRecord.objects.filter(tenant=account.slug, region=region).aggregate(
        members=Count("pk", filter=user),
        synced=Count("pk", filter=user & Q(state=State.SYNCED)),
        pending=Count("pk", filter=user & Q(state=State.PENDING)),
        retrying=Count("pk", filter=user & Q(state=State.RETRYING)),
        failed=Count("pk", filter=user & Q(state=State.FAILED)),
        document=Max("state", filter=document),  # one document per tenant and region
    )
    counts["document"] = counts["document"] or ""
    return RegionProgress(**counts)
