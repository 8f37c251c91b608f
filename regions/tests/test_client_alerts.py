"""regions.client.tenant_alerts_summary against a region's machine port (a real mTLS server on
loopback) with Atrium's real token endpoint: the contract's answer, and every bad or missing
answer as a RegionError, quickly."""

import time

import pytest

from regions import client
from regions.models import Region
from regions.tests import test_client_alerts_support as support

pytestmark = pytest.mark.django_db(transaction=True)
# The stand-in region's fixtures, used by name.
pki, atrium_for_regions, fake_eu = support.pki, support.atrium_for_regions, support.fake_eu


def test_it_returns_the_tenants_counts_asking_with_a_tenant_token_for_that_region(fake_eu):
    fake_eu.summary("acme", high=2, medium=2, low=1)
    summary = client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")
    assert summary == {
        "tenant": "acme",
        "open": 5,
        "by_severity": {"high": 2, "medium": 2, "low": 1},
        "url": "http://region.test/p/posture/alerts/",
    }
    (request,) = fake_eu.requests
    assert request["path"] == "/tenant/v1/acme/products/posture/alerts/summary"
    audience = request["claims"]["aud"]
    assert (audience if isinstance(audience, list) else [audience]) == [fake_eu.machine_url]
    assert "tenant" in request["claims"]["scope"].split()


def test_an_unknown_tenant_is_a_region_error_with_the_status(fake_eu):
    with pytest.raises(client.RegionError) as caught:
        client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="initech")
    assert caught.value.status == 404


def test_a_region_error_page_is_a_region_error(fake_eu):
    fake_eu.replies["acme"] = (500, "<html>Internal Server Error</html>")
    with pytest.raises(client.RegionError) as caught:
        client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")
    assert caught.value.status == 500


@pytest.mark.parametrize(
    "overrides",
    [
        {"tenant": "globex"},  # another tenant's counts
        {"open": -1},
        {"open": "5"},
        {"open": True},
        {"by_severity": {"high": 1}},
        {"by_severity": None},
    ],
)
def test_an_answer_not_in_the_contracts_shape_is_a_region_error(fake_eu, overrides):
    fake_eu.summary("acme", high=1, **overrides)
    with pytest.raises(client.RegionError, match="contract"):
        client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")


def test_a_body_that_is_not_json_is_a_region_error(fake_eu):
    fake_eu.replies["acme"] = (200, "<html>maintenance</html>")
    with pytest.raises(client.RegionError):
        client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")


def test_a_401_is_retried_once_with_a_fresh_token(fake_eu):
    fake_eu.summary("acme", low=3)
    fake_eu.unauthorized = 1
    assert client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")["open"] == 3
    first, second = fake_eu.requests
    assert first["token"] != second["token"]


def test_a_slow_region_costs_at_most_the_short_timeout(fake_eu, monkeypatch):
    monkeypatch.setattr(client, "ALERTS_SUMMARY_TIMEOUT_S", 0.3)
    fake_eu.summary("acme", low=1)
    client.m2m_token(audience=fake_eu.machine_url, scope="tenant")  # the token is not what is timed
    fake_eu.delay = 2
    started = time.monotonic()
    with pytest.raises(client.RegionError, match="unreachable"):
        client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")
    assert time.monotonic() - started < 1.5


def test_a_region_that_is_down_is_a_region_error(atrium_for_regions):
    down = Region.objects.create(
        code="us", name="United States", people_url="http://127.0.0.1:8101", machine_url="https://127.0.0.1:9"
    )
    with pytest.raises(client.RegionError, match="unreachable"):
        client.tenant_alerts_summary(region=down, tenant_slug="acme")
