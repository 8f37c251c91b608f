"""Archiver, built on the kit alone, on real processes: the EU regional server lists Acme's people
and groups from Atrium's real directory API (Atrium's machine listener, mutual TLS, the region's
own directory:read token), an owner places a hold on a member, and a member may only look."""

import re

import httpx
import pytest
from django.db.models import F

from accounts.groups import group_create
from accounts.models import Membership
from conftest import PASSWORD
from products.services import entitlement_set, product_create
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, csrf_token_in, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


def test_an_owner_puts_a_member_on_hold_with_people_read_from_atriums_directory(
    atrium_machine, worker, regions, region_processes, acme, alice, bob
):
    eu = region_processes["eu"]
    archiver = product_create(code="archiver", name="Archiver", regions=[regions["eu"]], trial_days=30)
    account_uses(acme, [regions["eu"]])
    entitlement_set(account=acme, product=archiver, region=regions["eu"], status="active")
    owner = Membership.objects.get(account=acme, user=alice)
    group_create(account=acme, actor=owner, name="Legal")
    wait_for(all_synced, what="acme's members, group and entitlements in EU")

    # when alice (owner) opens Archiver in EU
    browser = httpx.Client(follow_redirects=True, timeout=30)
    page = portal_login_via(browser, eu.people_url + "/p/archiver/", "alice@acme.test", PASSWORD)
    assert page.status_code == 200, page.text

    # then the people and groups come from Atrium's directory
    assert 'data-testid="directory-unavailable"' not in page.text, page.text
    assert 'data-person="bob@acme.test"' in page.text
    assert 'data-group="Legal"' in page.text

    # when she places a hold on bob
    bob_id = str(bob.public_id)
    placed = browser.post(
        eu.people_url + "/p/archiver/holds/",
        data={
            "csrfmiddlewaretoken": csrf_token_in(page.text),
            "kind": "person",
            "target_id": bob_id,
            "reason": "Matter 2026-114",
        },  # fmt: skip
    )
    assert placed.status_code == 200, placed.text
    assert "Bob Brown &lt;bob@acme.test&gt; is on hold." in placed.text
    assert re.search(r'data-person="bob@acme.test">.*?data-held="yes"', placed.text, re.S)

    # and bob, a member, sees the hold but may not release it
    as_bob = httpx.Client(follow_redirects=True, timeout=30)
    bobs_page = portal_login_via(as_bob, eu.people_url + "/p/archiver/", "bob@acme.test", PASSWORD)
    assert 'data-testid="archiver-read-only"' in bobs_page.text
    hold_id = re.search(r'data-hold="(\d+)"', bobs_page.text).group(1)
    refused = as_bob.post(
        f"{eu.people_url}/p/archiver/holds/{hold_id}/release/",
        data={"csrfmiddlewaretoken": csrf_token_in(bobs_page.text)},
    )
    assert refused.status_code == 403
