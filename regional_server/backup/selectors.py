"""Reads of Backup & Recovery data, for its own pages and for products of the same region that
read it in-process (Security Posture scans `source_health`). One query per list, whatever the
number of sources or runs."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from backup.models import BackupJob, ProtectedSource

Status = BackupJob.Status
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _count(queryset) -> Coalesce:
    counted = queryset.order_by().values("source").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _sources(*, tenant, now: datetime):
    jobs = BackupJob.objects.filter(source=OuterRef("pk"))
    last = jobs.order_by("-started_at")
    last_ok = jobs.filter(status=Status.SUCCEEDED).order_by("-started_at")
    return (
        ProtectedSource.objects.filter(tenant=tenant)
        .annotate(
            last_job_at=Subquery(last.values("started_at")[:1]),
            last_job_status=Subquery(last.values("status")[:1]),
            last_success_at=Subquery(last_ok.values("started_at")[:1]),
            last_success_size=Subquery(last_ok.values("size_bytes")[:1]),
            last_success_encrypted=Subquery(last_ok.values("encrypted")[:1]),
            last_success_retention_days=Subquery(last_ok.values("retention_days")[:1]),
            last_success_immutable=Subquery(last_ok.values("immutable")[:1]),
            last_success_offsite=Subquery(last_ok.values("offsite_copy")[:1]),
            unencrypted_retained=_count(
                jobs.filter(status=Status.SUCCEEDED, encrypted=False, expires_at__gt=now)
            ),
            failures_since_success=_count(
                jobs.filter(status=Status.FAILED).filter(
                    started_at__gt=Coalesce(OuterRef("last_success_at"), Value(EPOCH))
                )
            ),
        )
        .order_by("name")
    )


def sources_overview(*, tenant, now: datetime) -> list[ProtectedSource]:
    """The tenant's sources with their last run and last success (annotations), by name."""
    return list(_sources(tenant=tenant, now=now))


def source_of_tenant(*, tenant, source_id: int) -> ProtectedSource:
    """The tenant's source, or 404 (another tenant's source does not exist for it)."""
    source = ProtectedSource.objects.filter(tenant=tenant, pk=source_id).first()
    if source is None:
        raise Http404("No such source")
    return source


def source_jobs(*, source: ProtectedSource, limit: int = 100) -> list[BackupJob]:
    return list(source.jobs.order_by("-started_at")[:limit])


@dataclass(frozen=True)
class SourceHealth:
    """What a scanner needs to judge one source, as of `now`."""

    source_id: int
    name: str
    kind: str
    last_job_at: datetime | None
    last_job_status: str | None
    last_success_at: datetime | None
    retention_days: int | None  # of the last successful run: the policy in force
    encrypted: bool | None
    immutable: bool | None
    offsite_copy: bool | None
    unencrypted_retained: int  # succeeded runs without encryption that are still kept
    failures_since_success: int  # failed runs after the last success (the current streak)


def source_health(*, tenant, now: datetime) -> list[SourceHealth]:
    """Every source of the tenant judged as of `now`, in one query."""
    return [
        SourceHealth(
            source_id=s.pk,
            name=s.name,
            kind=s.kind,
            last_job_at=s.last_job_at,
            last_job_status=s.last_job_status,
            last_success_at=s.last_success_at,
            retention_days=s.last_success_retention_days,
            encrypted=s.last_success_encrypted,
            immutable=s.last_success_immutable,
            offsite_copy=s.last_success_offsite,
            unencrypted_retained=s.unencrypted_retained,
            failures_since_success=s.failures_since_success,
        )
        for s in _sources(tenant=tenant, now=now)
    ]
