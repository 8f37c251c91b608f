"""Cross-sell: the account home's products panel and rule-based recommendations.

- Owned products (an effective entitlement somewhere) with "Open in US / EU / AU" links to
  `<region people URL>/p/<code>/` in each region where the account is entitled now.
- The other products: "Try it free" (the portal's product page) when the product has a trial the
  account never had, "Coming soon", or a link to the product page (a trial that ended).
- Recommendations from CrossSellRule (staff edit them in Django admin): "accounts with Backup
  often add Security Posture" shows when the account owns `when_product` and lacks
  `recommend_product`; by position, one per recommended product. Also on the catalog page.

Queries are bounded whatever the catalog's size: four on the home, one more on the catalog page.
The panel registers itself with accounts.home_panels on import (products/apps.py ready()).
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.urls import reverse

from accounts.home_panels import home_panel_register
from accounts.models import Account, Membership
from products import trial_requests
from products.models import CrossSellRule, Entitlement, Product, ProductRegion
from products.selectors import CatalogEntry
from regions.models import Region


@dataclass(frozen=True)
class OpenLink:
    region: Region
    url: str


@dataclass(frozen=True)
class OwnedProduct:
    product: Product
    links: list[OpenLink] = field(default_factory=list)


@dataclass(frozen=True)
class OtherProduct:
    product: Product
    action: str  # "try", "coming_soon", "see"
    url: str


@dataclass(frozen=True)
class Recommendation:
    rule: CrossSellRule
    product: Product
    text: str
    url: str
    # A free trial the account can still start: never when its one trial of the product ran.
    can_try: bool = False


def _product_url(product: Product, account: Account) -> str:
    return f"{reverse('products:detail', args=[product.code])}?account={account.slug}"


def _owned_codes(entries: list[CatalogEntry]) -> set[str]:
    return {
        entry.product.code
        for entry in entries
        if any(offer.entitlement.is_effective for offer in entry.owned)
    }


def active_rules() -> list[CrossSellRule]:
    """The active rules in position order, with both products (one query)."""
    rules = CrossSellRule.objects.filter(active=True).select_related("when_product", "recommend_product")
    return list(rules.order_by("position", "pk"))


def recommendations(
    *,
    account: Account,
    owned: set[str],
    rules: list[CrossSellRule],
    can_try: frozenset[str] | set[str] = frozenset(),
) -> list[Recommendation]:
    """The rules that apply to an account owning the products coded `owned`: it owns
    `when_product` and lacks `recommend_product` (not coming soon); the first rule per
    recommended product. `can_try`: codes of the products it can still start a trial of. No query."""
    seen: set[str] = set()
    found = []
    for rule in rules:
        target = rule.recommend_product
        if rule.when_product.code not in owned or target.code in owned or target.coming_soon:
            continue
        if target.code in seen:
            continue
        seen.add(target.code)
        found.append(
            Recommendation(
                rule=rule,
                product=target,
                text=rule.text,
                url=_product_url(target, account),
                can_try=target.code in can_try,
            )  # fmt: skip
        )
    return found


def catalog_recommendations(*, account: Account | None, entries: list[CatalogEntry]) -> list[Recommendation]:
    """For the catalog page, given its entries: one query (the rules)."""
    if account is None:
        return []
    can_try = {
        entry.product.code
        for entry in entries
        if entry.product.trial_days > 0 and not entry.owned and any(offer.available for offer in entry.offers)
    }
    return recommendations(
        account=account, owned=_owned_codes(entries), rules=active_rules(), can_try=can_try
    )


def _open_url(region: Region, product: Product) -> str:
    return f"{region.people_url.rstrip('/')}/p/{product.code}/"


def crosssell_panel(*, account: Account) -> dict:
    """The account home's products panel: owned products with their regions' links, the others
    with what to do, and the recommendations. Four queries whatever the catalog's size."""
    links = ProductRegion.objects.select_related("region")
    products = Product.objects.prefetch_related(Prefetch("availability", queryset=links))
    products = sorted(products, key=lambda p: (p.coming_soon, p.name, p.code))
    entitlements = (
        Entitlement.objects.filter(account=account).select_related("region").order_by("region__code")
    )
    by_product: dict[int, list[Entitlement]] = {}
    for entitlement in entitlements:
        by_product.setdefault(entitlement.product_id, []).append(entitlement)
    owned, others, can_try = [], [], set()
    for product in products:
        rows = by_product.get(product.pk, [])
        effective = [row for row in rows if row.is_effective]
        if effective:
            opens = [OpenLink(region=row.region, url=_open_url(row.region, product)) for row in effective]
            owned.append(OwnedProduct(product=product, links=opens))
        elif product.coming_soon:
            others.append(OtherProduct(product=product, action="coming_soon", url=""))
        else:
            # One trial per product: a product the account had shows its page (buy), not a trial.
            tryable = product.trial_days > 0 and not rows and bool(product.availability.all())
            action = "try" if tryable else "see"
            if action == "try":
                can_try.add(product.code)
            others.append(OtherProduct(product=product, action=action, url=_product_url(product, account)))
    owned_codes = {item.product.code for item in owned}
    return {
        "account": account,
        "owned": owned,
        "others": others,
        "recommendations": recommendations(
            account=account, owned=owned_codes, rules=active_rules(), can_try=can_try
        ),
        "catalog_url": f"{reverse('products:catalog')}?account={account.slug}",
    }


def _panel_context(request, membership: Membership, perms: frozenset[str]) -> dict | None:
    context = crosssell_panel(account=membership.account)
    if trial_requests.DECIDE_RIGHT in perms:  # owners and admins: what waits for them (one query)
        context["pending_requests"] = trial_requests.trial_requests_pending_count(account=membership.account)
        context["requests_url"] = f"{reverse('products:trial_requests')}?account={membership.account.slug}"
    return context


home_panel_register(
    name="products", template="products/_crosssell_panel.html", context=_panel_context, order=10
)
