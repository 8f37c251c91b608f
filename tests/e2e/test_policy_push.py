"""An account's security policy reaches real regional servers (a real worker pushing over mTLS
to the tenant API through the ledger): the portal page shows each region's acknowledged version,
each region shows the version it enforces, a region that was down gets the policy when it
returns, and a region sign-in by someone the policy requires to have MFA is sent to enrol at
Atrium first (only after the grace)."""

import httpx
import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from accounts.security_policy import security_policy_save
from conftest import PASSWORD
from regions.client import m2m_token
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, machine_http, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def policy_rows():
    return ProvisioningRecord.objects.filter(kind="policy", tenant="acme")


def synced(rows) -> bool:
    return (
        rows.exists()
        and not rows.exclude(state="synced").exclude(acked_version=F("desired_version")).exists()
    )


def region_policy(region) -> dict:
    with machine_http(region) as http:
        token = m2m_token(audience=region.machine_url, scope="tenant")
        response = http.get("/tenant/v1/acme/policy", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def owner_of(acme) -> Membership:
    return Membership.objects.get(account=acme, user__email="alice@acme.test")


def test_a_saved_policy_reaches_every_region_and_the_page_shows_each_acknowledged_version(
    worker, regions, region_processes, acme, alice
):
    account_uses(acme, [regions["us"], regions["eu"]])
    owner = owner_of(acme)
    # when alice saves a policy through the page (preview, then confirm)
    page = Client()
    page.force_login(alice)
    form = {"mfa_grace_days": "7", "password_min_length": "8", "idle_timeout_minutes": "30",
            "session_lifetime_minutes": "", "allowed_email_domains": "", "mfa_required": "on"}  # fmt: skip
    assert page.post("/a/acme/security/", {**form, "step": "preview"}).status_code == 200
    assert page.post("/a/acme/security/", {**form, "step": "confirm"}).status_code == 302
    wait_for(lambda: synced(policy_rows()) and policy_rows().count() == 2, what="policy v1 in both regions")

    # then both regions enforce version 1, and the page says so per region
    for code in ("us", "eu"):
        held = region_policy(region_processes[code])
        assert held["version"] == 1 and held["mfa_required"] is True and held["idle_timeout_seconds"] == 1800
    html = page.get("/a/acme/security/").content.decode()
    assert 'data-testid="acked-us">v1<' in html and 'data-testid="acked-eu">v1<' in html

    # and a newer version replaces it everywhere
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 15})
    wait_for(lambda: synced(policy_rows()), what="policy v2 in both regions")
    assert [region_policy(region_processes[c])["version"] for c in ("us", "eu")] == [2, 2]
    html = page.get("/a/acme/security/").content.decode()
    assert 'data-testid="acked-us">v2<' in html and 'data-testid="acked-eu">v2<' in html


def test_a_region_down_during_the_save_gets_the_policy_when_it_returns(
    worker, regions, region_processes, acme
):
    account_uses(acme, [regions["us"], regions["eu"]])
    wait_for(lambda: synced(ProvisioningRecord.objects.filter(tenant="acme")), what="members in both regions")
    eu = region_processes["eu"]
    eu.stop("machine")
    try:
        security_policy_save(actor=owner_of(acme), settings={"session_lifetime_minutes": 120})
        wait_for(lambda: synced(policy_rows().filter(region__code="us")), what="policy in US")
        wait_for(
            lambda: policy_rows().filter(region__code="eu", state="retrying", attempts__gte=1).exists(),
            what="EU retrying while down",
        )
    finally:
        eu.start("machine")
    wait_for(lambda: synced(policy_rows()), timeout=60, what="EU caught up")
    assert region_policy(eu)["session_lifetime_seconds"] == 7200


def test_a_region_added_later_enforces_the_current_policy(worker, regions, region_processes, acme):
    account_uses(acme, [regions["us"]])
    security_policy_save(actor=owner_of(acme), settings={"sso_only": True})
    security_policy_save(actor=owner_of(acme), settings={"idle_timeout_minutes": 45})
    account_uses(acme, [regions["eu"]])
    wait_for(lambda: synced(policy_rows()) and policy_rows().count() == 2, what="policy in both regions")
    held = region_policy(region_processes["eu"])
    assert held["version"] == 2 and held["sso_only"] is True


def test_mfa_required_sends_a_region_sign_in_to_enrol_at_atrium_first(
    worker, regions, region_processes, acme
):
    us = region_processes["us"]
    account_uses(acme, [regions["us"]])
    security_policy_save(actor=owner_of(acme), settings={"mfa_required": True, "mfa_grace_days": 0})
    wait_for(
        lambda: synced(ProvisioningRecord.objects.filter(tenant="acme")), what="members and policy in US"
    )

    # when bob (no MFA) signs in to US through Atrium
    browser = httpx.Client(follow_redirects=True, timeout=30)
    landed = portal_login_via(browser, us.people_url + "/", "bob@acme.test", PASSWORD)

    # then he lands on Atrium's MFA enrolment, with the region's authorize request to come back to,
    # and holds no region session
    assert landed.url.path == reverse("mfa:index"), landed.url
    assert "next=%2Fidentity%2Fo%2Fauthorize" in str(landed.url)
    home = browser.get(us.people_url + "/", follow_redirects=False)
    assert home.status_code == 302 and "/oidc/authenticate/" in home.headers["location"]


def test_during_the_grace_the_region_sign_in_goes_through_and_shows_the_enforced_version(
    worker, regions, region_processes, acme
):
    us = region_processes["us"]
    account_uses(acme, [regions["us"]])
    security_policy_save(actor=owner_of(acme), settings={"mfa_required": True, "mfa_grace_days": 5})
    wait_for(
        lambda: synced(ProvisioningRecord.objects.filter(tenant="acme")), what="members and policy in US"
    )
    browser = httpx.Client(follow_redirects=True, timeout=30)
    landed = portal_login_via(browser, us.people_url + "/", "bob@acme.test", PASSWORD)
    assert str(landed.url) == us.people_url + "/"
    assert 'data-testid="tenant-policy-version">v1<' in landed.text
