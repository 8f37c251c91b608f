"""Cross-product alerts on real processes: Security Posture scans Acme's Backup & Recovery data in
the EU regional server (its own process and database), and the portal's account home shows the
EU count fetched over the machine port (mTLS, a tenant-scoped M2M token), with a link into the
region where the alerts are. A region that is down shows "unavailable"; the home still works."""

from datetime import timedelta

import httpx
import pytest
from django.db.models import F
from django.utils import timezone

from conftest import PASSWORD
from products.services import entitlement_set, product_create
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


@pytest.fixture
def catalog(regions):
    us, eu = regions["us"], regions["eu"]
    return {
        "backup": product_create(code="backup", name="Backup & Recovery", regions=[us, eu], trial_days=30),
        "posture": product_create(code="posture", name="Security Posture", regions=[us, eu], trial_days=14),
    }


def give(account, catalog, region, *codes):
    for code in codes:
        status, ends_at = (
            ("trial", timezone.now() + timedelta(days=14)) if code == "posture" else ("active", None)
        )
        entitlement_set(account=account, product=catalog[code], region=region, status=status, ends_at=ends_at)


def test_the_home_shows_the_eu_alerts_posture_found_in_acmes_eu_backups(
    worker, regions, region_processes, catalog, acme, alice, bob, globex, carol, client
):
    eu = region_processes["eu"]
    # given acme (backup + a posture trial) and globex (the same, no backups yet) in EU
    account_uses(acme, [regions["eu"]])
    account_uses(globex, [regions["eu"]])
    give(acme, catalog, regions["eu"], "backup", "posture")
    give(globex, catalog, regions["eu"], "backup", "posture")
    wait_for(all_synced, what="members and entitlements documents in EU")
    # and acme's EU backups, seeded in the region before any scan
    assert "Seeded 6 backup sources" in eu.manage("backup_load_demo", "--tenant=acme")

    # when posture scans in the region
    scanned = eu.manage("posture_scan", "--tenant=acme")
    assert "5 problem(s), 5 new" in scanned, scanned

    # then acme's home shows the EU count, fetched from the region, with a link into it
    client.force_login(alice)
    home = client.get("/a/acme/")
    assert home.status_code == 200
    page = home.content.decode()
    assert 'data-alerts-region="eu" data-open="5"' in page
    assert "2 high · 2 medium · 1 low" in page
    assert f'href="{eu.people_url}/p/posture/alerts/"' in page

    # and globex's home shows globex's own (none), never acme's
    client.force_login(carol)
    assert 'data-alerts-region="eu" data-open="0"' in client.get("/a/globex/").content.decode()

    # and following the link, a member signs in to the region and sees the alerts there
    browser = httpx.Client(follow_redirects=True, timeout=30)
    alerts = portal_login_via(browser, f"{eu.people_url}/p/posture/alerts/", "bob@acme.test", PASSWORD)
    assert str(alerts.url) == f"{eu.people_url}/p/posture/alerts/"
    assert alerts.status_code == 200, alerts.text
    assert alerts.text.count('data-status="open"') == 5
    assert 'data-rule="backup.unencrypted_snapshot"' in alerts.text


def test_a_region_that_is_down_shows_unavailable_and_the_home_still_works(
    worker, regions, region_processes, catalog, acme, alice, client
):
    us, eu = region_processes["us"], region_processes["eu"]
    account_uses(acme, [regions["us"], regions["eu"]])
    give(acme, catalog, regions["eu"], "backup", "posture")
    give(acme, catalog, regions["us"], "posture")
    wait_for(all_synced, what="acme in US and EU")
    eu.manage("backup_load_demo", "--tenant=acme")

    # when the US machine listener is down
    us.stop("machine")
    try:
        client.force_login(alice)
        home = client.get("/a/acme/")
    finally:
        us.start("machine")

    # then US is unavailable, and EU (never scanned before: reading the summary scans) counts
    assert home.status_code == 200
    page = home.content.decode()
    assert 'data-alerts-region="us" data-unavailable="yes"' in page
    assert 'data-alerts-region="eu" data-open="5"' in page
