"""System checks of the kit's settings, so `manage.py check` (and migrate, and the demo's start)
names a misregistered product before the first request would fail on it."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def products_registered(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from atrium_kit.products import registered_products

    try:
        registered_products()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc), hint="See ATRIUM_KIT_PRODUCTS in region/settings.py.", id="atrium_kit.E001"
            )
        ]
    return []
