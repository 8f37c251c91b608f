"""The ledger under faults: duplicate and late deliveries, expired leases, changes made while a
push is in flight, long outages. The ledger's own code runs for real (leases, fencing, SQL
counters) on PostgreSQL; only the last step, talking to a region, is a `probe` kind registered
for the test, so each outcome (success, refusal, a push that hangs) can be chosen."""

import queue
import threading
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from regions import client, kinds
from regions.ledger import ledger_desire, ledger_push, ledger_sweep
from regions.models import ProvisioningRecord, Region

State = ProvisioningRecord.State


class ProbeKind(kinds.LedgerKind):
    """Sends nothing: records what the ledger asked for and answers with scripted outcomes.
    An outcome may be an Event: the push then hangs until the test sets it."""

    name = "probe"

    def __init__(self):
        self.calls: list[tuple[int, dict | None]] = []
        self.outcomes: queue.Queue = queue.Queue()

    def _next(self, record):
        self.calls.append((record.sent_version, record.desired))
        outcome = self.outcomes.get_nowait() if not self.outcomes.empty() else "ok"
        if isinstance(outcome, tuple):  # (event to wait for, outcome after it)
            outcome[0].wait(timeout=30)
            outcome = outcome[1]
        if isinstance(outcome, BaseException):
            raise outcome
        return kinds.Delivery(remote_id=f"remote-{record.object_key}")

    def send(self, record):
        return self._next(record)

    def delete(self, record):
        self._next(record)


@pytest.fixture
def probe():
    kind = ProbeKind()
    kinds.register(kind)
    yield kind
    kinds.KINDS.pop("probe")


@pytest.fixture
def eu(transactional_db):
    return Region.objects.create(
        code="eu", name="EU", people_url="http://127.0.0.1:8102", machine_url="https://127.0.0.1:9102"
    )


def desire(region, version_note="v", key="k"):
    (row,) = ledger_desire(
        kind="probe", tenant="acme", object_key=key, regions=[region], desired={"note": version_note}
    )
    return row


def region_down(retry_after=None):
    return client.RegionError("region unreachable", retryable=True, retry_after=retry_after)


def in_thread(fn):
    """Run fn in another thread with its own database connection; returns (thread, results)."""
    results: list = []

    def run():
        try:
            results.append(fn())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def row_of(row) -> ProvisioningRecord:
    return ProvisioningRecord.objects.get(pk=row.pk)


def test_ten_duplicate_deliveries_of_a_retrying_row_make_no_region_call_before_its_next_attempt(eu, probe):
    row = desire(eu)
    probe.outcomes.put(region_down())
    assert ledger_push(record_id=row.pk) == State.RETRYING
    next_attempt = row_of(row).next_attempt_at
    # when the same message is delivered ten more times before the next attempt is due
    results = [ledger_push(record_id=row.pk) for _ in range(10)]
    # then the region is not called again and the backoff stands
    assert results == ["skipped"] * 10
    assert len(probe.calls) == 1
    assert row_of(row).next_attempt_at == next_attempt and row_of(row).attempts == 1
    # and once the attempt is due, one delivery goes through
    ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert ledger_push(record_id=row.pk) == State.SYNCED
    assert len(probe.calls) == 2


def test_retry_after_from_the_region_holds_back_every_delivery(eu, probe, settings):
    settings.ATRIUM_PUSH_BACKOFF_BASE = 0.1
    row = desire(eu)
    probe.outcomes.put(region_down(retry_after=600))
    ledger_push(record_id=row.pk)
    assert row_of(row).next_attempt_at >= timezone.now() + timedelta(seconds=590)
    assert [ledger_push(record_id=row.pk) for _ in range(3)] == ["skipped"] * 3
    assert len(probe.calls) == 1


def test_a_stale_lease_holders_late_failure_leaves_a_newer_synced_state_alone(eu, probe):
    row = desire(eu, "v1")
    release = threading.Event()
    probe.outcomes.put((release, region_down()))
    # given a push that hangs with version 1 and whose lease then expires
    thread, results = in_thread(lambda: ledger_push(record_id=row.pk))
    while len(probe.calls) < 1:
        threading.Event().wait(0.01)
    ProvisioningRecord.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    # and a newer version recorded and delivered by another push
    desire(eu, "v2")
    assert ledger_push(record_id=row.pk) == State.SYNCED
    # when the stale push finally fails
    release.set()
    thread.join(timeout=30)
    # then its failure is dropped: the row stays synced at version 2 with no attempt counted
    assert results == ["superseded"]
    fresh = row_of(row)
    assert (fresh.state, fresh.acked_version, fresh.attempts, fresh.last_error) == (State.SYNCED, 2, 0, "")
    assert fresh.acked == {"note": "v2"}


def test_a_stale_lease_holders_late_success_cannot_roll_the_acknowledged_version_back(eu, probe):
    row = desire(eu, "v1")
    release = threading.Event()
    probe.outcomes.put((release, "ok"))
    thread, results = in_thread(lambda: ledger_push(record_id=row.pk))
    while len(probe.calls) < 1:
        threading.Event().wait(0.01)
    ProvisioningRecord.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    desire(eu, "v2")
    assert ledger_push(record_id=row.pk) == State.SYNCED
    release.set()
    thread.join(timeout=30)
    assert results == ["superseded"]
    assert (row_of(row).acked_version, row_of(row).acked) == (2, {"note": "v2"})


def test_a_change_recorded_during_an_in_flight_push_is_pushed_after_it(eu, probe):
    row = desire(eu, "v1")
    release = threading.Event()
    probe.outcomes.put((release, "ok"))
    thread, results = in_thread(lambda: ledger_push(record_id=row.pk))
    while len(probe.calls) < 1:
        threading.Event().wait(0.01)
    # when a change is recorded while version 1 is on its way
    desire(eu, "v2")
    # a duplicate delivery meanwhile does nothing (the row is leased)
    assert ledger_push(record_id=row.pk) == "skipped"
    release.set()
    thread.join(timeout=30)
    # then the same push goes on to deliver version 2, in order
    assert results == [State.SYNCED]
    assert probe.calls == [(1, {"note": "v1"}), (2, {"note": "v2"})]
    assert (row_of(row).state, row_of(row).acked_version) == (State.SYNCED, 2)


def test_attempts_are_counted_in_sql_and_only_by_the_lease_holder(eu, probe):
    row = desire(eu)
    for expected in (1, 2, 3):
        probe.outcomes.put(region_down())
        ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        ledger_push(record_id=row.pk)
        assert row_of(row).attempts == expected


def test_a_soft_time_limit_is_a_retryable_region_error(eu, probe):
    row = desire(eu)
    probe.outcomes.put(SoftTimeLimitExceeded())
    assert ledger_push(record_id=row.pk, interruptions=(SoftTimeLimitExceeded,)) == State.RETRYING
    fresh = row_of(row)
    assert fresh.attempts == 1 and "time limit" in fresh.last_error and fresh.lease_token is None


def test_a_region_down_for_hours_never_turns_a_row_failed_before_the_give_up_time(eu, probe, settings):
    settings.ATRIUM_PUSH_MAX_ATTEMPTS = 3
    settings.ATRIUM_PUSH_GIVE_UP_AFTER = 3600
    row = desire(eu)
    for _ in range(8):  # far more attempts than the maximum, all within the hour
        probe.outcomes.put(region_down())
        ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert ledger_push(record_id=row.pk) == State.RETRYING
    # once it has been failing for longer than the give-up time, the next failure is final
    ProvisioningRecord.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now(), failing_since=timezone.now() - timedelta(hours=2)
    )
    probe.outcomes.put(region_down())
    assert ledger_push(record_id=row.pk) == State.FAILED


def test_a_refused_version_fails_but_a_newer_version_recorded_meanwhile_gets_its_try(eu, probe):
    row = desire(eu, "v1")
    probe.outcomes.put(client.RegionError("HTTP 400 bad", retryable=False))
    assert ledger_push(record_id=row.pk) == State.FAILED
    # a fix recorded after the refusal goes out
    desire(eu, "v2")
    assert ledger_push(record_id=row.pk) == State.SYNCED
    assert probe.calls[-1] == (2, {"note": "v2"})


def test_the_sweeper_moves_the_next_attempt_forward_so_repeated_sweeps_enqueue_once(eu, probe):
    row = desire(eu)
    probe.outcomes.put(region_down())
    ledger_push(record_id=row.pk)
    ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    # when the sweeper runs three times in a row (an outage, a slow worker)
    swept = [ledger_sweep(), ledger_sweep(), ledger_sweep()]
    # then the row was enqueued once (the count is what each sweep enqueued), its next attempt
    # moved forward
    assert swept == [1, 0, 0]
    swept_row = row_of(row)
    assert swept_row.next_attempt_at > timezone.now()
    # a stray duplicate (no dispatch token) waits; the sweeper's own delivery goes through
    assert ledger_push(record_id=row.pk) == "skipped"
    assert ledger_push(record_id=row.pk, dispatch=str(swept_row.dispatch_token)) == State.SYNCED
    # and that token admits nothing more
    assert row_of(row).dispatch_token is None


def test_a_dependent_row_waits_without_spending_attempts_until_its_dependencies_are_synced(eu, probe):
    member_key = "11111111-1111-1111-1111-111111111111"
    (group,) = ledger_desire(
        kind="group",
        tenant="acme",
        object_key="g1",
        regions=[eu],
        desired={"externalId": "g1", "displayName": "Ops", "members": [{"externalId": member_key}]},
    )
    # the member has no synced user row in EU yet: the group waits, no region call, no attempt
    assert ledger_push(record_id=group.pk) == "waiting"
    waiting = row_of(group)
    assert waiting.awaiting_dependency and waiting.attempts == 0 and waiting.state == State.PENDING
    assert "member" in waiting.last_error
