"""A person's journey in a real browser (Playwright + Debian's Chromium): sign in at Atrium,
open the account, open a region from it without signing in again; the members page: badges
that refresh by themselves without touching what is being typed, confirmations, bulk actions,
and a layout that fits a phone."""

from datetime import UTC, datetime

import pytest
from django.db.models import F

from accounts.models import Membership
from accounts.services import account_region_add, membership_add, membership_remove, membership_update
from conftest import PASSWORD, make_region, make_user
from regions.models import ProvisioningRecord
from tests.e2e.conftest import browser_sign_in, provision_into_region

pytestmark = pytest.mark.e2e


def sign_in(page, base_url: str, email: str) -> None:
    browser_sign_in(page, base_url, email, PASSWORD)


def test_alice_signs_in_once_and_opens_a_region_from_her_account(
    page, live_server, regions, region_processes, alice, bob, acme
):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[alice])
    # when she signs in at the portal
    sign_in(page, live_server.url, "alice@acme.test")
    # then she lands on her account with its counts and regions
    assert page.url == f"{live_server.url}/a/acme/"
    assert page.locator("[data-count='members'] strong").inner_text() == "2"
    # when she opens EU from there
    page.click("[data-region='eu']")
    # then EU greets her without a second password prompt
    page.wait_for_url(eu.people_url + "/")
    assert page.get_by_test_id("region-user-email").inner_text() == "alice@acme.test"
    assert page.get_by_test_id("region-tenant").inner_text() == "acme"


def test_a_new_members_badges_turn_synced_by_themselves(page, live_server, worker, regions, alice, acme):
    from tests.e2e.conftest import account_uses

    account_uses(acme, [regions["us"], regions["eu"]])
    membership_add(account=acme, user=make_user("erin@acme.test", "Erin", "Evans"))
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    # no reload: the badges refresh until both regions confirmed, then the polling stops
    erin = page.locator("tr[data-member='erin@acme.test']")
    for code in ("us", "eu"):
        erin.locator(f"[data-region='{code}'][data-sync-state='synced']").wait_for(timeout=30_000)
    page.locator("#members-sync[data-syncing='false']").wait_for(state="attached", timeout=30_000)


def active_element_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def park_pushes(account) -> None:
    """Hold the account's changes "on their way": retrying, next attempt far away, no lease, so
    neither a worker left running by another test nor the sweeper touches them."""
    ProvisioningRecord.objects.filter(tenant=account.slug).update(
        state="retrying", next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC), lease_token=None, lease_until=None,
        last_error="held by the test",
    )  # fmt: skip


def confirm_everything(account) -> None:
    ProvisioningRecord.objects.filter(tenant=account.slug).update(
        state="synced", acked_version=F("desired_version"), next_attempt_at=None, lease_token=None
    )


def test_the_badge_refresh_never_moves_focus_or_loses_what_is_being_typed(
    page, live_server, transactional_db, alice, bob, acme
):
    # given changes on their way to EU, held there until the test confirms them
    account_region_add(account=acme, region=make_region("eu", 8301, 9301))
    park_pushes(acme)
    bob_membership = Membership.objects.get(account=acme, user=bob)
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    assert page.locator("#members-sync").get_attribute("data-syncing") == "true"
    bob_row = page.locator("tr[data-member='bob@acme.test']")
    bob_row.locator("[data-region='eu'][data-sync-state='retrying']").wait_for()
    # when alice ticks bob for a bulk action, opens his menu and half-types a new first name
    bob_row.locator("input[name=ids]").check()
    bob_row.locator("summary").click()
    field = page.locator(f"#rename-first-{bob_membership.pk}")
    field.fill("")
    field.press_sequentially("Rob", delay=20)
    assert active_element_id(page) == f"rename-first-{bob_membership.pk}"
    # and the regions confirm meanwhile, so the badges refresh under her hands
    confirm_everything(acme)
    bob_row.locator("[data-region='eu'][data-sync-state='synced']").wait_for(timeout=10_000)
    page.locator("#members-sync[data-syncing='false']").wait_for(state="attached", timeout=10_000)
    # then nothing she was doing moved: focus, caret, text, the open menu, the tick
    assert active_element_id(page) == f"rename-first-{bob_membership.pk}"
    assert field.input_value() == "Rob"
    assert page.evaluate("() => document.activeElement.selectionStart") == 3
    assert bob_row.locator("details").get_attribute("open") is not None
    assert bob_row.locator("input[name=ids]").is_checked()
    # and she finishes typing where she left off
    page.keyboard.type("ert")
    bob_row.locator("button[data-action=rename]").click()
    page.wait_for_url(f"{live_server.url}/a/acme/members/")
    assert "bob@acme.test renamed." in page.locator("[role=status]").inner_text()
    bob.refresh_from_db()
    assert bob.first_name == "Robert"


def test_the_refresh_also_leaves_the_search_box_alone(page, live_server, transactional_db, alice, bob, acme):
    account_region_add(account=acme, region=make_region("eu", 8301, 9301))
    park_pushes(acme)
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    search = page.locator("#filter-q")
    search.click()
    page.keyboard.type("bo")
    confirm_everything(acme)
    page.locator("tr[data-member='bob@acme.test'] [data-sync-state='synced']").wait_for(timeout=10_000)
    assert active_element_id(page) == "filter-q" and search.input_value() == "bo"
    # and the search is in the query string, so the result can be bookmarked
    page.keyboard.type("b")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/a/acme/members/?q=bob**")
    assert page.locator("tr[data-member]").count() == 1


def test_suspending_asks_first_naming_the_person(page, live_server, transactional_db, alice, bob, acme):
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/?q=acme")
    bob_row = page.locator("tr[data-member='bob@acme.test']")
    bob_row.locator("summary").click()
    bob_row.locator("[data-action=suspend]").click()
    assert page.locator("h1").inner_text() == "Suspend Bob Brown?"
    assert Membership.objects.get(user=bob).status == "active"
    page.click("button[data-confirm=suspend]")
    # back on the same filtered list, told what happened
    page.wait_for_url(f"{live_server.url}/a/acme/members/?q=acme")
    assert "bob@acme.test suspended everywhere." in page.locator("[role=status]").inner_text()
    assert page.locator("tr[data-member='bob@acme.test']").get_attribute("data-status") == "suspended"


def test_a_bulk_action_names_the_count_and_the_people_then_reports_the_skipped(
    page, live_server, transactional_db, alice, bob, acme
):
    membership_add(account=acme, user=make_user("erin@acme.test", "Erin", "Evans"))
    sign_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    # select every row there is (alice's own has no checkbox), then choose suspend
    page.locator("[data-select-all]").check()
    assert page.locator("input[name=ids]:checked").count() == 2
    page.select_option("#members-bulk select[name=action]", "suspend")
    page.click("button[data-action=bulk]")
    assert page.locator("h1").inner_text() == "Suspend 2 members?"
    names = page.locator(".bulk-targets li").all_inner_texts()
    assert any("bob@acme.test" in n for n in names) and any("erin@acme.test" in n for n in names)
    page.click("button[data-confirm=suspend]")
    page.wait_for_url(f"{live_server.url}/a/acme/members/")
    assert "2 members suspended everywhere." in page.locator("[role=status]").first.inner_text()
    assert set(Membership.objects.filter(status="suspended").values_list("user__email", flat=True)) == {
        "bob@acme.test",
        "erin@acme.test",
    }


@pytest.fixture
def busy_acme(transactional_db, alice, acme):
    """Three regions, long names and addresses, every kind of badge and status."""
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
    return acme


def page_widths(page) -> dict:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )


@pytest.mark.parametrize(("width", "height"), [(375, 812), (1280, 800)])
def test_the_members_pages_fit_the_window_without_sideways_scrolling(
    browser, live_server, busy_acme, bob, width, height
):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    sign_in(page, live_server.url, "alice@acme.test")
    person = Membership.objects.get(user__email="person.with.a.long.address3@acme-international.test")
    for path in ("members/", "members/?status=removing", "", f"members/{person.pk}/regions/",
                 f"members/bulk/?action=remove&ids={person.pk}"):  # fmt: skip
        page.goto(f"{live_server.url}/a/acme/{path}")
        if path == "members/":
            page.locator("tr[data-status='removing']").wait_for()
            # an open menu must fit too
            page.locator(f"tr[data-member='{person.user.email}'] summary").click()
        widths = page_widths(page)
        assert widths["scroll"] <= width, (path, widths)
    # the directory a plain member sees fits as well
    page.context.clear_cookies()
    sign_in(page, live_server.url, "bob@acme.test")
    page.goto(f"{live_server.url}/a/acme/members/")
    assert page.locator("table.directory").is_visible()
    assert page_widths(page)["scroll"] <= width
