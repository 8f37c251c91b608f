"""The provisioning ledger's API: record desired state (in the caller's transaction), push it
to a region, retry, sweep. Other apps call `ledger_desire` and `ledger_retry`; the worker calls
`ledger_push` and `ledger_sweep`. Everything sent to a region goes through regions.client."""

import logging
import random
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from regions import client
from regions.models import ProvisioningRecord, Region

log = logging.getLogger(__name__)

State = ProvisioningRecord.State
# A queued push normally lands within this; the sweeper re-enqueues what has not.
PENDING_GRACE = timedelta(seconds=5)
MAX_CHAINED_PUSHES = 5


def ledger_desire(
    *, kind: str, tenant: str, object_key: str, regions: Iterable[Region], desired: dict | None
) -> list[ProvisioningRecord]:
    """Record that each region must hold `desired` (None: must not hold the object).

    Call inside the transaction that makes the change; pushes are queued on commit.
    """
    now = timezone.now()
    records = []
    for region in regions:
        record = (
            ProvisioningRecord.objects.select_for_update()
            .filter(kind=kind, tenant=tenant, object_key=object_key, region=region)
            .first()
        )
        if record is None:
            if desired is None:
                continue  # never sent there, nothing to delete
            record = ProvisioningRecord(kind=kind, tenant=tenant, object_key=object_key, region=region)
            record.desired_version = 1
        else:
            record.desired_version += 1
        record.desired = desired
        record.state = State.PENDING
        record.attempts = 0
        record.last_error = ""
        record.next_attempt_at = now + PENDING_GRACE
        record.save()
        records.append(record)
    ids = [r.pk for r in records]
    transaction.on_commit(lambda: _enqueue(ids))
    return records


def ledger_retry(*, record: ProvisioningRecord) -> None:
    """One-click retry of a failed (or retrying) row: start counting attempts again."""
    ProvisioningRecord.objects.filter(pk=record.pk).exclude(state=State.SYNCED).update(
        state=State.PENDING, attempts=0, next_attempt_at=timezone.now() + PENDING_GRACE
    )
    transaction.on_commit(lambda: _enqueue([record.pk]))


def _enqueue(record_ids: list[int]) -> None:
    from regions.tasks import push_record  # here: regions.tasks imports this module

    for record_id in record_ids:
        try:
            push_record.delay(record_id)
        except Exception:  # noqa: BLE001 - any broker failure: the row stays due for the sweeper
            log.warning("Could not enqueue push of record %s; the sweeper will deliver it", record_id)


def ledger_push(*, record_id: int) -> str:
    """Deliver the desired version of one row, holding its lease. Returns the row's state."""
    for _ in range(MAX_CHAINED_PUSHES):
        record = _lease(record_id)
        if record is None:
            return "skipped"
        version = record.desired_version
        try:
            remote_id = _send(record)
        except client.RegionError as exc:
            return _record_failure(record, exc)
        if _record_success(record, version, remote_id) == State.SYNCED:
            return State.SYNCED
    return State.PENDING


def _lease(record_id: int) -> ProvisioningRecord | None:
    now = timezone.now()
    claimed = (
        ProvisioningRecord.objects.filter(pk=record_id, acked_version__lt=F("desired_version"))
        .exclude(state=State.FAILED)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_until=now + timedelta(seconds=settings.ATRIUM_PUSH_LEASE_SECONDS),
            sent_version=F("desired_version"),
            last_attempt_at=now,
        )
    )
    if not claimed:
        return None
    return ProvisioningRecord.objects.select_related("region").get(pk=record_id)


def _send(record: ProvisioningRecord) -> str:
    machine_url = record.region.machine_url
    if record.kind != ProvisioningRecord.Kind.USER:
        raise client.RegionError(f"Unknown ledger kind {record.kind}", retryable=False)
    if record.is_deletion:
        client.scim_user_delete(
            machine_url=machine_url,
            tenant=record.tenant,
            external_id=record.object_key,
            remote_id=record.remote_id,
        )
        return ""
    remote = client.scim_user_upsert(
        machine_url=machine_url, tenant=record.tenant, resource=record.desired, remote_id=record.remote_id
    )
    return remote.remote_id


def _record_success(record: ProvisioningRecord, version: int, remote_id: str) -> str:
    now = timezone.now()
    ProvisioningRecord.objects.filter(pk=record.pk).update(
        acked_version=version,
        acked_at=now,
        remote_id=remote_id,
        attempts=0,
        last_error="",
        lease_until=None,
        # A newer version recorded meanwhile keeps the row pending (and is pushed next).
        state=Case(When(desired_version=version, then=Value(State.SYNCED)), default=Value(State.PENDING)),
        next_attempt_at=Case(
            When(desired_version=version, then=Value(None)), default=Value(now + PENDING_GRACE)
        ),
    )
    return ProvisioningRecord.objects.values_list("state", flat=True).get(pk=record.pk)


def _record_failure(record: ProvisioningRecord, error: client.RegionError) -> str:
    attempts = record.attempts + 1
    give_up = not error.retryable or attempts >= settings.ATRIUM_PUSH_MAX_ATTEMPTS
    delay = backoff_seconds(attempts)
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    state = State.FAILED if give_up else State.RETRYING
    ProvisioningRecord.objects.filter(pk=record.pk).update(
        attempts=attempts,
        last_error=error.detail[:2000],
        lease_until=None,
        state=state,
        next_attempt_at=None if give_up else timezone.now() + timedelta(seconds=delay),
    )
    log.info("Push of record %s failed (attempt %s): %s", record.pk, attempts, error.detail)
    return state


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter between half and the whole step, capped."""
    step = min(settings.ATRIUM_PUSH_BACKOFF_CAP, settings.ATRIUM_PUSH_BACKOFF_BASE * 2 ** (attempts - 1))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not security


def ledger_sweep(*, limit: int = 500) -> int:
    """Re-enqueue every due row: a lost message, a killed worker or a down region only delays."""
    now = timezone.now()
    due = list(
        ProvisioningRecord.objects.filter(state__in=[State.PENDING, State.RETRYING], next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(due)
    return len(due)
