"""Reads for the catalog pages: a fixed number of queries whatever the catalog's size."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import Http404

from accounts import permissions
from accounts.models import Account, Membership, User
from products.models import Entitlement, Product, ProductRegion
from regions.models import Region


def catalog_memberships(*, user: User) -> list[Membership]:
    """The person's active memberships of open accounts, in the account switcher's order."""
    memberships = (
        Membership.objects.filter(user=user, status=Membership.Status.ACTIVE, account__closed_at__isnull=True)
        .select_related("account")
        .order_by("account__name", "account__slug")
    )
    return list(memberships)


def catalog_accounts(*, user: User) -> list[Account]:
    """The open accounts the person is an active member of, in the account switcher's order."""
    return [membership.account for membership in catalog_memberships(user=user)]


def catalog_account(*, accounts: list[Account], slug: str | None) -> Account | None:
    """The account the page speaks for: `slug` among the person's own (another slug is a 404,
    as if it did not exist), else their first; None when they have none."""
    if not slug:
        return accounts[0] if accounts else None
    for account in accounts:
        if account.slug == slug:
            return account
    raise Http404("No such account")


@dataclass(frozen=True)
class RegionOffer:
    region: Region
    available: bool
    account_uses: bool
    entitlement: Entitlement | None


@dataclass(frozen=True)
class CatalogEntry:
    product: Product
    offers: list[RegionOffer] = field(default_factory=list)

    @property
    def owned(self) -> list[RegionOffer]:
        return [offer for offer in self.offers if offer.entitlement is not None]


def _entries(products: list[Product], account: Account | None) -> list[CatalogEntry]:
    regions = list(Region.objects.order_by("code"))
    used: set[int] = set()
    owned: dict[tuple[int, int], Entitlement] = {}
    if account is not None:
        used = set(account.account_regions.values_list("region_id", flat=True))
        entitlements = Entitlement.objects.filter(account=account, product__in=[p.pk for p in products])
        owned = {(e.product_id, e.region_id): e for e in entitlements}
    entries = []
    for product in products:
        offered = {link.region_id for link in product.availability.all()}
        offers = [
            RegionOffer(
                region=region,
                available=region.pk in offered,
                account_uses=region.pk in used,
                entitlement=owned.get((product.pk, region.pk)),
            )
            for region in regions
            if region.pk in offered or (product.pk, region.pk) in owned
        ]
        entries.append(CatalogEntry(product=product, offers=offers))
    return entries


def _products():
    return Product.objects.prefetch_related(Prefetch("availability", queryset=ProductRegion.objects.all()))


def catalog(*, account: Account | None) -> list[CatalogEntry]:
    """Every product (coming soon last), where it is offered and what the account owns there."""
    products = sorted(_products(), key=lambda p: (p.coming_soon, p.name, p.code))
    return _entries(products, account)


def catalog_entry(*, code: str, account: Account | None) -> CatalogEntry:
    product = _products().filter(code=code).first()
    if product is None:
        raise Http404("No such product")
    return _entries([product], account)[0]


def product_for_trial(*, code: str) -> Product:
    links = ProductRegion.objects.select_related("region")
    product = Product.objects.prefetch_related(Prefetch("availability", links)).filter(code=code).first()
    if product is None:
        raise Http404("No such product")
    return product


@dataclass(frozen=True)
class TrialOffer:
    """What the product page offers about a free trial: `available` when the account could
    start one (it has no entitlement to the product), `can_start` when this person may."""

    available: bool
    can_start: bool
    offers: list[RegionOffer] = field(default_factory=list)


def trial_offer(*, entry: CatalogEntry, membership: Membership | None) -> TrialOffer:
    product = entry.product
    offers = [offer for offer in entry.offers if offer.available]
    open_to_trial = not product.coming_soon and product.trial_days > 0
    available = bool(membership is not None and open_to_trial and offers and not entry.owned)
    can_start = available and permissions.can(membership, "members.manage")
    return TrialOffer(available=available, can_start=can_start, offers=offers)
