"""The provisioning ledger's API: record desired state (in the caller's transaction), push it
to a region, retry, sweep. Other apps call `ledger_desire` and `ledger_retry`; the worker calls
`ledger_push` and `ledger_sweep`. What a push sends depends on the row's kind (regions/kinds.py);
everything sent to a region goes through regions.client.

Guarantees, each enforced in SQL so they hold across workers and processes:
- one push in flight per row: a lease with a token; every result (success, failure, attempt
  count) is written only where the row still holds that token and the version that was sent,
  so a push whose lease expired can never overwrite a newer state (fencing);
- only due rows are leased: `pending`, or `retrying` whose next attempt time has come (or the
  one delivery the sweeper dispatched), so duplicate messages never skip backoff or Retry-After;
- a change recorded while a push is in flight stays `pending` after that push and is pushed next;
- a retryable error turns a row `failed` only after ATRIUM_PUSH_MAX_ATTEMPTS attempts *and*
  ATRIUM_PUSH_GIVE_UP_AFTER seconds of failing: a region down for hours only delays delivery.
"""

import logging
import random
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from regions import client, kinds
from regions.models import ProvisioningRecord, Region
from regions.signals import record_synced

log = logging.getLogger(__name__)

State = ProvisioningRecord.State
# A queued push normally lands within this; the sweeper re-enqueues what has not.
PENDING_GRACE = timedelta(seconds=5)
# How far the sweeper moves a row's next attempt when it enqueues it, so sweeps during an
# outage or a backlog do not pile up duplicate messages.
REDISPATCH_AFTER = timedelta(seconds=30)
# A row waiting for its dependencies is looked at again after this (sooner when they sync).
DEPENDENCY_RECHECK = timedelta(seconds=5)
MAX_CHAINED_PUSHES = 5
# Answers that speak for the whole region (overloaded, rate-limited): their Retry-After holds
# for every row of that region, not only the one that got it.
REGION_WIDE_STATUSES = frozenset({429, 503})


@transaction.atomic
def ledger_desire(
    *, kind: str, tenant: str, object_key: str, regions: Iterable[Region], desired: dict | None
) -> list[ProvisioningRecord]:
    """Record that each region must hold `desired` (None: must not hold the object).

    Call inside the transaction that makes the change; pushes are queued on commit. A row that
    is backing off from a failing region keeps its schedule (the new version goes with the next
    attempt); any other row is due at once.
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
        if _region_asked_for_quiet(record, now):
            # A new version: attempts counted afresh, but not before the time the region asked.
            record.state = State.RETRYING
            record.attempts = 0
            record.failing_since = None
            record.next_attempt_at = record.retry_not_before
        elif record.state != State.RETRYING:
            record.state = State.PENDING
            record.attempts = 0
            record.failing_since = None
            record.last_error = ""
            record.next_attempt_at = now + PENDING_GRACE
        record.awaiting_dependency = False
        record.save()
        records.append(record)
    ids = [r.pk for r in records]
    transaction.on_commit(lambda: _enqueue(ids))
    return records


def _region_asked_for_quiet(record: ProvisioningRecord, now) -> bool:
    return record.retry_not_before is not None and record.retry_not_before > now


def ledger_retry(*, record: ProvisioningRecord) -> None:
    """One-click retry of a failed (or retrying) row: due now, attempts counted afresh; but
    never before the time a region asked for with `Retry-After` (the row waits for it)."""
    now = timezone.now()
    quiet = Q(retry_not_before__gt=now)
    ProvisioningRecord.objects.filter(pk=record.pk).exclude(state=State.SYNCED).update(
        state=Case(When(quiet, then=Value(State.RETRYING)), default=Value(State.PENDING)),
        attempts=0,
        failing_since=None,
        next_attempt_at=Case(When(quiet, then=F("retry_not_before")), default=Value(now + PENDING_GRACE)),
    )
    transaction.on_commit(lambda: _enqueue([record.pk]))


def _enqueue(record_ids: list[int], dispatch: uuid.UUID | None = None) -> None:
    from regions.tasks import push_record  # here: regions.tasks imports this module

    for record_id in record_ids:
        try:
            push_record.delay(record_id, str(dispatch) if dispatch else None)
        except Exception:  # noqa: BLE001 - any broker failure: the row stays due for the sweeper
            log.warning("Could not enqueue push of record %s; the sweeper will deliver it", record_id)


def ledger_push(
    *, record_id: int, dispatch: str | None = None, interruptions: tuple[type[BaseException], ...] = ()
) -> str:
    """Deliver the desired version of one row if it is due, holding its lease. Returns the
    row's state, or "skipped" when it was not due, already synced, or leased elsewhere.

    `interruptions` are exceptions that may cut a push short (the task's soft time limit):
    they count as a retryable region error.
    """
    result = "skipped"
    for _ in range(MAX_CHAINED_PUSHES):
        lease = _lease(record_id, dispatch)
        if lease is None:
            return result
        dispatch = None  # it admits one delivery only
        record, token = lease
        try:
            delivery = _send(record)
        except kinds.DependencyPending as exc:
            return _record_waiting(record, token, exc)
        except kinds.DependencyFailed as exc:
            return _record_failure(record, token, exc, awaiting_dependency=True)
        except client.RegionError as exc:
            return _record_failure(record, token, exc)
        except interruptions as exc:
            error = client.RegionError(f"Push interrupted: {type(exc).__name__} (time limit)")
            return _record_failure(record, token, error)
        result = _record_success(record, token, delivery)
        if result != State.PENDING:  # synced, or taken over by a newer lease
            return result
    return result


def _due(now, dispatch: str | None) -> Q:
    due = Q(state=State.PENDING) | Q(state=State.RETRYING, next_attempt_at__lte=now)
    if dispatch:
        due |= Q(dispatch_token=dispatch)
    return due


def _lease(record_id: int, dispatch: str | None) -> tuple[ProvisioningRecord, uuid.UUID] | None:
    """Claim the row for one push if it is due and free; the representation read here is the
    one sent, and `sent_version` names it (read and claimed under one row lock)."""
    now = timezone.now()
    with transaction.atomic():
        record = (
            ProvisioningRecord.objects.select_for_update(of=("self",))
            .select_related("region")
            .filter(pk=record_id, acked_version__lt=F("desired_version"))
            .filter(_due(now, dispatch))
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .first()
        )
        if record is None:
            return None
        quiet_until = record.region.retry_not_before
        if quiet_until is not None and quiet_until > now:
            # The region asked every caller to wait (429/503 Retry-After): this row waits too.
            ProvisioningRecord.objects.filter(pk=record.pk).update(
                state=State.RETRYING, next_attempt_at=quiet_until, dispatch_token=None,
                last_error=record.last_error or f"{record.region.name} asked to wait (Retry-After)",
            )  # fmt: skip
            return None
        record.lease_token = uuid.uuid4()
        record.lease_until = now + timedelta(seconds=settings.ATRIUM_PUSH_LEASE_SECONDS)
        record.dispatch_token = None
        record.sent_version = record.desired_version
        record.last_attempt_at = now
        record.save(
            update_fields=["lease_token", "lease_until", "dispatch_token", "sent_version", "last_attempt_at"]
        )
    return record, record.lease_token


def _send(record: ProvisioningRecord) -> kinds.Delivery:
    kind = kinds.kind_of(record)
    if record.is_deletion:
        kind.delete(record)
        return kinds.Delivery(remote_id="")
    return kind.send(record)


def _fenced(record: ProvisioningRecord, token: uuid.UUID):
    """The row, only while it still holds this push's lease and the version it sent."""
    return ProvisioningRecord.objects.filter(
        pk=record.pk, lease_token=token, sent_version=record.sent_version
    )


def _record_success(record: ProvisioningRecord, token: uuid.UUID, delivery: kinds.Delivery) -> str:
    now = timezone.now()
    version = record.sent_version
    is_current = Q(desired_version=version)
    written = _fenced(record, token).update(
        acked_version=version,
        acked=record.desired,
        acked_at=now,
        remote_id=delivery.remote_id,
        attempts=0,
        failing_since=None,
        retry_not_before=None,
        last_error="",
        lease_token=None,
        lease_until=None,
        awaiting_dependency=False,
        # A newer version recorded meanwhile keeps the row pending (and is pushed next).
        state=Case(When(is_current, then=Value(State.SYNCED)), default=Value(State.PENDING)),
        next_attempt_at=Case(When(is_current, then=Value(None)), default=Value(now + PENDING_GRACE)),
    )
    if not written:
        log.info("Push of record %s v%s lost its lease; its result is dropped", record.pk, version)
        return "superseded"
    state = ProvisioningRecord.objects.values_list("state", flat=True).get(pk=record.pk)
    if state == State.SYNCED:
        record.acked_version, record.remote_id, record.state = version, delivery.remote_id, state
        _wake_dependents(record)
        record_synced.send(sender=ProvisioningRecord, record=record)
    return state


def _record_failure(
    record: ProvisioningRecord, token: uuid.UUID, error: client.RegionError, *, awaiting_dependency=False
) -> str:
    """A failed push. `awaiting_dependency`: it failed because what it references cannot reach
    the region (a member refused there); it counts attempts like any failure, so it ends
    `failed` where an operator sees it, and is woken when that dependency syncs."""
    now = timezone.now()
    attempts = F("attempts") + 1
    delay = backoff_seconds(record.attempts + 1)
    not_before = None
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
        not_before = now + timedelta(seconds=error.retry_after)
        if error.status in REGION_WIDE_STATUSES:
            Region.objects.filter(pk=record.region_id).update(retry_not_before=not_before)
    next_attempt = now + timedelta(seconds=delay)
    newer_version = Q(desired_version__gt=record.sent_version)
    if error.retryable:
        out_of_attempts = Q(attempts__gte=settings.ATRIUM_PUSH_MAX_ATTEMPTS - 1)
        cutoff = now - timedelta(seconds=settings.ATRIUM_PUSH_GIVE_UP_AFTER)
        failing_long = Q(failing_since__lte=cutoff)
        if cutoff >= now:  # no time budget configured: attempts alone decide
            failing_long |= Q(failing_since__isnull=True)
        give_up = out_of_attempts & failing_long
        state = Case(When(give_up, then=Value(State.FAILED)), default=Value(State.RETRYING))
        next_at = Case(When(give_up, then=Value(None)), default=Value(next_attempt))
    else:
        # A refusal of this version; a newer version recorded meanwhile still deserves a try.
        state = Case(When(newer_version, then=Value(State.PENDING)), default=Value(State.FAILED))
        next_at = Case(When(newer_version, then=Value(now + PENDING_GRACE)), default=Value(None))
    written = _fenced(record, token).update(
        attempts=attempts,
        failing_since=Coalesce(F("failing_since"), Value(now)),
        retry_not_before=not_before,
        awaiting_dependency=awaiting_dependency,
        last_error=error.detail[:2000],
        lease_token=None,
        lease_until=None,
        state=state,
        next_attempt_at=next_at,
    )
    if not written:
        log.info("Failed push of record %s lost its lease; the newer state stands", record.pk)
        return "superseded"
    log.info("Push of record %s failed (attempt %s): %s", record.pk, record.attempts + 1, error.detail)
    return ProvisioningRecord.objects.values_list("state", flat=True).get(pk=record.pk)


def _record_waiting(record: ProvisioningRecord, token: uuid.UUID, reason: client.RegionError) -> str:
    written = _fenced(record, token).update(
        awaiting_dependency=True,
        last_error=reason.detail[:2000],
        lease_token=None,
        lease_until=None,
        next_attempt_at=timezone.now() + DEPENDENCY_RECHECK,
    )
    return "waiting" if written else "superseded"


def _wake_dependents(record: ProvisioningRecord) -> None:
    """Rows of kinds that depend on this one's kind (same tenant and region) and wait for
    their dependencies are pushed again now rather than at their next recheck; rows that
    failed because a dependency could not reach the region get a fresh start."""
    dependent_kinds = kinds.kinds_depending_on(record.kind)
    if not dependent_kinds:
        return
    now = timezone.now()
    candidates = ProvisioningRecord.objects.filter(
        kind__in=dependent_kinds, tenant=record.tenant, region_id=record.region_id, awaiting_dependency=True
    ).exclude(state=State.SYNCED)
    # Only rows that reference this object: a group failed for another member stays failed.
    ids = [
        pk
        for pk, kind, desired in candidates.values_list("pk", "kind", "desired")
        if kinds.KINDS[kind].references(desired, record.kind, record.object_key)
    ]
    if not ids:
        return
    try:
        with transaction.atomic():
            rows = ProvisioningRecord.objects.filter(pk__in=ids)
            # In id order, like every multi-row lock here, so two wake-ups never deadlock.
            list(rows.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
            rows.filter(state=State.FAILED).update(
                state=State.PENDING, attempts=0, failing_since=None, next_attempt_at=now + PENDING_GRACE
            )
            rows.filter(state=State.RETRYING).filter(
                Q(retry_not_before__isnull=True) | Q(retry_not_before__lte=now)
            ).update(next_attempt_at=now)
    except DatabaseError:  # a wake-up is an optimisation: the rows' own recheck still comes
        log.warning("Could not wake rows depending on record %s", record.pk, exc_info=True)
        return
    _enqueue(ids)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter between half and the whole step, capped."""
    step = min(settings.ATRIUM_PUSH_BACKOFF_CAP, settings.ATRIUM_PUSH_BACKOFF_BASE * 2 ** (attempts - 1))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not security


def ledger_sweep(*, limit: int = 500) -> int:
    """Re-enqueue every due row: a lost message, a killed worker or a down region only delays.

    Each swept row's next attempt moves forward by REDISPATCH_AFTER and gets a dispatch token
    that only this sweep's message carries, so an outage or a backlog never piles up duplicates.
    """
    now = timezone.now()
    with transaction.atomic():
        due = list(
            ProvisioningRecord.objects.select_for_update(skip_locked=True)
            .filter(state__in=[State.PENDING, State.RETRYING], next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        dispatch = uuid.uuid4()
        ProvisioningRecord.objects.filter(pk__in=due).update(
            next_attempt_at=now + REDISPATCH_AFTER, dispatch_token=dispatch
        )
        transaction.on_commit(lambda: _enqueue(due, dispatch))
    return len(due)
