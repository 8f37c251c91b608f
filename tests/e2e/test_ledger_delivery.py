"""The ledger with a real worker and beat on Redis and real regional servers (mTLS machine
ports): duplicate deliveries, a region down during hundreds of changes, groups that wait for
their members and change by PATCH."""

import time
import uuid

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from accounts.services import member_rename, membership_add, user_create
from regions import client as region_client
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord
from regions.tasks import push_record
from tests.e2e.conftest import account_uses, wait_for

pytestmark = pytest.mark.e2e
State = ProvisioningRecord.State


def rows_synced(query) -> bool:
    return (
        not query.exclude(state=State.SYNCED).exists()
        and not query.exclude(acked_version=F("desired_version")).exists()
    )


def test_ten_duplicate_deliveries_of_a_retrying_row_make_no_region_call_before_its_next_attempt(
    worker, regions, region_processes, alice, acme
):
    eu = region_processes["eu"]
    eu.stop("machine")
    try:
        account_uses(acme, [regions["eu"]])
        row = wait_for(
            lambda: ProvisioningRecord.objects.filter(
                object_key=str(alice.public_id), state=State.RETRYING, lease_token__isnull=True
            ).first(),
            what="alice retrying in EU",
        )
        # given the row's next attempt is 8 s away (set while no push holds it)
        next_attempt = timezone.now() + timezone.timedelta(seconds=8)
        held = ProvisioningRecord.objects.filter(pk=row.pk, lease_token__isnull=True).update(
            next_attempt_at=next_attempt
        )
        assert held == 1
        attempts = ProvisioningRecord.objects.get(pk=row.pk).attempts
    finally:
        eu.start("machine")
    # when the push message is delivered ten times while the region is up again
    for _ in range(10):
        push_record.delay(row.pk)
    # then nothing reaches the region before the next attempt time: the row stays retrying with
    # the same attempt count (any push would have succeeded, the region being up)
    while timezone.now() < next_attempt - timezone.timedelta(seconds=1):
        fresh = ProvisioningRecord.objects.get(pk=row.pk)
        assert (fresh.state, fresh.attempts) == (State.RETRYING, attempts)
        time.sleep(0.2)
    assert (
        region_client.scim_user_find(
            machine_url=regions["eu"].machine_url, tenant="acme", external_id=str(alice.public_id)
        )
        is None
    )
    # and once it is due, the sweeper delivers it
    wait_for(lambda: ProvisioningRecord.objects.get(pk=row.pk).state == State.SYNCED, what="synced")


def test_a_region_down_during_500_changes_converges_to_the_desired_state_and_nothing_fails(
    worker, regions, region_processes, alice, acme
):
    account_uses(acme, [regions["us"], regions["eu"]])
    owner = Membership.objects.get(account=acme, user=alice)
    members = [
        membership_add(account=acme, user=user_create(email=f"p{i}@acme.test", email_verified=True))
        for i in range(25)
    ]
    tenant_rows = ProvisioningRecord.objects.filter(tenant="acme")
    wait_for(lambda: rows_synced(tenant_rows), timeout=60, what="members synced in both regions")
    eu = region_processes["eu"]
    eu.stop("machine")
    try:
        # when 500 changes are made while EU is down
        for i in range(500):
            member = members[i % len(members)]
            member_rename(actor=owner, membership=member, first_name=f"Name{i}", last_name="Down")
        changed_in_eu = tenant_rows.filter(
            region__code="eu", object_key__in=[str(m.user.public_id) for m in members]
        )
        # then US converges meanwhile, and EU's rows keep retrying past the maximum attempts
        # (3 in this worker) without any turning failed
        wait_for(lambda: rows_synced(tenant_rows.filter(region__code="us")), timeout=90, what="US synced")
        wait_for(
            lambda: not changed_in_eu.filter(attempts__lt=4).exists(),
            timeout=90,
            what="every EU row past the maximum attempts",
        )
        assert not tenant_rows.filter(state=State.FAILED).exists()
    finally:
        eu.start("machine")
    # when EU is back, nothing is re-sent by hand
    wait_for(lambda: rows_synced(tenant_rows), timeout=120, what="EU converged")
    # then EU holds exactly the desired state
    remote = {
        u.external_id: u.resource
        for u in region_client.scim_users_list(machine_url=regions["eu"].machine_url, tenant="acme")
    }
    for member in members:
        member.user.refresh_from_db()
        held = remote[str(member.user.public_id)]
        assert held["name"]["givenName"] == member.user.first_name
        assert held["name"]["familyName"] == "Down"
    assert len(remote) == len(members) + 2  # alice and bob too


def test_a_group_waits_for_its_members_then_changes_by_patch_and_is_deleted(
    worker, regions, region_processes, alice, bob, acme
):
    eu_region = regions["eu"]
    account_uses(acme, [eu_region])
    group_key = str(uuid.uuid4())
    members = [alice, bob]

    def group(names, display="Backup operators"):
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": group_key,
            "displayName": display,
            "members": [{"externalId": str(u.public_id)} for u in names],
        }

    # when a group naming two members is recorded at once with the members themselves
    ledger_desire(
        kind="group", tenant="acme", object_key=group_key, regions=[eu_region], desired=group(members)
    )
    rows = ProvisioningRecord.objects.filter(tenant="acme")
    # then it lands after them, with both members
    wait_for(lambda: rows_synced(rows), timeout=60, what="group and members synced")
    remote_group = region_client.scim_group_find(
        machine_url=eu_region.machine_url, tenant="acme", external_id=group_key
    )
    remote_users = {
        u.external_id: u.remote_id
        for u in region_client.scim_users_list(machine_url=eu_region.machine_url, tenant="acme")
    }
    assert {m["value"] for m in remote_group.resource["members"]} == {
        remote_users[str(u.public_id)] for u in members
    }
    # when bob leaves the group and it is renamed
    ledger_desire(
        kind="group", tenant="acme", object_key=group_key, regions=[eu_region],
        desired=group([alice], display="Backup admins"),
    )  # fmt: skip
    wait_for(lambda: rows_synced(rows), timeout=30, what="group change synced")
    remote_group = region_client.scim_group_find(
        machine_url=eu_region.machine_url, tenant="acme", external_id=group_key
    )
    assert remote_group.resource["displayName"] == "Backup admins"
    assert [m["value"] for m in remote_group.resource["members"]] == [remote_users[str(alice.public_id)]]
    assert remote_group.remote_id == ProvisioningRecord.objects.get(object_key=group_key).remote_id
    # when the group is deleted
    ledger_desire(kind="group", tenant="acme", object_key=group_key, regions=[eu_region], desired=None)
    wait_for(lambda: rows_synced(rows), timeout=30, what="group deletion synced")
    assert (
        region_client.scim_group_find(machine_url=eu_region.machine_url, tenant="acme", external_id=group_key)
        is None
    )
