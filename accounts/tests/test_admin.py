import pytest

from accounts.models import User
from conftest import make_region
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db


def test_adding_a_region_in_admin_backfills_every_member(client, acme):
    staff = User.objects.create_superuser(email="staff@atrium.test", password="x-staff-pass-1")
    region = make_region("au", 8103, 9103)
    client.force_login(staff)
    response = client.post("/admin/regions/accountregion/add/", {"account": acme.pk, "region": region.pk})
    assert response.status_code == 302, response.content[:500]
    assert AccountRegion.objects.filter(account=acme, region=region).exists()
    assert ProvisioningRecord.objects.filter(tenant="acme", region=region).count() == 2
