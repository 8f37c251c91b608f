import importlib

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import clear_url_caches

from atrium_kit.tests.directory_support import FakeAtrium

PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]


@pytest.fixture(autouse=True)
def _fresh_navigation_cache():
    # The navigation cache is per process: one test's cached directory answer is not another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(client):
    """The test client on the people URL's host (other hosts are redirected there)."""
    client.defaults["HTTP_HOST"] = PEOPLE_HOST
    return client


@pytest.fixture
def fake_atrium(tmp_path):
    atrium = FakeAtrium(tmp_path)
    yield atrium
    atrium.stop()


def urls_reload() -> None:
    """Rebuild the kit's URL modules from the current settings (they read ATRIUM_KIT_PRODUCTS
    when imported, as the servers do at start)."""
    import region.urls
    import region.urls_machine

    import atrium_kit.urls
    import atrium_kit.urls_machine

    for module in (atrium_kit.urls, atrium_kit.urls_machine, region.urls, region.urls_machine):
        importlib.reload(module)
    clear_url_caches()


@pytest.fixture
def fifth_product():
    """A fifth product registered the way a product team registers one: an INSTALLED_APPS entry
    and its name in ATRIUM_KIT_PRODUCTS — nothing else."""
    with override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "atrium_kit.tests.fifth_product"],
        ATRIUM_KIT_PRODUCTS=[*settings.ATRIUM_KIT_PRODUCTS, "fifth"],
    ):
        urls_reload()
        yield
    urls_reload()
