"""Contract C on the machine listener: GET /tenant/v1/<tenant>/products/posture/alerts/summary,
with real machine tokens (RS256, verified against a JWKS served over real HTTP) through the
machine listener's real URL configuration and middleware."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client, override_settings

from atrium_kit.models import Tenant
from atrium_kit.tests.test_machine_auth import KEY_1, FakeAtriumJwks, jwks_settings, machine_token, public_jwk
from backup.services import backup_demo_load
from backup.tests.support import entitle
from posture.models import Alert
from posture.services import posture_scan

pytestmark = pytest.mark.django_db
MACHINE_HOST = settings.REGION_MACHINE_URL.split("://", 1)[1]
MACHINE_STACK = {
    "ROOT_URLCONF": "region.urls_machine",
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "atrium_kit.machine_auth.MachineTokenMiddleware",
        "atrium_kit.scim.ScimTenantMiddleware",
    ],
}


@pytest.fixture
def atrium():
    fake = FakeAtriumJwks()
    fake.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(fake), override_settings(**MACHINE_STACK):
        yield fake
    fake.stop()


@pytest.fixture
def machine():
    return Client(HTTP_HOST=MACHINE_HOST)


def summary(machine, tenant: str, **token_claims):
    token = machine_token(scope="tenant", **token_claims)
    return machine.get(
        f"/tenant/v1/{tenant}/products/posture/alerts/summary", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.fixture
def acme_scanned():
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    entitle("acme", "backup", "posture")
    tenant = Tenant.objects.get(slug="acme")
    posture_scan(tenant=tenant, now=datetime.now(UTC))
    return tenant


def test_atriums_tenant_token_reads_the_counts_and_the_link(atrium, machine, acme_scanned):
    response = summary(machine, "acme")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "tenant": "acme",
        "open": 5,
        "by_severity": {"high": 2, "medium": 2, "low": 1},
        "url": f"{settings.REGION_PEOPLE_URL}/p/posture/alerts/",
    }


def test_the_summary_scans_first_when_the_tenant_was_never_scanned(atrium, machine):
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    entitle("acme", "backup", "posture")
    assert summary(machine, "acme").json()["open"] == 5


def test_an_unknown_tenant_is_a_json_404(atrium, machine, acme_scanned):
    response = summary(machine, "initech")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_tenant_b_gets_its_own_counts_never_tenant_as(atrium, machine, acme_scanned):
    entitle("globex", "backup", "posture")
    body = summary(machine, "globex").json()
    assert (body["tenant"], body["open"]) == ("globex", 0)
    assert Alert.objects.filter(tenant__slug="globex").count() == 0


def test_without_a_token_it_is_401_json(atrium, machine, acme_scanned):
    response = machine.get("/tenant/v1/acme/products/posture/alerts/summary")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_without_scope_tenant_is_403(atrium, machine, acme_scanned):
    token = machine_token(scope="scim")
    response = machine.get(
        "/tenant/v1/acme/products/posture/alerts/summary", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 403


def test_a_token_for_another_region_is_401(atrium, machine, acme_scanned):
    assert summary(machine, "acme", aud="https://127.0.0.1:9999").status_code == 401


def test_a_token_of_an_untrusted_client_is_403(atrium, machine, acme_scanned):
    assert summary(machine, "acme", client_id="customer-app").status_code == 403


def test_a_write_method_is_a_json_405(atrium, machine, acme_scanned):
    token = machine_token(scope="tenant")
    response = machine.post(
        "/tenant/v1/acme/products/posture/alerts/summary", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 405
    assert response.json()["detail"]
