"""Removals stay visible until every region confirmed them: the members page shows a removed
member as "removing" with per-region badges and retry, and drops the row only once confirmed.
Real worker and regional processes; a real browser for the page's width."""

import pytest
from django.db.models import F

from accounts.models import Membership
from accounts.services import account_region_add, membership_add, membership_remove, membership_update
from conftest import PASSWORD, make_region, make_user
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, browser_sign_in, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser):
    return browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def sign_in(page, base_url: str, email: str) -> None:
    browser_sign_in(page, base_url, email, PASSWORD)


def test_the_members_table_fits_a_1280_pixel_window_with_three_regions(
    page, live_server, transactional_db, alice, acme
):
    # given three regions, several members with long names and every kind of badge
    for n, code in enumerate(("us", "eu", "au")):
        account_region_add(account=acme, region=make_region(code, 8201 + n, 9201 + n))
    for n in range(6):
        user = make_user(
            f"person.with.a.long.address{n}@acme-international.test", "Maximiliane", "Oberhausen-Wittgenstein"
        )
        membership = membership_add(account=acme, user=user, role="admin" if n == 0 else "member")
        if n == 1:
            membership_update(membership=membership, status="suspended")
        if n == 2:
            membership_remove(membership=membership)
    ProvisioningRecord.objects.filter(region__code="au").update(state="failed", last_error="unreachable")
    ProvisioningRecord.objects.filter(region__code="eu").update(state="retrying", last_error="unreachable")
    # when the owner opens the members page in a 1280x800 window
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    page.locator("tr[data-status='removing']").wait_for()
    # then nothing scrolls sideways
    widths = page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
                  table: document.querySelector('table.members').getBoundingClientRect().right})"""
    )
    assert widths["scroll"] <= widths["client"], widths
    assert widths["table"] <= widths["client"], widths


def states_of(user) -> dict[str, str]:
    records = ProvisioningRecord.objects.filter(object_key=str(user.public_id)).select_related("region")
    return {r.region.code: r.state for r in records}


def remote(region, tenant, user):
    return region_client.scim_user_find(
        machine_url=region.machine_url, tenant=tenant, external_id=str(user.public_id)
    )


def member_row(html: str, email: str) -> str:
    marker = f'data-member="{email}"'
    return html.split(marker, 1)[1].split("</tr>", 1)[0] if marker in html else ""


def test_a_removal_whose_region_is_down_stays_removing_with_retry_then_disappears(
    client, worker, regions, region_processes, alice, bob, acme
):
    # given Acme uses US and EU, and both hold bob
    account_uses(acme, [regions["us"], regions["eu"]])
    wait_for(
        lambda: (
            not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()
            and len(states_of(bob)) == 2
        ),
        what="everyone synced",
    )
    membership = Membership.objects.get(account=acme, user=bob)
    eu = region_processes["eu"]
    eu.stop("machine")
    try:
        # when alice removes bob while EU's machine port is down
        client.force_login(alice)
        response = client.post(f"/a/acme/members/{membership.pk}/remove/", follow=True)
        assert "Removing bob@acme.test from 2 regions…" in response.content.decode()
        wait_for(
            lambda: states_of(bob) == {"us": "synced", "eu": "retrying"}, what="US confirmed, EU retrying"
        )
        # then the page still shows him, as removing, with EU's badge and a retry button
        row = member_row(client.get("/a/acme/members/").content.decode(), "bob@acme.test")
        assert row.startswith(' data-status="removing"')
        assert 'data-region="us" data-sync-state="synced" data-sync-op="delete"' in row
        assert 'data-region="eu" data-sync-state="retrying" data-sync-op="delete"' in row
        assert 'data-retry="eu"' in row
        assert remote(regions["us"], "acme", bob) is None
        assert Membership.objects.get(pk=membership.pk).status == "removing"
    finally:
        eu.start("machine")
    # when EU is back and alice presses retry
    record = ProvisioningRecord.objects.get(object_key=str(bob.public_id), region__code="eu")
    assert client.post(f"/a/acme/sync/{record.pk}/retry/").status_code == 302
    # then EU confirms, the membership goes, and the page no longer lists him
    wait_for(
        lambda: not Membership.objects.filter(pk=membership.pk).exists(), timeout=45, what="removal confirmed"
    )
    assert remote(regions["eu"], "acme", bob) is None
    page = client.get("/a/acme/members/").content.decode()
    assert 'data-member="bob@acme.test"' not in page
    assert 'data-member="alice@acme.test"' in page
