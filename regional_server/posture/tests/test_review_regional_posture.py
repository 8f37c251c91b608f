"""Hostile review of Security Posture: entitlements whose status and end date disagree (both
ways), a trial that ends between two reads (time travel), a person switching tenants before
"Scan now", and the tenant switch itself as a cross-site post."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from atrium_kit.models import Tenant
from backup.services import backup_demo_load
from backup.tests.support import PEOPLE_HOST, entitle, person
from posture.models import Alert, Scan

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LATER, EARLIER = (NOW + timedelta(days=3)).isoformat(), (NOW - timedelta(days=3)).isoformat()


@pytest.fixture
def acme():
    backup_demo_load(tenant_slug="acme", now=NOW)
    return Tenant.objects.get(slug="acme")


def document(*entries) -> None:
    from atrium_kit.entitlements import document_parse
    from atrium_kit.services import tenant_entitlements_put

    document.version = getattr(document, "version", 0) + 1
    body = {"tenant": "acme", "version": document.version,
            "products": [{"code": c, "status": s, "ends_at": e} for c, s, e in entries]}  # fmt: skip
    tenant_entitlements_put(tenant_slug="acme", update=document_parse(body, tenant_slug="acme"))


@pytest.mark.parametrize(
    "backup_status, backup_ends_at",
    [("expired", LATER), ("expired", None), ("active", EARLIER), ("trial", EARLIER), ("cancelled", LATER)],
)
def test_a_backup_entitlement_that_does_not_grant_now_is_never_scanned(
    people_client, acme, backup_status, backup_ends_at
):
    document(("backup", backup_status, backup_ends_at), ("posture", "active", None))
    people_client.force_login(person("acme", "alice@acme.test"))
    with time_machine.travel(NOW, tick=False):
        page = people_client.get("/p/posture/")
        scanned = people_client.post("/p/posture/scan/", follow=True)
        backup_page = people_client.get("/p/backup/")
    assert page.status_code == 200 and b"no Backup &amp; Recovery entitlement" in page.content
    assert b"no Backup &amp; Recovery entitlement" in scanned.content
    assert not Alert.objects.exists()
    assert not Scan.objects.filter(skipped="").exists()
    assert backup_page.status_code == 403


def test_a_posture_entitlement_expired_by_status_with_a_future_end_gets_the_buy_page(people_client, acme):
    document(("backup", "active", None), ("posture", "expired", LATER))
    people_client.force_login(person("acme", "alice@acme.test"))
    with time_machine.travel(NOW, tick=False):
        for response in (people_client.get("/p/posture/"), people_client.post("/p/posture/scan/")):
            assert response.status_code == 403
            assert b'data-testid="product-expired"' in response.content
    assert not Alert.objects.exists() and not Scan.objects.exists()


def test_a_trial_that_ends_between_two_reads_stops_scanning_without_a_push(people_client, acme):
    document(("backup", "trial", LATER), ("posture", "active", None))
    people_client.force_login(person("acme", "alice@acme.test"))
    with time_machine.travel(NOW, tick=False):
        assert b'data-testid="posture-open">5<' in people_client.get("/p/posture/").content
    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        people_client.post("/p/posture/scan/")
        page = people_client.get("/p/posture/")
    assert b"no Backup &amp; Recovery entitlement" in page.content
    assert Scan.objects.filter(skipped="").count() == 1


def test_scan_now_after_switching_to_a_tenant_without_posture_scans_neither(people_client, acme):
    document(("backup", "active", None), ("posture", "active", None))
    sub = "6f1c1f0e-0000-4000-8000-000000000001"
    alice = person("acme", "alice@acme.test", external_id=sub)
    person("globex", "alice@acme.test", external_id=sub)
    entitle("globex", "backup")  # Globex holds no posture
    people_client.force_login(alice)
    assert people_client.post("/tenants/globex/switch/").status_code == 302
    refused = people_client.post("/p/posture/scan/")
    assert refused.status_code == 403 and b'data-testid="product-refusal"' in refused.content
    assert not Scan.objects.exists() and not Alert.objects.exists()


def test_the_tenant_switch_needs_the_csrf_token(acme):
    sub = "6f1c1f0e-0000-4000-8000-000000000002"
    alice = person("acme", "alice@acme.test", external_id=sub)
    person("globex", "alice@acme.test", external_id=sub)
    browser = Client(enforce_csrf_checks=True, HTTP_HOST=PEOPLE_HOST)
    browser.force_login(alice)
    assert browser.post("/tenants/globex/switch/").status_code == 403
    assert browser.get("/").wsgi_request.user.tenant.slug == "acme"
