import pytest
from django.core.cache import cache

from atrium_kit.tests.directory_support import FakeAtrium
from backup.tests.support import _fresh_versions, people_client  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The kit caches the navigation per tenant in the process's cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake_atrium(tmp_path):
    """Atrium's token endpoint and machine port (mutual TLS) as real loopback servers."""
    atrium = FakeAtrium(tmp_path)
    with atrium.settings():
        yield atrium
    atrium.stop()
