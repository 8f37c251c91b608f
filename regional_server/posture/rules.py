"""The rules Security Posture applies to Backup & Recovery data. Each rule is one function from
a source's health to a finding or None, registered in RULES: adding a rule is adding a function.

Thresholds follow common backup guidance (a 3-2-1 style policy): a nightly backup older than a
week is a gap, 30 days of retention is the usual floor for recovering from ransomware found late."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backup.selectors import SourceHealth

STALE_AFTER = timedelta(days=7)
MIN_RETENTION_DAYS = 30
FAILED_STREAK = 3


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    subject_key: str
    subject: str
    detail: str


Rule = Callable[[SourceHealth, datetime], Finding | None]


def _finding(rule: str, severity: str, source: SourceHealth, detail: str) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        subject_key=f"backup.source:{source.source_id}",
        subject=f"Backup source {source.name}",
        detail=detail,
    )


def unencrypted_snapshot(source: SourceHealth, now: datetime) -> Finding | None:
    if source.unencrypted_retained == 0:
        return None
    n = source.unencrypted_retained
    return _finding(
        "backup.unencrypted_snapshot", "high", source,
        f"{n} retained snapshot{'s' if n != 1 else ''} stored without encryption.",
    )  # fmt: skip


def stale_backup(source: SourceHealth, now: datetime) -> Finding | None:
    if source.last_success_at is None:
        return _finding("backup.stale", "high", source, "No backup of this source has ever succeeded.")
    age = now - source.last_success_at
    if age <= STALE_AFTER:
        return None
    return _finding("backup.stale", "high", source, f"Last successful backup {age.days} days ago.")


def failed_streak(source: SourceHealth, now: datetime) -> Finding | None:
    if source.failures_since_success < FAILED_STREAK:
        return None
    return _finding(
        "backup.failed_streak", "medium", source,
        f"The last {source.failures_since_success} backup runs failed in a row.",
    )  # fmt: skip


def short_retention(source: SourceHealth, now: datetime) -> Finding | None:
    if source.retention_days is None or source.retention_days >= MIN_RETENTION_DAYS:
        return None
    return _finding(
        "backup.short_retention", "medium", source,
        f"Snapshots are kept {source.retention_days} days (below {MIN_RETENTION_DAYS}).",
    )  # fmt: skip


def no_offsite_copy(source: SourceHealth, now: datetime) -> Finding | None:
    if source.offsite_copy is None or source.offsite_copy:
        return None
    return _finding("backup.no_offsite_copy", "low", source, "The latest snapshot has no offsite copy.")


def mutable_snapshot(source: SourceHealth, now: datetime) -> Finding | None:
    if source.immutable is None or source.immutable:
        return None
    return _finding(
        "backup.mutable_snapshot",
        "low",
        source,
        "The latest snapshot is not immutable (ransomware can delete it).",
    )


RULES: list[Rule] = [
    unencrypted_snapshot, stale_backup, failed_streak, short_retention, no_offsite_copy, mutable_snapshot,
]  # fmt: skip


def findings_for(sources: list[SourceHealth], *, now: datetime) -> list[Finding]:
    return [finding for source in sources for rule in RULES if (finding := rule(source, now)) is not None]
