"""Operators' edits in Django admin reach the regions: a real worker pushes what the services
recorded in the ledger to real regional servers, checked over SCIM on their mTLS machine ports."""

import pytest
from django.db.models import F

from accounts.models import Membership, User
from regions import client as region_client
from regions.models import AccountRegion, ProvisioningRecord
from tests.e2e.conftest import account_uses, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator(client):
    staff = User.objects.create_superuser(email="staff@atrium.test", password="x-staff-pass-1")
    client.force_login(staff)
    return staff


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


def remote(region, user, tenant="acme"):
    return region_client.scim_user_find(
        machine_url=region.machine_url, tenant=tenant, external_id=str(user.public_id)
    )


@pytest.fixture
def acme_in_us_and_eu(worker, regions, acme, alice, bob):
    account_uses(acme, [regions["us"], regions["eu"]])
    wait_for(
        lambda: all_synced() and ProvisioningRecord.objects.filter(kind="user").count() == 4,
        what="alice and bob in US and EU",
    )
    return regions


def test_deactivating_a_user_in_admin_makes_them_inactive_in_every_region(
    client, operator, acme_in_us_and_eu, bob
):
    regions = acme_in_us_and_eu
    response = client.post(
        f"/admin/accounts/user/{bob.pk}/change/", {"first_name": "Bob", "last_name": "Brown"}
    )
    assert response.status_code == 302
    wait_for(
        lambda: (
            all_synced()
            and all(remote(regions[c], bob) and remote(regions[c], bob).active is False for c in ("us", "eu"))
        ),
        what="bob inactive in US and EU",
    )


def test_deleting_a_membership_inline_removes_it_from_every_region(
    client, operator, acme_in_us_and_eu, acme, bob
):
    regions = acme_in_us_and_eu
    memberships = list(Membership.objects.filter(account=acme).order_by("pk"))
    data = {"name": "Acme", "memberships-TOTAL_FORMS": len(memberships), "memberships-INITIAL_FORMS": len(memberships),
            "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}  # fmt: skip
    for n, m in enumerate(memberships):
        data.update({f"memberships-{n}-id": m.pk, f"memberships-{n}-account": acme.pk,
                     f"memberships-{n}-user": m.user_id, f"memberships-{n}-role": m.role,
                     f"memberships-{n}-status": m.status})  # fmt: skip
        if m.user_id == bob.pk:
            data[f"memberships-{n}-DELETE"] = "on"
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 302
    # the membership goes only once both regions confirmed the deletion
    wait_for(lambda: not Membership.objects.filter(account=acme, user=bob).exists(), what="removal confirmed")
    assert remote(regions["us"], bob) is None and remote(regions["eu"], bob) is None
    assert User.objects.filter(pk=bob.pk).exists()


def test_removing_an_account_region_in_admin_deprovisions_its_members_there(
    client, operator, acme_in_us_and_eu, acme, alice, bob
):
    regions = acme_in_us_and_eu
    link = AccountRegion.objects.get(account=acme, region=regions["eu"])
    response = client.post(f"/admin/regions/accountregion/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    wait_for(
        lambda: all_synced() and remote(regions["eu"], alice) is None and remote(regions["eu"], bob) is None,
        what="EU emptied",
    )
    # US keeps them, and both memberships stay
    assert remote(regions["us"], alice) is not None and remote(regions["us"], bob) is not None
    assert Membership.objects.filter(account=acme, status="active").count() == 2


def test_deleting_an_account_in_admin_closes_it_and_empties_every_region(
    client, operator, acme_in_us_and_eu, acme, alice, bob
):
    regions = acme_in_us_and_eu
    response = client.post(f"/admin/accounts/account/{acme.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    wait_for(lambda: not Membership.objects.filter(account=acme).exists(), what="every removal confirmed")
    assert all(remote(regions[c], u) is None for c in ("us", "eu") for u in (alice, bob))
    acme.refresh_from_db()
    assert acme.closed_at is not None
