from django.conf import settings
from django.utils.functional import SimpleLazyObject


def region(request):
    return {
        "region_code": settings.REGION_CODE,
        "region_name": settings.REGION_NAME,
        "atrium_portal_url": settings.ATRIUM_PORTAL_URL,
    }


def kit(request):
    """The shared navigation (built only when a template shows it) and, on product pages, what
    `@product_view` set: `product_code`, `tenant`, `entitlement`, `entitlements_version`."""
    from atrium_kit.navigation import navigation  # the navigation's imports need the app registry

    context = {"atrium_nav": SimpleLazyObject(lambda: navigation(request))}
    for name in ("product_code", "tenant", "entitlement", "entitlements_version"):
        if hasattr(request, name):
            context[name] = getattr(request, name)
    return context
