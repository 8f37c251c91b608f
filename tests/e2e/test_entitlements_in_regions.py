"""An account's entitlements reach a real regional server as one versioned document (a real
worker pushing over mTLS to the tenant API), and the region's product pages enforce it: a
signed-in member opens an entitled product, gets the 403 page linking to the portal for any
other, and loses a product once a newer document drops it."""

import httpx
import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import F

from conftest import PASSWORD
from regions import client as region_client
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, machine_http, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


def entitlements_desire(region, products: list[dict]) -> None:
    with transaction.atomic():
        ledger_desire(
            kind="entitlements",
            tenant="acme",
            object_key="entitlements",
            regions=[region],
            desired={"tenant": "acme", "products": products},
        )


def enforced_version(region) -> int:
    row = ProvisioningRecord.objects.get(kind="entitlements", tenant="acme", region=region)
    return row.acked_version


def test_a_member_opens_entitled_products_only_and_loses_one_a_newer_document_drops(
    worker, regions, region_processes, acme, alice, bob
):
    us, region = region_processes["us"], regions["us"]
    account_uses(acme, [region])
    wait_for(all_synced, what="acme's members in US")

    # given Atrium records acme's US entitlements: backup, active
    entitlements_desire(region, [{"code": "backup", "status": "active", "ends_at": None}])
    wait_for(all_synced, what="the entitlements document synced")
    version = enforced_version(region)

    # when bob signs in through the product's URL
    browser = httpx.Client(follow_redirects=True, timeout=30)
    page = portal_login_via(browser, us.people_url + "/p/backup/", "bob@acme.test", PASSWORD)

    # then he lands on the product page, which names the version the region enforces
    assert str(page.url) == us.people_url + "/p/backup/"
    assert page.status_code == 200, page.text
    assert 'data-testid="product-tenant">acme<' in page.text
    assert f'data-testid="entitlements-version">{version}<' in page.text

    # and a product acme lacks is the 403 page, linking to the portal's page for it
    refused = browser.get(us.people_url + "/p/posture/")
    assert refused.status_code == 403
    assert f'href="{settings.ATRIUM_ISSUER}/products/posture/' in refused.text

    # when a newer document without backup reaches the region
    entitlements_desire(region, [{"code": "posture", "status": "expired", "ends_at": None}])
    wait_for(all_synced, what="the newer document synced")
    assert enforced_version(region) == version + 1

    # then backup is closed to him, and posture stays closed (expired)
    assert browser.get(us.people_url + "/p/backup/").status_code == 403
    assert browser.get(us.people_url + "/p/posture/").status_code == 403


def test_the_tenant_api_refuses_a_scim_only_token_and_a_token_for_another_region(regions, region_processes):
    us, eu = region_processes["us"], region_processes["eu"]
    body = {"tenant": "acme", "products": [], "version": 1}
    scim_only = region_client.m2m_token(audience=us.machine_url, scope="scim", fresh=True)
    for_eu = region_client.m2m_token(audience=eu.machine_url, scope="tenant", fresh=True)
    with machine_http(us) as http:
        no_scope = http.put(
            "/tenant/v1/acme/entitlements", json=body, headers={"Authorization": f"Bearer {scim_only}"}
        )
        wrong_audience = http.put(
            "/tenant/v1/acme/entitlements", json=body, headers={"Authorization": f"Bearer {for_eu}"}
        )
    assert no_scope.status_code == 403, no_scope.text
    assert wrong_audience.status_code == 401, wrong_audience.text
