"""`backup_load_demo --tenant <slug>`: realistic demo backups with problems to find, idempotent,
working before Atrium has ever pushed the tenant."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from atrium_kit.entitlements import document_parse
from atrium_kit.models import Tenant
from atrium_kit.services import tenant_entitlements_put
from backup.models import BackupJob, ProtectedSource
from backup.selectors import source_health
from backup.services import DEMO_SOURCES, backup_demo_load

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def snapshot_of_rows():
    return sorted(
        BackupJob.objects.values_list(
            "source__tenant__slug", "source__name", "started_at", "status", "encrypted"
        )
    )


def test_it_creates_the_tenant_when_atrium_has_not_pushed_it_yet():
    assert not Tenant.objects.filter(slug="acme").exists()
    call_command("backup_load_demo", "--tenant=acme")
    tenant = Tenant.objects.get(slug="acme")
    assert ProtectedSource.objects.filter(tenant=tenant).count() == len(DEMO_SOURCES)
    assert BackupJob.objects.filter(source__tenant=tenant).count() > 50


def test_a_second_run_leaves_the_same_sources_and_runs():
    backup_demo_load(tenant_slug="acme", now=NOW)
    ids = sorted(ProtectedSource.objects.values_list("pk", flat=True))
    rows = snapshot_of_rows()
    backup_demo_load(tenant_slug="acme", now=NOW)
    assert sorted(ProtectedSource.objects.values_list("pk", flat=True)) == ids
    assert snapshot_of_rows() == rows


def test_the_tenant_atrium_pushes_later_adopts_the_seeded_data():
    backup_demo_load(tenant_slug="acme", now=NOW)
    seeded = Tenant.objects.get(slug="acme")
    body = {
        "tenant": "acme",
        "version": 1,
        "products": [{"code": "backup", "status": "active", "ends_at": None}],
    }
    tenant_entitlements_put(tenant_slug="acme", update=document_parse(body, tenant_slug="acme"))
    assert Tenant.objects.filter(slug="acme").count() == 1
    assert seeded.entitlements.version == 1


def test_the_seed_has_the_problems_the_demo_promises():
    backup_demo_load(tenant_slug="acme", now=NOW)
    health = {h.name: h for h in source_health(tenant=Tenant.objects.get(slug="acme"), now=NOW)}
    assert health["finance-db"].unencrypted_retained == 1
    assert NOW - health["legacy-fileserver"].last_success_at > timedelta(days=8)
    assert health["crm-mailboxes"].retention_days == 14
    assert health["web-01"].failures_since_success == 4
    assert health["intranet"].offsite_copy is False
    healthy = health["hr-db"]
    assert (healthy.unencrypted_retained, healthy.failures_since_success, healthy.retention_days) == (
        0,
        0,
        35,
    )
    assert NOW - healthy.last_success_at < timedelta(days=1)


def test_other_sources_of_the_tenant_are_left_alone():
    tenant = Tenant.objects.create(slug="acme")
    own = ProtectedSource.objects.create(tenant=tenant, name="payroll", kind="database")
    BackupJob.objects.create(source=own, started_at=NOW, status="succeeded", size_bytes=1)
    backup_demo_load(tenant_slug="acme", now=NOW)
    assert own.jobs.count() == 1


def test_a_bad_slug_is_a_clear_command_error():
    with pytest.raises(CommandError, match="not an account slug"):
        call_command("backup_load_demo", "--tenant=Not a slug!")
