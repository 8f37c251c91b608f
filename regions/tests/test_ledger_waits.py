"""Rows that could wait with nothing to end the wait (a group whose member the region refused),
and the retry button as a way around a region's `Retry-After`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import account_region_add
from conftest import make_region
from regions import client as region_client
from regions import kinds
from regions.ledger import _wake_dependents, ledger_desire, ledger_push
from regions.models import ProvisioningRecord
from regions.tests.test_ledger_fencing import ProbeKind

pytestmark = pytest.mark.django_db(transaction=True)
State = ProvisioningRecord.State


@pytest.fixture
def probe():
    kind = ProbeKind()
    kinds.register(kind)
    yield kind
    kinds.KINDS.pop("probe")


def test_a_group_whose_member_can_never_sync_does_not_wait_forever_unseen(alice, bob, acme, settings):
    settings.ATRIUM_PUSH_MAX_ATTEMPTS = 2
    settings.ATRIUM_PUSH_GIVE_UP_AFTER = 0
    eu = make_region("eu", 8321, 9321)
    account_region_add(account=acme, region=eu)
    # given bob's user row was refused by EU for good (e.g. 409 userName taken there)
    ProvisioningRecord.objects.filter(object_key=str(bob.public_id)).update(
        state=State.FAILED, last_error="HTTP 409 uniqueness"
    )
    (group,) = ledger_desire(
        kind="group", tenant="acme", object_key="g-1", regions=[eu],
        desired={"displayName": "Ops", "members": [{"externalId": str(bob.public_id)}]},
    )  # fmt: skip
    # when the worker tries it whenever it is due
    results = []
    for _ in range(5):
        ProvisioningRecord.objects.filter(pk=group.pk).update(next_attempt_at=timezone.now())
        results.append(ledger_push(record_id=group.pk))
    group.refresh_from_db()
    # then it ends where an operator sees it, with the reason
    assert group.state == State.FAILED, (group.state, group.attempts, set(results))
    assert "cannot reach this region" in group.last_error


def test_the_retry_button_does_not_override_a_regions_retry_after(client, alice, acme, probe):
    eu = make_region("eu", 8322, 9322)
    (row,) = ledger_desire(kind="probe", tenant="acme", object_key="k", regions=[eu], desired={"v": 1})
    probe.outcomes.put(region_client.RegionError("busy", retryable=True, retry_after=600))
    assert ledger_push(record_id=row.pk) == State.RETRYING
    client.force_login(alice)
    # when the account admin presses retry 5 times (no limit on this POST)
    calls_before = len(probe.calls)
    for _ in range(5):
        probe.outcomes.put(region_client.RegionError("busy", retryable=True, retry_after=600))
        response = client.post(f"/a/acme/sync/{row.pk}/retry/")
        assert response.status_code == 302, response.status_code
        ledger_push(record_id=row.pk)  # what the enqueued task does
    # then the region, which asked for 10 minutes of quiet, is not called 5 more times
    assert len(probe.calls) - calls_before <= 1, len(probe.calls) - calls_before


def test_a_group_failed_for_its_member_is_woken_when_that_member_syncs(alice, bob, acme, settings):
    settings.ATRIUM_PUSH_MAX_ATTEMPTS = 1
    settings.ATRIUM_PUSH_GIVE_UP_AFTER = 0
    eu = make_region("eu", 8323, 9323)
    account_region_add(account=acme, region=eu)
    bob_row = ProvisioningRecord.objects.get(region=eu, object_key=str(bob.public_id))
    ProvisioningRecord.objects.filter(pk=bob_row.pk).update(state=State.FAILED, last_error="HTTP 409")
    (group,) = ledger_desire(
        kind="group", tenant="acme", object_key="g-2", regions=[eu],
        desired={"displayName": "Ops", "members": [{"externalId": str(bob.public_id)}]},
    )  # fmt: skip
    assert ledger_push(record_id=group.pk) == State.FAILED
    # when bob's row is fixed and acknowledged by the region (what a successful push records,
    # before it wakes the rows that depend on it)
    ProvisioningRecord.objects.filter(pk=bob_row.pk).update(
        state=State.SYNCED, acked_version=bob_row.desired_version, remote_id="r-bob"
    )
    bob_row.refresh_from_db()
    _wake_dependents(bob_row)
    # then the group is due again, attempts counted afresh
    group.refresh_from_db()
    assert (group.state, group.attempts) == (State.PENDING, 0)


def test_a_new_change_waits_for_a_regions_retry_after(alice, acme, probe):
    eu = make_region("eu", 8324, 9324)
    (row,) = ledger_desire(kind="probe", tenant="acme", object_key="k", regions=[eu], desired={"v": 1})
    probe.outcomes.put(region_client.RegionError("busy", retryable=True, retry_after=600))
    assert ledger_push(record_id=row.pk) == State.RETRYING
    # when the row fails for good meanwhile and a new version is recorded
    ProvisioningRecord.objects.filter(pk=row.pk).update(state=State.FAILED)
    ledger_desire(kind="probe", tenant="acme", object_key="k", regions=[eu], desired={"v": 2})
    calls_before = len(probe.calls)
    # then it is scheduled after the region's quiet time, not pushed at once
    assert ledger_push(record_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert row.state == State.RETRYING
    assert row.next_attempt_at >= timezone.now() + timedelta(seconds=590)
    assert len(probe.calls) == calls_before
