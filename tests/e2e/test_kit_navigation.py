"""The platform kit on real processes: a regional server's shared navigation is fed by Atrium's
real directory (Atrium's machine listener over mutual TLS, the region's own token from Atrium's
token endpoint), and a trial that expires at Atrium (time travel on the portal side, then the
worker's push) turns the region's product page into the "buy it" page."""

import re
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from conftest import PASSWORD
from products.models import Entitlement
from products.services import entitlement_set, product_create
from products.trials import trial_start, trials_sweep
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


def switcher(html: str, testid: str) -> dict[str, str]:
    """{data-product or data-region: href} of one of the navigation's dropdowns."""
    block = re.search(rf'data-testid="{testid}".*?</details>', html, re.S)
    assert block, f"no {testid} on the page:\n{html[:3000]}"
    links = re.findall(r'<a href="([^"]*)" data-(?:product|region)="([^"]+)"', block.group(0))
    return {key: href for href, key in links}


@pytest.fixture
def catalog(regions):
    us, eu = regions["us"], regions["eu"]
    return {
        "backup": product_create(code="backup", name="Backup & Recovery", regions=[us, eu], trial_days=30),
        "posture": product_create(code="posture", name="Security Posture", regions=[us, eu], trial_days=14),
        "archiver": product_create(code="archiver", name="Archiver", regions=[us, eu], trial_days=30),
        "insights": product_create(code="insights", name="Data Insights", regions=[], coming_soon=True),
    }


def test_the_eu_product_page_shows_the_product_and_region_switchers_from_atriums_directory(
    atrium_machine, worker, regions, region_processes, catalog, acme, alice, bob
):
    eu = region_processes["eu"]
    us = region_processes["us"]
    # given acme uses US and EU, has backup in EU and posture in US only
    account_uses(acme, [regions["us"], regions["eu"]])
    entitlement_set(account=acme, product=catalog["backup"], region=regions["eu"], status="active")
    entitlement_set(account=acme, product=catalog["posture"], region=regions["us"], status="active")
    wait_for(all_synced, what="acme's members and entitlements in US and EU")

    # when bob opens Backup & Recovery in EU
    browser = httpx.Client(follow_redirects=True, timeout=30)
    page = portal_login_via(browser, eu.people_url + "/p/backup/", "bob@acme.test", PASSWORD)
    assert str(page.url) == eu.people_url + "/p/backup/"
    assert page.status_code == 200, page.text

    # then the product switcher comes from Atrium's catalog and acme's entitlements everywhere
    html = page.text
    assert 'data-testid="nav-degraded"' not in html, "the region could not read Atrium's directory"
    products = switcher(html, "product-switcher")
    assert products == {
        "backup": "/p/backup/",  # open here
        "posture": us.people_url + "/p/posture/",  # held only in US: opens there
        "archiver": f"{settings.ATRIUM_ISSUER}/products/archiver/?account=acme",  # not owned: try it
    }
    assert "Data Insights" not in html  # coming soon: hidden
    assert "Security Posture" in html and "open in United States" in html
    # and the region switcher lists acme's regions at their people URLs
    assert switcher(html, "region-switcher") == {
        "us": us.people_url + "/",
        "eu": eu.people_url + "/p/backup/",
    }


def test_a_trial_that_expires_at_atrium_turns_the_eu_page_into_the_buy_page(
    atrium_machine, worker, regions, region_processes, catalog, acme, alice, bob
):
    eu = region_processes["eu"]
    account_uses(acme, [regions["eu"]])
    owner = Membership.objects.get(account=acme, user=alice)
    # given acme started a Security Posture trial in EU
    (trial,) = trial_start(account=acme, product=catalog["posture"], regions=[regions["eu"]], actor=owner)
    wait_for(all_synced, what="the trial's entitlements document in EU")
    browser = httpx.Client(follow_redirects=True, timeout=30)
    page = portal_login_via(browser, eu.people_url + "/p/posture/", "bob@acme.test", PASSWORD)
    assert page.status_code == 200, page.text
    assert 'data-testid="product-expired"' not in page.text

    # when the trial's end passes at Atrium and the sweep expires it (pushed by the worker)
    swept = trials_sweep(now=trial.ends_at + timedelta(minutes=1))
    assert swept["expired"] == 1
    assert Entitlement.objects.get(pk=trial.pk).status == Entitlement.Status.EXPIRED
    wait_for(all_synced, what="the expired document in EU")

    # then EU offers to buy Security Posture instead of opening it
    ended = browser.get(eu.people_url + "/p/posture/")
    assert ended.status_code == 403
    assert 'data-testid="product-expired"' in ended.text
    assert "Your trial of <strong>Security Posture</strong>" in ended.text  # the catalog's name
    assert f"{trial.ends_at:%-d %B %Y}" in ended.text
    link = re.search(r'<a href="([^"]+)" role="button" data-testid="portal-product-link">', ended.text)
    assert link and link.group(1) == f"{settings.ATRIUM_ISSUER}/products/posture/?account=acme"
    assert "Buy it in the Atrium portal" in ended.text
    # and the rest of the region still works for him
    assert browser.get(eu.people_url + "/").status_code == 200
    assert timezone.now() < trial.ends_at  # the region enforced Atrium's word, not its own clock
