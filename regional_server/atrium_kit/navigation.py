"""The shared navigation: a product switcher and a region switcher on every kit page.

Fed by the directory client (Atrium's catalog and the tenant's products and regions), cached per
tenant for ATRIUM_KIT_NAV_CACHE_SECONDS. What is open *here* always comes from the entitlements
document this region enforces (pushed by Atrium), so the switcher never offers "open" for a
product the region would refuse. When Atrium's machine port does not answer, the bar degrades to
this region's entitled products and a link to the portal: a page never fails because the
directory is down.

Product entries (`state`):
- "here": entitled in this region → `/p/<code>/`;
- "elsewhere": entitled only in another of the tenant's regions → that region's people URL;
- "buy": held once and expired → the portal's product page;
- "try": not owned → the portal's product page ("Try it");
- coming soon: not shown.
"""

import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from atrium_kit import selectors
from atrium_kit.directory import DirectoryUnavailable, directory_client
from atrium_kit.products import ENTITLED, entitlement_state, portal_product_url, registered_products

log = logging.getLogger(__name__)

HELD_STATUSES = frozenset({"trial", "active"})


def _cache_key(tenant_slug: str, document: dict | None) -> str:
    # The entitlements this region holds are part of the key: a trial started (or ended) a moment
    # ago changes the document, so the bar shows it at once instead of after the cache's minute.
    held = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
    return f"atrium_kit:nav:{settings.REGION_CODE}:{tenant_slug}:{held}"


def directory_view_of(tenant_slug: str, *, document: dict | None = None) -> dict | None:
    """{"catalog": ..., "tenant": ...} from Atrium's directory, cached per tenant and entitlements
    document; None while the directory is unavailable (that answer is cached for a shorter while)."""
    key = _cache_key(tenant_slug, document)
    try:
        cached = cache.get(key)
    except Exception:  # a broken cache must not break the page
        log.exception("The navigation cache failed")
        cached = None
    if cached is not None:
        return cached.get("view")
    client = directory_client()
    try:
        view = {"catalog": client.catalog(), "tenant": client.tenant(tenant_slug)}
        timeout = settings.ATRIUM_KIT_NAV_CACHE_SECONDS
    except DirectoryUnavailable as exc:
        log.warning("Navigation without Atrium's directory for %s: %s", tenant_slug, exc.message)
        view, timeout = None, settings.ATRIUM_KIT_NAV_FAILURE_CACHE_SECONDS
    try:
        cache.set(key, {"view": view}, timeout)
    except Exception:
        log.exception("The navigation cache failed")
    return view


def _local_document(request, tenant) -> dict | None:
    # Memoised per request: the product check and the bar read the same document.
    if not hasattr(request, "_atrium_kit_document"):
        held = selectors.tenant_entitlements_of(tenant=tenant)
        request._atrium_kit_document = held.document if held else None
    return request._atrium_kit_document


def _fallback_names() -> dict[str, str]:
    return {p.code: p.name for p in registered_products()}


def navigation_build(request) -> dict | None:
    """The bar's data for the signed-in tenant, or None where there is no tenant (anonymous, the
    machine listener)."""
    tenant = getattr(getattr(request, "user", None), "tenant", None)
    if tenant is None or not getattr(request.user, "is_authenticated", False):
        return None
    document = _local_document(request, tenant)
    now = timezone.now()
    current = getattr(request, "product_code", None)
    here_codes = [
        p["code"]
        for p in (document or {}).get("products", [])
        if entitlement_state(document, code=p["code"], now=now)[0] == ENTITLED
    ]
    view = directory_view_of(tenant.slug, document=document)
    if view is not None:
        try:
            return _directory_bar(view, tenant=tenant, here_codes=here_codes, current=current)
        except (TypeError, KeyError, AttributeError, ValueError):
            # Entries of the wrong type inside an answer of the right shape: this region's bar,
            # as when the directory is down, rather than no bar at all.
            log.exception("Atrium's directory answered the navigation with entries it cannot use")
    portal = settings.ATRIUM_PORTAL_URL
    names = _fallback_names()
    return {
        "degraded": True,
        "portal_url": portal,
        "portal_products_url": f"{portal}/products/",
        "products": [
            _entry(code, names.get(code, code), "here", f"/p/{code}/", current=code == current)
            for code in here_codes
        ],
        "regions": [_this_region(current)],
    }


def _directory_bar(view: dict, *, tenant, here_codes: list[str], current: str | None) -> dict:
    portal = settings.ATRIUM_PORTAL_URL
    catalog, directory_tenant = view["catalog"], view["tenant"]
    regions = [
        r
        for r in directory_tenant.get("regions", [])
        if isinstance(r, dict)
        and r.get("code")
        and (r["code"] == settings.REGION_CODE or _web(r.get("people_url")))
    ]
    people_url = {r["code"]: str(r.get("people_url") or "").rstrip("/") for r in regions}
    region_name = {r["code"]: r.get("name") or r["code"].upper() for r in regions}
    held_elsewhere: dict[str, list[str]] = {}
    expired: set[str] = set()
    for p in directory_tenant.get("products", []):
        if not isinstance(p, dict):
            continue
        if p.get("status") in HELD_STATUSES and p.get("region") != settings.REGION_CODE:
            held_elsewhere.setdefault(p.get("code"), []).append(p.get("region"))
        elif p.get("status") == "expired":
            expired.add(p.get("code"))
    products = []
    listed = set()
    for p in catalog.get("products", []):
        if not isinstance(p, dict) or not p.get("code") or p.get("coming_soon"):
            continue
        code, name = p["code"], p.get("name") or p["code"]
        listed.add(code)
        if code in here_codes:
            products.append(_entry(code, name, "here", f"/p/{code}/", current=code == current))
            continue
        elsewhere = [r for r in held_elsewhere.get(code, []) if people_url.get(r)]
        if elsewhere:
            r = elsewhere[0]
            products.append(
                _entry(code, name, "elsewhere", f"{people_url[r]}/p/{code}/", region=region_name[r])
            )
        else:
            state = "buy" if code in expired else "try"
            products.append(
                _entry(code, name, state, portal_product_url(code, tenant.slug), current=code == current)
            )
    # Entitled here but not (yet) in the catalog Atrium shows: still open here.
    names = _fallback_names()
    for code in here_codes:
        if code not in listed:
            products.append(
                _entry(code, names.get(code, code), "here", f"/p/{code}/", current=code == current)
            )
    region_entries = []
    for r in regions:
        code = r["code"]
        is_here = code == settings.REGION_CODE
        base = settings.REGION_PEOPLE_URL if is_here else people_url[code]
        has_current = current and (
            (is_here and current in here_codes) or (not is_here and code in held_elsewhere.get(current, []))
        )
        region_entries.append(
            {
                "code": code,
                "name": region_name[code],
                "url": f"{base}/p/{current}/" if has_current else f"{base}/",
                "current": is_here,
            }
        )
    if not any(r["current"] for r in region_entries):
        region_entries.insert(0, _this_region(current))
    return {
        "degraded": False,
        "portal_url": (catalog["portal_url"] if _web(catalog.get("portal_url")) else portal).rstrip("/"),
        "portal_products_url": f"{portal}/products/",
        "products": products,
        "regions": region_entries,
    }


def _web(url) -> bool:
    # Every URL from the directory becomes an href: only an absolute web address may (never
    # `javascript:`, `data:`, a scheme-relative `//host`, or an empty one that would mean "here").
    return isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) > 8


def _entry(code: str, name: str, state: str, url: str, *, current: bool = False, region: str = "") -> dict:
    return {"code": code, "name": name, "state": state, "url": url, "current": current, "region": region}


def _this_region(current: str | None) -> dict:
    return {
        "code": settings.REGION_CODE,
        "name": settings.REGION_NAME,
        "url": f"{settings.REGION_PEOPLE_URL}/p/{current}/" if current else f"{settings.REGION_PEOPLE_URL}/",
        "current": True,
    }


def navigation(request) -> dict | None:
    """navigation_build, memoised per request, and never an exception: a bar that cannot be
    built is left out rather than failing the page."""
    if not hasattr(request, "_atrium_kit_nav"):
        try:
            request._atrium_kit_nav = navigation_build(request)
        except Exception:
            log.exception("The shared navigation could not be built")
            request._atrium_kit_nav = None
    return request._atrium_kit_nav


def product_display_name(request, code: str) -> str:
    """The catalog's name of `code` (from the cached directory view), else the product app's
    verbose name, else the code."""
    tenant = getattr(request.user, "tenant", None)
    try:
        view = (
            directory_view_of(tenant.slug, document=_local_document(request, tenant))
            if tenant is not None
            else None
        )
    except Exception:
        log.exception("The product name could not be read")
        view = None
    for p in (view or {}).get("catalog", {}).get("products", []):
        if isinstance(p, dict) and p.get("code") == code and p.get("name"):
            return str(p["name"])
    return _fallback_names().get(code, code)
