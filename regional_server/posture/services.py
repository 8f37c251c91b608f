"""Scanning: Security Posture reads the tenant's Backup & Recovery data of this region in-process
(same process, same database — the data never leaves the region) and keeps one open alert per
problem. A rescan refreshes what it still finds, resolves what it no longer finds, and never
opens a second alert for a problem already open."""

from datetime import datetime, timedelta

from django.db import transaction

from atrium_kit import selectors as kit_selectors
from atrium_kit.products import ENTITLED, entitlement_state
from backup.selectors import source_health
from posture import rules
from posture.models import Alert, Scan

BACKUP = "backup"
NO_BACKUP = (
    "This tenant has no Backup & Recovery entitlement in this region, so there is no backup data to scan."
)
# Reading the page or the summary scans first when the last scan is older than this, so the
# counts Atrium shows are never staler even though the region runs no scheduler.
SCAN_MAX_AGE = timedelta(hours=1)


def backup_entitled(*, tenant, now: datetime) -> bool:
    """Whether the tenant may use Backup & Recovery here now (the pushed entitlements document)."""
    held = kit_selectors.tenant_entitlements_of(tenant=tenant)
    state, _ = entitlement_state(held.document if held else None, code=BACKUP, now=now)
    return state == ENTITLED


@transaction.atomic
def posture_scan(*, tenant, now: datetime) -> Scan:
    """Scan the tenant's backup data as of `now` and bring its alerts up to date."""
    if not backup_entitled(tenant=tenant, now=now):
        return Scan.objects.create(tenant=tenant, started_at=now, skipped=NO_BACKUP)
    findings = rules.findings_for(source_health(tenant=tenant, now=now), now=now)
    # select_for_update orders concurrent scans on PostgreSQL; SQLite's IMMEDIATE transactions
    # (the region's setting) serialise them already. The partial unique constraint backs both.
    open_alerts = {
        (a.rule, a.subject_key): a
        for a in Alert.objects.select_for_update().filter(tenant=tenant, status=Alert.Status.OPEN)
    }
    to_create, to_update = [], []
    for finding in findings:
        alert = open_alerts.pop((finding.rule, finding.subject_key), None)
        if alert is None:
            to_create.append(
                Alert(
                    tenant=tenant, rule=finding.rule, severity=finding.severity,
                    subject_key=finding.subject_key, subject=finding.subject, detail=finding.detail,
                    first_seen_at=now, last_seen_at=now,
                )
            )  # fmt: skip
            continue
        alert.severity, alert.subject, alert.detail, alert.last_seen_at = (
            finding.severity, finding.subject, finding.detail, now,
        )  # fmt: skip
        to_update.append(alert)
    gone = list(open_alerts.values())
    for alert in gone:
        alert.status, alert.resolved_at = Alert.Status.RESOLVED, now
    Alert.objects.bulk_create(to_create)
    Alert.objects.bulk_update(to_update, ["severity", "subject", "detail", "last_seen_at"])
    Alert.objects.bulk_update(gone, ["status", "resolved_at"])
    return Scan.objects.create(
        tenant=tenant, started_at=now, findings=len(findings), opened=len(to_create), resolved=len(gone)
    )


def posture_scan_if_stale(*, tenant, now: datetime) -> Scan | None:
    """Scan unless a scan that looked at data ran within SCAN_MAX_AGE (a skipped scan does not
    count: backup may have been entitled since)."""
    last = Scan.objects.filter(tenant=tenant, skipped="").order_by("-started_at").first()
    if last is not None and now - last.started_at < SCAN_MAX_AGE:
        return None
    if not backup_entitled(tenant=tenant, now=now):
        return None
    return posture_scan(tenant=tenant, now=now)
