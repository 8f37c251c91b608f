"""Reads for the directory API on Atrium's machine port: the catalog, and what one tenant
owns in every region (its regions and entitlements). A fixed number of queries each."""

from django.conf import settings
from django.db.models import Prefetch

from accounts.models import Account
from products.models import Entitlement, Product, ProductRegion
from regions.models import Region


def _region(region: Region) -> dict:
    return {"code": region.code, "name": region.name, "people_url": region.people_url.rstrip("/")}


def directory_catalog() -> dict:
    """Every product (coming soon last, as on the portal's catalog) with the regions offering
    it, and every region; three queries."""
    availability = ProductRegion.objects.select_related("region").order_by("region__code")
    products = Product.objects.prefetch_related(Prefetch("availability", queryset=availability))
    products = sorted(products, key=lambda p: (p.coming_soon, p.name, p.code))
    return {
        "portal_url": settings.ATRIUM_ISSUER,
        "regions": [_region(region) for region in Region.objects.order_by("code")],
        "products": [
            {
                "code": product.code,
                "name": product.name,
                "tagline": product.tagline,
                "icon": product.icon,
                "coming_soon": product.coming_soon,
                "regions": [link.region.code for link in product.availability.all()],
            }
            for product in products
        ],
    }


def directory_tenant(*, account: Account) -> dict:
    """The account's regions and its entitlements in every region (whatever their status: a
    region's navigation offers "buy" for an expired one); two queries."""
    regions = Region.objects.filter(account_regions__account=account).order_by("code")
    entitlements = (
        Entitlement.objects.filter(account=account)
        .select_related("product", "region")
        .order_by("product__code", "region__code")
    )
    return {
        "tenant": account.slug,
        "name": account.name,
        "regions": [_region(region) for region in regions],
        "products": [
            {"code": e.product.code, "name": e.product.name, "status": e.status, "region": e.region.code}
            for e in entitlements
        ],
    }
