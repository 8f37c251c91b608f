"""The catalog's and entitlements' writers. Every entitlement change records the region's
entitlements document in the provisioning ledger in the same transaction (products/provisioning.py)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, User
from products.models import Entitlement, Product, ProductRegion
from products.provisioning import entitlements_desire
from regions.models import AccountRegion, Region


@transaction.atomic
def product_create(
    *,
    code: str,
    name: str,
    regions: list[Region],
    tagline: str = "",
    description: str = "",
    category: str = "",
    icon: str = "",
    trial_days: int = 0,
    coming_soon: bool = False,
) -> Product:
    product = Product(
        code=code, name=name, tagline=tagline, description=description, category=category, icon=icon,
        trial_days=trial_days, coming_soon=coming_soon,
    )  # fmt: skip
    product.full_clean()
    product.save()
    ProductRegion.objects.bulk_create([ProductRegion(product=product, region=region) for region in regions])
    return product


def entitlement_check(*, account: Account, product: Product, region: Region, status: str) -> None:
    """Why this entitlement cannot exist (ValidationError), or nothing. Also used by the admin
    form, so staff see the reason next to the fields."""
    if status not in Entitlement.Status.values:
        raise ValidationError(f"Unknown status “{status}”.", code="status")
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    # Only granting needs the product on sale there: ending it (a trial's expiry, a cancel) must
    # still reach the region after staff made the product coming soon or withdrew it from there.
    if status in Entitlement.GRANTING and product.coming_soon:
        raise ValidationError(f"{product.name} is not available yet (coming soon).", code="coming_soon")
    if (
        status in Entitlement.GRANTING
        and not ProductRegion.objects.filter(product=product, region=region).exists()
    ):
        raise ValidationError(f"{product.name} is not offered in {region.name}.", code="unavailable")
    if not AccountRegion.objects.filter(account=account, region=region).exists():
        raise ValidationError(f"{account.name} does not use {region.name}.", code="region_not_used")


def _snapshot(entitlement: Entitlement | None) -> dict | None:
    if entitlement is None:
        return None
    ends_at = entitlement.ends_at.isoformat() if entitlement.ends_at else None
    return {"status": entitlement.status, "ends_at": ends_at}


def _label(product: Product, region: Region) -> str:
    return f"{product.name} ({region.code.upper()})"


@transaction.atomic
def entitlement_set(
    *,
    account: Account,
    product: Product,
    region: Region,
    status: str,
    ends_at: datetime | None = None,
    actor: User | None = None,
) -> Entitlement:
    """Give the account this status for the product in the region (create or update). The
    region's document is recorded anew only when something changed, so repeating a call
    (the demo loader, a double submit) neither bumps the version nor logs twice."""
    # The account lock orders concurrent changes, so each document version holds them all.
    account = account_lock(account.pk)
    entitlement_check(account=account, product=product, region=region, status=status)
    if ends_at is not None and timezone.is_naive(ends_at):
        raise ValidationError("ends_at needs a time zone.", code="naive")
    existing = Entitlement.objects.select_for_update().filter(account=account, product=product, region=region)
    entitlement = existing.first()
    before = _snapshot(entitlement)
    if entitlement is None:
        entitlement = Entitlement(account=account, product=product, region=region)
    elif entitlement.status == status and entitlement.ends_at == ends_at:
        return entitlement
    entitlement.status = status
    entitlement.ends_at = ends_at
    if ends_at is not None and ends_at < entitlement.starts_at:
        raise ValidationError("An entitlement cannot end before it starts.", code="ends_before_start")
    entitlement.save()
    audit_record(
        action="entitlement.set", account=account, actor=actor, target_type="entitlement",
        target_id=entitlement.pk, target_label=_label(product, region), before=before,
        after={"product": product.code, "region": region.code, **_snapshot(entitlement)},
    )  # fmt: skip
    entitlements_desire(account, [region])
    return entitlement


@transaction.atomic
def entitlement_delete(*, entitlement: Entitlement, actor: User | None = None) -> None:
    """Staff remove an entitlement row (a mistake); the region's document drops the product.
    (Ending a customer's use is a status change: expired or cancelled.)"""
    account = account_lock(entitlement.account_id)
    locked = Entitlement.objects.select_for_update().select_related("product", "region")
    locked = locked.filter(pk=entitlement.pk).first()
    if locked is None:
        return
    audit_record(
        action="entitlement.delete", account=account, actor=actor, target_type="entitlement",
        target_id=locked.pk, target_label=_label(locked.product, locked.region),
        before={"product": locked.product.code, "region": locked.region.code, **_snapshot(locked)},
    )  # fmt: skip
    region = locked.region
    locked.delete()
    if AccountRegion.objects.filter(account=account, region=region).exists():
        entitlements_desire(account, [region])
