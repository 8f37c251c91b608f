"""Scanning a tenant's Backup & Recovery data: the seed's problems become alerts, a rescan never
duplicates an open alert, a fixed problem is resolved, and nothing is scanned without backup."""

from datetime import UTC, datetime, timedelta

import pytest

from atrium_kit.models import Tenant
from backup.models import BackupJob, ProtectedSource
from backup.services import backup_demo_load
from backup.tests.support import entitle
from posture.models import Alert
from posture.selectors import alerts_counts
from posture.services import NO_BACKUP, posture_scan, posture_scan_if_stale

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
EXPECTED = {
    ("backup.unencrypted_snapshot", "finance-db", "high"),
    ("backup.stale", "legacy-fileserver", "high"),
    ("backup.short_retention", "crm-mailboxes", "medium"),
    ("backup.failed_streak", "web-01", "medium"),
    ("backup.no_offsite_copy", "intranet", "low"),
}


@pytest.fixture
def acme():
    backup_demo_load(tenant_slug="acme", now=NOW)
    entitle("acme", "backup", "posture")
    return Tenant.objects.get(slug="acme")


def open_alerts(tenant) -> set[tuple[str, str, str]]:
    return {
        (a.rule, a.subject.removeprefix("Backup source "), a.severity)
        for a in Alert.objects.filter(tenant=tenant, status="open")
    }


def test_a_scan_of_the_demo_seed_raises_the_expected_alerts(acme):
    scan = posture_scan(tenant=acme, now=NOW)
    assert open_alerts(acme) == EXPECTED
    assert (scan.findings, scan.opened, scan.resolved, scan.skipped) == (5, 5, 0, "")
    assert alerts_counts(tenant=acme) == {"open": 5, "by_severity": {"high": 2, "medium": 2, "low": 1}}


def test_a_rescan_refreshes_the_open_alerts_and_never_duplicates_them(acme):
    posture_scan(tenant=acme, now=NOW)
    first = {a.pk: a.first_seen_at for a in Alert.objects.filter(tenant=acme)}
    later = NOW + timedelta(minutes=5)
    scan = posture_scan(tenant=acme, now=later)
    assert (scan.opened, scan.resolved) == (0, 0)
    alerts = list(Alert.objects.filter(tenant=acme))
    assert {a.pk: a.first_seen_at for a in alerts} == first
    assert {a.last_seen_at for a in alerts} == {later}


def test_a_fixed_problem_is_resolved_by_the_next_scan(acme):
    posture_scan(tenant=acme, now=NOW)
    # the admin turns encryption on and the unencrypted snapshot is deleted
    BackupJob.objects.filter(source__name="finance-db", encrypted=False).delete()
    later = NOW + timedelta(hours=1)
    scan = posture_scan(tenant=acme, now=later)
    assert scan.resolved == 1
    resolved = Alert.objects.get(tenant=acme, rule="backup.unencrypted_snapshot")
    assert (resolved.status, resolved.resolved_at) == ("resolved", later)
    assert alerts_counts(tenant=acme)["open"] == 4


def test_a_problem_that_comes_back_is_a_new_alert(acme):
    posture_scan(tenant=acme, now=NOW)
    job = BackupJob.objects.get(source__name="finance-db", encrypted=False)
    job.encrypted = True
    job.save()
    posture_scan(tenant=acme, now=NOW + timedelta(hours=1))
    job.encrypted = False
    job.save()
    posture_scan(tenant=acme, now=NOW + timedelta(hours=2))
    alerts = Alert.objects.filter(tenant=acme, rule="backup.unencrypted_snapshot").order_by("pk")
    assert [a.status for a in alerts] == ["resolved", "open"]
    assert alerts[1].first_seen_at == NOW + timedelta(hours=2)


def test_a_stale_source_becomes_a_problem_when_time_passes(acme):
    # hr-db is healthy today; if no run happens for eight days, it is stale
    posture_scan(tenant=acme, now=NOW)
    ProtectedSource.objects.filter(name__in=["finance-db"]).delete()
    later = NOW + timedelta(days=8)
    posture_scan(tenant=acme, now=later)
    stale = {a.subject for a in Alert.objects.filter(tenant=acme, rule="backup.stale", status="open")}
    assert "Backup source hr-db" in stale
    # finance-db is gone: its alert is resolved, not left open forever
    assert not Alert.objects.filter(tenant=acme, subject="Backup source finance-db", status="open").exists()


def test_without_a_backup_entitlement_nothing_is_scanned(acme):
    entitle("acme", "posture")  # a newer document without backup
    scan = posture_scan(tenant=acme, now=NOW)
    assert scan.skipped == NO_BACKUP
    assert not Alert.objects.exists()


def test_an_expired_backup_trial_scans_nothing(acme):
    entitle("acme", "backup", "posture", status="trial", ends_at=(NOW - timedelta(days=1)).isoformat())
    assert posture_scan(tenant=acme, now=NOW).skipped == NO_BACKUP


def test_tenant_b_never_sees_tenant_as_alerts(acme):
    backup_demo_load(tenant_slug="globex", now=NOW)
    entitle("globex", "posture")  # no backup: nothing to scan
    globex = Tenant.objects.get(slug="globex")
    posture_scan(tenant=acme, now=NOW)
    posture_scan(tenant=globex, now=NOW)
    assert alerts_counts(tenant=globex)["open"] == 0
    assert alerts_counts(tenant=acme)["open"] == 5


def test_a_scan_runs_on_read_only_when_the_last_one_is_old(acme):
    assert posture_scan_if_stale(tenant=acme, now=NOW) is not None
    assert posture_scan_if_stale(tenant=acme, now=NOW + timedelta(minutes=30)) is None
    assert posture_scan_if_stale(tenant=acme, now=NOW + timedelta(hours=2)) is not None


def test_the_database_refuses_a_second_open_alert_for_one_problem(acme):
    from django.db import IntegrityError, transaction

    posture_scan(tenant=acme, now=NOW)
    alert = Alert.objects.filter(tenant=acme).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            tenant=acme, rule=alert.rule, severity="low", subject_key=alert.subject_key, subject="dup"
        )
