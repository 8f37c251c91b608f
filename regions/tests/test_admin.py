"""Django admin cannot bypass the ledger: rows are read-only there (retry is the one action)."""

import pytest

from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(admin)
    return client


@pytest.fixture
def row(db):
    eu = Region.objects.create(
        code="eu", name="EU", people_url="http://127.0.0.1:8102", machine_url="https://127.0.0.1:9102"
    )
    (record,) = ledger_desire(kind="user", tenant="acme", object_key="k", regions=[eu], desired={"a": 1})
    return record


def test_ledger_rows_cannot_be_added_in_admin(staff_client, row):
    assert staff_client.get("/admin/regions/provisioningrecord/add/").status_code == 403


def test_ledger_rows_cannot_be_deleted_in_admin(staff_client, row):
    response = staff_client.post(f"/admin/regions/provisioningrecord/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ProvisioningRecord.objects.filter(pk=row.pk).exists()


def test_ledger_rows_are_listed_and_shown_read_only(staff_client, row):
    assert staff_client.get("/admin/regions/provisioningrecord/").status_code == 200
    detail = staff_client.post(f"/admin/regions/provisioningrecord/{row.pk}/change/", {"state": "synced"})
    assert detail.status_code in (200, 302, 403)
    assert ProvisioningRecord.objects.get(pk=row.pk).state == ProvisioningRecord.State.PENDING
