"""Products on the kit: registration by settings and the entitlement check for their views.

A product is a Django app holding business logic only. It is registered with two settings —
an INSTALLED_APPS entry and `ATRIUM_KIT_PRODUCTS` — and the kit does the rest:

- `ATRIUM_KIT_PRODUCTS = ["backup", "posture"]` (app labels, code = label) or a dict
  `{"data-insights": "insights"}` (code → app label, for codes an app label cannot spell);
- `<app>.urls` is served at `<people URL>/p/<code>/` (atrium_kit.urls), every view behind the
  entitlement check even if the app forgot `@product_view` (ProductResolver);
- `<app>.urls_machine`, if the module exists, at `<machine URL>/tenant/v1/<tenant>/products/<code>/`
  (atrium_kit.urls_machine), behind the machine token check;
- product views decorate with `@product_view("<code>")` and render templates extending
  `atrium_kit/product_base.html` (the shared navigation).
"""

import functools
import importlib.util
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django.utils import timezone

from atrium_kit import selectors
from atrium_kit.entitlements import ENTITLED, EXPIRED, NONE, PRODUCT_CODE, entitlement_state

__all__ = [
    "ENTITLED",
    "EXPIRED",
    "NONE",
    "ProductApp",
    "entitlement_state",
    "portal_product_url",
    "product_gate",
    "product_view",
    "registered_products",
    "tenant_entitled",
]


@dataclass(frozen=True)
class ProductApp:
    """One registered product: its code (the `/p/<code>/` segment and the catalog's code) and
    the Django app holding it."""

    code: str
    app_label: str
    module: str  # the app's Python package (AppConfig.name)
    name: str  # shown when the catalog cannot be read (AppConfig.verbose_name)

    @property
    def urls_module(self) -> str:
        return f"{self.module}.urls"

    @property
    def machine_urls_module(self) -> str | None:
        candidate = f"{self.module}.urls_machine"
        return candidate if importlib.util.find_spec(candidate) is not None else None


def registered_products() -> list[ProductApp]:
    """The products ATRIUM_KIT_PRODUCTS names, in its order. A misconfiguration fails at startup
    (URLs are built from this), with a message naming the fix."""
    raw = getattr(settings, "ATRIUM_KIT_PRODUCTS", [])
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list | tuple):
        pairs = [(label, label) for label in raw]
    else:
        raise ImproperlyConfigured(
            "ATRIUM_KIT_PRODUCTS must be a list of app labels or a dict code → app label"
        )
    products = []
    for code, label in pairs:
        if not isinstance(code, str) or not PRODUCT_CODE.match(code):
            raise ImproperlyConfigured(
                f"ATRIUM_KIT_PRODUCTS: {code!r} is not a product code (lowercase slug)"
            )
        try:
            config = apps.get_app_config(label)
        except LookupError:
            raise ImproperlyConfigured(
                f"ATRIUM_KIT_PRODUCTS names {label!r}, which is not in INSTALLED_APPS"
            ) from None
        if importlib.util.find_spec(f"{config.name}.urls") is None:
            raise ImproperlyConfigured(f"Product app {label!r} has no urls module ({config.name}.urls)")
        products.append(
            ProductApp(code=code, app_label=label, module=config.name, name=str(config.verbose_name))
        )
    if len({p.code for p in products}) != len(products):
        raise ImproperlyConfigured("ATRIUM_KIT_PRODUCTS names a product code twice")
    if len({p.app_label for p in products}) != len(products):
        # One app under two codes: its URL namespace twice, and its @product_view("a") views
        # under p/b/ would need both entitlements.
        raise ImproperlyConfigured("ATRIUM_KIT_PRODUCTS names one app under two product codes")
    return products


def tenant_entitled(tenant, code: str) -> bool:
    """Whether `tenant` may use `code` in this region now (e.g. one product reading another's
    data: Security Posture scans only with a Backup & Recovery entitlement here)."""
    held = selectors.tenant_entitlements_of(tenant=tenant)
    return entitlement_state(held.document if held else None, code=code, now=timezone.now())[0] == ENTITLED


def portal_product_url(code: str, tenant_slug: str) -> str:
    # The tenant is the account's slug: the portal's page opens on that account.
    return f"{settings.ATRIUM_PORTAL_URL}/products/{code}/?{urlencode({'account': tenant_slug})}"


def _public(entry: dict) -> dict:
    ends_at = entry.get("ends_at")
    return {
        "code": entry["code"],
        "status": entry["status"],
        "ends_at": datetime.fromisoformat(ends_at) if ends_at else None,
    }


def product_gate(request, code: str):
    """None when the session's tenant may use `code` now (and `request.tenant`,
    `request.entitlement`, `request.product_code` are set), else the response to send instead."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    tenant = request.user.tenant
    held = selectors.tenant_entitlements_of(tenant=tenant)
    state, entry = entitlement_state(held.document if held else None, code=code, now=timezone.now())
    request.tenant = tenant
    request.product_code = code
    request.entitlements_version = held.version if held else None
    request._atrium_kit_document = held.document if held else None  # the navigation reads it too
    request.entitlement = _public(entry) if entry else {"code": code, "status": "none", "ends_at": None}
    if state == ENTITLED:
        return None
    # Imported here: atrium_kit.navigation imports this module.
    from atrium_kit.navigation import product_display_name

    context = {
        "code": code,
        "product_name": product_display_name(request, code),
        "tenant": tenant,
        "portal_product_url": portal_product_url(code, tenant.slug),
    }
    template = "atrium_kit/product_expired.html" if state == EXPIRED else "tenants/product_refused.html"
    return render(request, template, context, status=403)


def product_view(code: str):
    """Decorator for a product app's people views: `@product_view("backup")`.

    Login required (Atrium OIDC); sets `request.tenant` (the session's tenant),
    `request.entitlement` ({"code", "status", "ends_at": datetime | None}) and
    `request.product_code`. Entitled (trial/active, not past ends_at) → the view runs; expired →
    the kit's "your trial ended, buy it" page (403); none/cancelled → the kit's 403 page offering
    the portal's product page. The product app never checks entitlements itself."""
    if not isinstance(code, str) or not PRODUCT_CODE.match(code):
        raise ImproperlyConfigured(f"product_view: {code!r} is not a product code")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            refusal = product_gate(request, code)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        wrapped.atrium_kit_product = code
        return wrapped

    return decorator
