"""Hostile review on real processes: the EU region's posture alerts summary is a GET that writes
(it scans a never-scanned tenant first) — many of Atrium's calls at once against the region's
real gunicorn (4 threads) and SQLite must all answer, agree, and leave one open alert per
problem; and Atrium's tokens for the wrong scope or region are refused there."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from regions import client as region_client
from tests.e2e.conftest import machine_http

pytestmark = pytest.mark.e2e
PATH = "/tenant/v1/acme/products/posture/alerts/summary"


@pytest.fixture
def acme_in_eu(regions, region_processes):
    eu = region_processes["eu"]
    assert "Seeded 6 backup sources" in eu.manage("backup_load_demo", "--tenant=acme")
    document = {"tenant": "acme", "products": [{"code": c, "status": "active", "ends_at": None}
                                               for c in ("backup", "posture")]}  # fmt: skip
    region_client.tenant_entitlements_put(
        machine_url=eu.machine_url, tenant="acme", document=document, version=1
    )
    return eu


def summary(region, token: str) -> httpx.Response:
    with machine_http(region) as http:
        return http.get(PATH, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_concurrent_first_reads_of_the_summary_all_answer_and_never_duplicate_alerts(acme_in_eu):
    token = region_client.m2m_token(audience=acme_in_eu.machine_url, scope="tenant")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: summary(acme_in_eu, token), range(16)))
    assert [a.status_code for a in answers] == [200] * 16, [a.text[:200] for a in answers]
    assert {a.json()["open"] for a in answers} == {5}
    # A scan now finds the same five problems open, one alert each: nothing new, nothing resolved.
    assert "5 problem(s), 0 new, 0 resolved" in acme_in_eu.manage("posture_scan", "--tenant=acme")


def test_a_scim_token_or_another_regions_token_never_reads_the_summary(acme_in_eu, region_processes):
    scim = region_client.m2m_token(audience=acme_in_eu.machine_url, scope="scim")
    refused = summary(acme_in_eu, scim)
    assert refused.status_code == 403 and refused.json()["detail"] == "The token lacks scope 'tenant'."
    us_token = region_client.m2m_token(audience=region_processes["us"].machine_url, scope="tenant")
    assert summary(acme_in_eu, us_token).status_code == 401
    # Neither refused call scanned: the first good read is the one that opens the alerts.
    good = summary(acme_in_eu, region_client.m2m_token(audience=acme_in_eu.machine_url, scope="tenant"))
    assert good.status_code == 200 and good.json()["open"] == 5
