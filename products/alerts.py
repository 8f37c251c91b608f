"""Cross-product alerts on the account home: Security Posture's open alerts per region, fetched
from each region over the machine port (the alerts themselves never leave the region).

Only regions the account uses and has posture in are asked. Each answer — or the failure — is
cached for a minute per (account, region), so the home costs at most one short call per region
per minute, and a region that is down shows "unavailable" instead of slowing every page."""

import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from accounts.home_panels import home_panel_register
from accounts.models import Account
from products.models import Entitlement
from regions import client as region_client
from regions.models import Region

log = logging.getLogger(__name__)

POSTURE = "posture"
CACHE_SECONDS = 60
ALERTS_PATH = "/p/posture/alerts/"


@dataclass(frozen=True)
class RegionAlerts:
    region: Region
    available: bool
    open: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    detail: str = ""

    @property
    def url(self) -> str:
        # Built from the region Atrium knows, not from the region's answer: a link on Atrium's
        # page goes where Atrium says the region is.
        return f"{self.region.people_url.rstrip('/')}{ALERTS_PATH}"


def posture_regions(*, account: Account) -> list[Region]:
    """Regions the account uses and has Security Posture in now (trial or active, not ended)."""
    now = timezone.now()
    entitlements = (
        Entitlement.objects.filter(
            account=account,
            product__code=POSTURE,
            status__in=Entitlement.GRANTING,
            region__account_regions__account=account,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("region")
        .order_by("region__code")
    )
    return [e.region for e in entitlements]


def _cache_key(account: Account, region: Region) -> str:
    return f"products:alerts:{account.slug}:{region.code}"


def _fetch(account: Account, region: Region) -> dict:
    try:
        summary = region_client.tenant_alerts_summary(region=region, tenant_slug=account.slug)
    except region_client.RegionError as exc:
        # Logged, not shown: the detail names machine URLs and errors that are Atrium's business.
        log.warning("Alerts summary of %s in %s unavailable: %s", account.slug, region.code, exc.detail)
        return {"available": False, "detail": exc.detail[:300]}
    return {"available": True, "open": summary["open"], "by_severity": summary["by_severity"]}


def account_alerts(*, account: Account) -> list[RegionAlerts]:
    """Open alert counts per posture region of the account, or "unavailable" per region."""
    result = []
    for region in posture_regions(account=account):
        key = _cache_key(account, region)
        answer = cache.get(key)
        if answer is None:
            answer = _fetch(account, region)
            cache.set(key, answer, CACHE_SECONDS)
        result.append(RegionAlerts(region=region, **answer))
    return result


def alerts_panel_context(request, membership, perms) -> dict | None:
    """The home panel's context; None (no panel) for an account without posture anywhere."""
    regions = account_alerts(account=membership.account)
    if not regions:
        return None
    return {"regions": regions, "total_open": sum(r.open for r in regions if r.available)}


# Imported once from ProductsConfig.ready: the account home shows this panel after the products'.
home_panel_register(
    name="alerts", template="products/_alerts_panel.html", context=alerts_panel_context, order=40
)
