"""`/p/backup/` for members of an entitled tenant: their sources and last backups, never another
tenant's; a source page of another tenant is a 404."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backup.models import ProtectedSource
from backup.services import backup_demo_load
from backup.tests.support import entitle, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    entitle("acme", "backup")
    return person("acme", "alice@acme.test")


@pytest.fixture
def carol():
    entitle("globex", "backup")
    return person("globex", "carol@globex.test")


def test_a_member_sees_the_tenants_sources_and_their_last_backups(people_client, alice):
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    people_client.force_login(alice)
    response = people_client.get("/p/backup/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("finance-db", "legacy-fileserver", "web-01"):
        assert f'data-source="{name}"' in body
    assert 'data-status="failed"' in body  # web-01's last run


def test_the_list_costs_the_same_queries_whatever_the_number_of_sources(
    people_client, alice, django_assert_num_queries
):
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    people_client.force_login(alice)
    people_client.get("/p/backup/")  # warm the navigation cache
    with CaptureQueriesContext(connection) as few:
        people_client.get("/p/backup/")
    baseline = len(few.captured_queries)  # the kit's part (session, user, entitlements) included
    tenant = alice.tenant
    for i in range(20):
        ProtectedSource.objects.create(tenant=tenant, name=f"extra-{i}", kind="server")
    with django_assert_num_queries(baseline):
        response = people_client.get("/p/backup/")
    assert response.content.decode().count("data-source=") == 26


def test_tenant_b_never_sees_tenant_as_backups(people_client, alice, carol):
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    people_client.force_login(carol)
    response = people_client.get("/p/backup/")
    assert response.status_code == 200
    assert b"finance-db" not in response.content
    assert b'data-testid="backup-empty"' in response.content
    acme_source = ProtectedSource.objects.get(tenant__slug="acme", name="finance-db")
    assert people_client.get(f"/p/backup/sources/{acme_source.pk}/").status_code == 404


def test_a_member_opens_a_sources_runs(people_client, alice):
    backup_demo_load(tenant_slug="acme", now=datetime.now(UTC))
    source = ProtectedSource.objects.get(tenant__slug="acme", name="web-01")
    people_client.force_login(alice)
    response = people_client.get(f"/p/backup/sources/{source.pk}/")
    assert response.status_code == 200
    assert b"VSS writer timed out" in response.content
    assert response.content.count(b'data-status="failed"') == 4


def test_a_tenant_without_backup_gets_the_kits_403(people_client):
    entitle("initech", "posture")
    people_client.force_login(person("initech", "ian@initech.test"))
    response = people_client.get("/p/backup/")
    assert response.status_code == 403
    assert b'data-testid="portal-product-link"' in response.content
