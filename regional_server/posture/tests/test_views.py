"""Security Posture's pages: the overview with counts and "Scan now", the alerts list, the
explanation without backup, and tenant isolation."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atrium_kit.models import Tenant
from backup.services import backup_demo_load
from backup.tests.support import entitle, person
from posture.models import Alert
from posture.services import posture_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    entitle("acme", "backup", "posture")
    return person("acme", "alice@acme.test")


@pytest.fixture
def carol():
    entitle("globex", "backup", "posture")
    return person("globex", "carol@globex.test")


def test_the_overview_scans_a_never_scanned_tenant_and_shows_the_counts(people_client, alice):
    people_client.force_login(alice)
    response = people_client.get("/p/posture/")
    assert response.status_code == 200
    assert b'data-testid="posture-open">5<' in response.content
    assert b'data-severity="high">2<' in response.content
    assert b'data-testid="posture-scan"' in response.content


def test_scan_now_rescans_and_reports_what_changed(people_client, alice):
    people_client.force_login(alice)
    people_client.get("/p/posture/")
    response = people_client.post("/p/posture/scan/", follow=True)
    assert response.status_code == 200
    assert b"5 problem(s) found, 0 new, 0 resolved" in response.content
    assert Alert.objects.filter(status="open").count() == 5


def test_scan_now_needs_a_post(people_client, alice):
    people_client.force_login(alice)
    assert people_client.get("/p/posture/scan/").status_code == 405


def test_scan_now_needs_the_csrf_token(alice):
    from django.test import Client

    from backup.tests.support import PEOPLE_HOST

    browser = Client(enforce_csrf_checks=True, HTTP_HOST=PEOPLE_HOST)
    browser.force_login(alice)
    assert browser.post("/p/posture/scan/").status_code == 403
    assert not Alert.objects.exists()


def test_the_alerts_list_shows_open_then_resolved_on_request(people_client, alice):
    people_client.force_login(alice)
    tenant = Tenant.objects.get(slug="acme")
    posture_scan(tenant=tenant, now=datetime.now(UTC))
    Alert.objects.filter(rule="backup.no_offsite_copy").update(status="resolved")
    open_page = people_client.get("/p/posture/alerts/")
    assert open_page.status_code == 200
    assert open_page.content.count(b'data-status="open"') == 4
    resolved = people_client.get("/p/posture/alerts/?status=resolved")
    assert resolved.content.count(b'data-rule="backup.no_offsite_copy"') == 1
    assert b'data-status="open"' not in resolved.content


def test_a_bad_status_filter_is_a_400(people_client, alice):
    people_client.force_login(alice)
    assert people_client.get("/p/posture/alerts/?status=everything").status_code == 400


def test_the_alerts_list_costs_the_same_queries_whatever_the_number_of_alerts(people_client, alice):
    people_client.force_login(alice)
    tenant = Tenant.objects.get(slug="acme")
    posture_scan(tenant=tenant, now=datetime.now(UTC))
    people_client.get("/p/posture/alerts/")
    with CaptureQueriesContext(connection) as baseline:
        people_client.get("/p/posture/alerts/")
    Alert.objects.bulk_create(
        [
            Alert(tenant=tenant, rule="x", severity="low", subject_key=f"k{i}", subject=f"s{i}")
            for i in range(30)
        ]
    )
    with CaptureQueriesContext(connection) as more:
        response = people_client.get("/p/posture/alerts/")
    assert response.content.count(b'data-status="open"') == 35
    assert len(more.captured_queries) == len(baseline.captured_queries)


def test_without_backup_the_page_explains_why_nothing_is_scanned(people_client):
    entitle("initech", "posture")
    people_client.force_login(person("initech", "ian@initech.test"))
    response = people_client.get("/p/posture/")
    assert response.status_code == 200
    assert b'data-testid="posture-no-backup"' in response.content
    assert b'data-testid="posture-open">0<' in response.content
    scanned = people_client.post("/p/posture/scan/", follow=True)
    assert b"no Backup &amp; Recovery entitlement" in scanned.content


def test_tenant_b_never_sees_tenant_as_alerts(people_client, alice, carol):
    posture_scan(tenant=Tenant.objects.get(slug="acme"), now=datetime.now(UTC))
    people_client.force_login(carol)
    response = people_client.get("/p/posture/alerts/?status=all")
    assert response.status_code == 200
    assert b"finance-db" not in response.content
    assert b'data-testid="posture-no-alerts"' in response.content
    people_client.post("/p/posture/scan/")
    assert Alert.objects.filter(tenant__slug="globex").count() == 0
    assert Alert.objects.filter(tenant__slug="acme", status="open").count() == 5


def test_a_tenant_without_posture_gets_the_kits_403(people_client):
    entitle("initech", "backup")
    people_client.force_login(person("initech", "ian@initech.test"))
    assert people_client.get("/p/posture/").status_code == 403
    assert people_client.post("/p/posture/scan/").status_code == 403
    assert not Alert.objects.exists()
