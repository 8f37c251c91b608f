"""Writes of Backup & Recovery data. The only writer today is the demo loader; a real agent's
report would land here too."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from atrium_kit.models import Tenant
from backup.models import BackupJob, ProtectedSource

GB = 1024**3
Kind = ProtectedSource.Kind
Status = BackupJob.Status


@dataclass(frozen=True)
class DemoSource:
    name: str
    kind: str
    location: str
    size_gb: float
    retention_days: int = 35
    immutable: bool = True
    offsite_copy: bool = True
    # days ago (1 = yesterday's nightly run) whose run is special
    failed_days: tuple[int, ...] = ()
    unencrypted_days: tuple[int, ...] = ()
    # no run at all since this many days ago (an agent that went silent)
    silent_since_days: int = 0


# Realistic data with problems to find (Security Posture scans it): finance-db kept one
# unencrypted snapshot, legacy-fileserver last succeeded 9 days ago, crm-mailboxes keeps 14 days
# only, web-01 fails night after night, intranet has no offsite copy; hr-db is healthy.
DEMO_SOURCES = [
    DemoSource("finance-db", Kind.DATABASE, "pg-fin-01.eu.acme.internal", 182, unencrypted_days=(3,)),
    DemoSource("hr-db", Kind.DATABASE, "pg-hr-01.eu.acme.internal", 41),
    DemoSource("legacy-fileserver", Kind.FILE_SHARE, "fs-legacy-02", 1240, silent_since_days=9),
    DemoSource("crm-mailboxes", Kind.MAILBOX, "Microsoft 365 · CRM team", 96, retention_days=14),
    DemoSource("web-01", Kind.SERVER, "vm web-01 (eu-west cluster)", 64, failed_days=(1, 2, 3, 4)),
    DemoSource("intranet", Kind.SAAS, "SharePoint · Intranet", 23, offsite_copy=False),
]
DEMO_HISTORY_DAYS = 14
ERROR_QUIESCE = "Snapshot failed: VSS writer timed out while quiescing the file system."


def tenant_for(slug: str) -> Tenant:
    """The kit's tenant row for `slug`, created if Atrium has not pushed it yet (SCIM and the
    entitlements receiver get-or-create by the same slug, so they adopt this row)."""
    tenant, _ = Tenant.objects.get_or_create(slug=slug)
    return tenant


def _demo_jobs(source: ProtectedSource, spec: DemoSource, *, now: datetime) -> list[BackupJob]:
    nightly = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if nightly > now:
        nightly -= timedelta(days=1)
    jobs = []
    for days_ago in range(DEMO_HISTORY_DAYS, 0, -1):
        if spec.silent_since_days and days_ago < spec.silent_since_days:
            continue
        started = nightly - timedelta(days=days_ago - 1)
        failed = days_ago in spec.failed_days
        # Sizes grow a little night by night, as real data does.
        size = int(spec.size_gb * GB * (1 - days_ago * 0.004))
        jobs.append(
            BackupJob(
                source=source,
                started_at=started,
                finished_at=started + timedelta(minutes=3 if failed else 42),
                status=Status.FAILED if failed else Status.SUCCEEDED,
                size_bytes=0 if failed else size,
                encrypted=days_ago not in spec.unencrypted_days,
                retention_days=spec.retention_days,
                immutable=spec.immutable,
                offsite_copy=spec.offsite_copy,
                expires_at=started + timedelta(days=spec.retention_days),  # bulk_create skips save()
                error=ERROR_QUIESCE if failed else "",
            )
        )
    return jobs


@transaction.atomic
def backup_demo_load(*, tenant_slug: str, now: datetime) -> list[ProtectedSource]:
    """Make the tenant's demo sources and their last two weeks of runs exactly the demo's,
    relative to `now`. Idempotent: sources are kept (same ids) and their runs replaced, so a
    second run leaves the same rows; sources the demo does not name are left alone."""
    tenant = tenant_for(tenant_slug)
    sources = []
    for spec in DEMO_SOURCES:
        source, _ = ProtectedSource.objects.update_or_create(
            tenant=tenant, name=spec.name, defaults={"kind": spec.kind, "location": spec.location}
        )
        sources.append((source, spec))
    BackupJob.objects.filter(source__in=[s for s, _ in sources]).delete()
    BackupJob.objects.bulk_create(
        [job for source, spec in sources for job in _demo_jobs(source, spec, now=now)]
    )
    return [source for source, _ in sources]
