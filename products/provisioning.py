"""What a region learns about an account's products: one versioned document per tenant and
region (ledger kind "entitlements", object key "entitlements"), holding only that region's
entitlements. The ledger's desired_version is the document's version."""

from collections.abc import Iterable
from datetime import UTC

from django.db import transaction

from accounts.models import Account
from products.models import Entitlement
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord, Region

KIND = "entitlements"
OBJECT_KEY = "entitlements"


def _iso(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def entitlements_documents(account: Account, regions: Iterable[Region]) -> dict[int, dict]:
    """Each region's document (by region id), from one query."""
    regions = list(regions)
    documents = {region.pk: {"tenant": account.slug, "products": []} for region in regions}
    rows = (
        Entitlement.objects.filter(account=account, region__in=regions)
        .order_by("product__code")
        .values_list("region_id", "product__code", "status", "ends_at")
    )
    for region_id, code, status, ends_at in rows:
        documents[region_id]["products"].append({"code": code, "status": status, "ends_at": _iso(ends_at)})
    return documents


def entitlements_desire(account: Account, regions: Iterable[Region]) -> list[ProvisioningRecord]:
    """Record each region's current document in the ledger (one call per region, since each
    region gets only its own products). Call inside the transaction of the change."""
    regions = list(regions)
    documents = entitlements_documents(account, regions)
    records = []
    for region in regions:
        records += ledger_desire(
            kind=KIND,
            tenant=account.slug,
            object_key=OBJECT_KEY,
            regions=[region],
            desired=documents[region.pk],
        )
    return records


@transaction.atomic
def entitlements_desire_for_account(account: Account) -> list[ProvisioningRecord]:
    """Every region the account uses gets its document again (call when the account adds a
    region, so the new region learns what the account owns there)."""
    regions = Region.objects.filter(account_regions__account=account).order_by("code")
    return entitlements_desire(account, regions)
