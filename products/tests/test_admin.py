"""Staff edit entitlements in the Django admin; every save and delete goes through the
services (ledger document and audit row), and a refused change is a form error, not a 500."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, User
from products.models import Entitlement
from products.services import entitlement_set
from regions.models import ProvisioningRecord


@pytest.fixture
def staff(client, db):
    user = User.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(user)
    return user


def test_adding_an_entitlement_records_the_regions_document(client, staff, acme_everywhere, backup, regions):
    response = client.post(
        reverse("admin:products_entitlement_add"),
        {"account": acme_everywhere.pk, "product": backup.pk, "region": regions["eu"].pk, "status": "active"},
    )
    assert response.status_code == 302
    record = ProvisioningRecord.objects.get(kind="entitlements", tenant="acme", region=regions["eu"])
    assert record.desired["products"] == [{"code": "backup", "status": "active", "ends_at": None}]
    assert AuditEvent.objects.get(action="entitlement.set").actor == staff


def test_a_product_not_offered_in_the_region_is_a_form_error(
    client, staff, acme_everywhere, posture, regions
):
    response = client.post(
        reverse("admin:products_entitlement_add"),
        {"account": acme_everywhere.pk, "product": posture.pk, "region": regions["au"].pk, "status": "trial"},
    )
    assert response.status_code == 200
    assert "not offered in" in response.content.decode()
    assert not Entitlement.objects.exists()


def test_changing_the_status_bumps_the_document_version(client, staff, acme_everywhere, backup, regions):
    entitlement = entitlement_set(
        account=acme_everywhere, product=backup, region=regions["eu"], status="trial"
    )
    response = client.post(
        reverse("admin:products_entitlement_change", args=[entitlement.pk]), {"status": "cancelled"}
    )
    assert response.status_code == 302
    record = ProvisioningRecord.objects.get(kind="entitlements", tenant="acme", region=regions["eu"])
    assert record.desired_version == 3  # the region's addition, the trial, the change
    assert record.desired["products"][0]["status"] == "cancelled"


def test_deleting_goes_through_the_service(client, staff, acme_everywhere, backup, regions):
    entitlement = entitlement_set(
        account=acme_everywhere, product=backup, region=regions["eu"], status="trial"
    )
    response = client.post(
        reverse("admin:products_entitlement_delete", args=[entitlement.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    record = ProvisioningRecord.objects.get(kind="entitlements", tenant="acme", region=regions["eu"])
    assert record.desired == {"tenant": "acme", "products": []}
    assert AuditEvent.objects.filter(action="entitlement.delete", actor=staff).exists()


def test_products_are_edited_with_their_regions(client, staff, backup):
    response = client.get(reverse("admin:products_product_change", args=[backup.pk]))
    assert response.status_code == 200
    assert "availability" in response.content.decode()
