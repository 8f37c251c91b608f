"""A deletion is confirmed by the region no longer holding the externalId, not by a 404 on the
remote id Atrium stored: a region may hold the same person under a new id (re-created by another
SCIM client such as a customer's IdP, or restored)."""

import pytest
from django.db.models import F

from accounts.models import Membership
from accounts.services import membership_remove
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, machine_http, wait_for

pytestmark = pytest.mark.e2e

SCIM = "application/scim+json"


def test_a_removal_is_not_confirmed_while_the_region_holds_the_person_under_another_id(
    worker, regions, region_processes, alice, bob, acme
):
    us = region_processes["us"]
    account_uses(acme, [regions["us"]])
    wait_for(
        lambda: (
            ProvisioningRecord.objects.filter(object_key=str(bob.public_id), state="synced").exists()
            and not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()
        ),
        what="bob synced to US",
    )
    token = region_client.m2m_token(audience=us.machine_url, scope="scim", fresh=True)
    with machine_http(us, headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM}) as scim:
        found = scim.get("/scim/v2/acme/Users", params={"filter": f'externalId eq "{bob.public_id}"'}).json()
        (held,) = found["Resources"]
        # given the region holds bob under a new id (deleted and re-created by another SCIM client)
        assert scim.delete(f"/scim/v2/acme/Users/{held['id']}").status_code == 204
        again = {k: v for k, v in held.items() if k not in ("id", "meta")}
        recreated = scim.post("/scim/v2/acme/Users", json=again)
        assert recreated.status_code == 201, recreated.text
        # when an admin removes bob
        membership = Membership.objects.get(account=acme, user=bob)
        membership_remove(membership=membership)
        wait_for(
            lambda: ProvisioningRecord.objects.filter(
                object_key=str(bob.public_id),
                state__in=["synced", "failed", "retrying"],
                desired__isnull=True,
            ).exists(),
            what="the deletion was pushed",
        )
        still = scim.get("/scim/v2/acme/Users", params={"filter": f'externalId eq "{bob.public_id}"'}).json()
        # then the region no longer holds bob, and only then is his removal confirmed
        assert still["totalResults"] == 0, still["Resources"]
        wait_for(lambda: not Membership.objects.filter(pk=membership.pk).exists(), what="removal confirmed")
