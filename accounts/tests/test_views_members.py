"""The members page: the admin view and the directory, search/filter/sort/pages in the query
string, the badges' live refresh, confirmation pages for every change, bulk actions; who may
see and change what; bad input; tenant isolation; query counts."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.groups import group_create, group_members_add
from accounts.models import GroupMember, Membership
from accounts.services import account_region_add, membership_add, membership_remove, membership_update
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_eu(db):
    return make_region("eu")


@pytest.fixture
def bob_membership(acme, bob):
    return Membership.objects.get(account=acme, user=bob)


@pytest.fixture
def alice_membership(acme, alice):
    return Membership.objects.get(account=acme, user=alice)


def add(account, email: str, role: str = "member", first: str = "", last: str = "", status: str = "active"):
    return membership_add(account=account, user=make_user(email, first, last), role=role, status=status)


@pytest.fixture
def staff(acme):
    """One Acme member per remaining role: adam (admin), bella (billing), rita (read-only)."""
    return {
        "admin": add(acme, "adam@acme.test", "admin", "Adam", "Admin"),
        "billing": add(acme, "bella@acme.test", "billing", "Bella", "Bills"),
        "read_only": add(acme, "rita@acme.test", "read_only", "Rita", "Reader"),
    }


def emails_on(body: str) -> list[str]:
    return re.findall(r'data-member="([^"]+)"', body)


def row_of(body: str, email: str) -> str:
    marker = f'data-member="{email}"'
    return body.split(marker, 1)[1].split("</tr>", 1)[0] if marker in body else ""


def get(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the admin view ---------------------------------------------------------------------------
def test_the_page_lists_members_with_one_sync_badge_per_region(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    body = get(client, "/a/acme/members/")
    assert 'data-member="bob@acme.test"' in body
    assert body.count('data-region="eu" data-sync-state="pending"') == 2


def test_a_failed_row_shows_its_error_and_a_retry_button(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    ProvisioningRecord.objects.update(state="failed", last_error="HTTP 409 userName taken")
    client.force_login(alice)
    body = get(client, "/a/acme/members/")
    assert 'title="HTTP 409 userName taken"' in body
    assert 'data-retry="eu"' in body


def test_adding_by_email_is_gone_the_page_links_to_invitations_instead(client, alice, acme):
    client.force_login(alice)
    body = get(client, "/a/acme/members/")
    assert 'id="member-add"' not in body and "Add member" not in body
    assert 'href="/a/acme/invitations/" role="button" data-action="invite">Invite people</a>' in body
    assert client.post("/a/acme/members/add/", {"email": "x@acme.test", "role": "member"}).status_code == 404
    assert not Membership.objects.filter(user__email="x@acme.test").exists()


def test_an_owner_gets_ownership_controls_an_admin_does_not_and_cannot_touch_the_owner(
    client, alice, acme, staff
):
    client.force_login(alice)
    row = row_of(get(client, "/a/acme/members/"), "bob@acme.test")
    assert 'data-action="make-owner"' in row and 'data-action="transfer"' in row
    client.force_login(staff["admin"].user)
    body = get(client, "/a/acme/members/")
    assert 'data-action="make-owner"' not in body and 'data-action="transfer"' not in body
    assert 'data-action="suspend"' in row_of(body, "bob@acme.test")
    owner_row = row_of(body, "alice@acme.test")
    assert "<small>owner</small>" in owner_row and "data-action" not in owner_row
    assert "<small>you</small>" in row_of(body, "adam@acme.test")


# --- search, filters, sort, pages ----------------------------------------------------------
@pytest.fixture
def crowd(acme, region_eu):
    """Acme with EU and a mix: roles, a suspended and a removing member, sync states, a group."""
    account_region_add(account=acme, region=region_eu)
    people = {
        "carla": add(acme, "carla@acme.test", "admin", "Carla", "Zimmer"),
        "dan": add(acme, "dan@acme.test", "billing", "Dan", "Young"),
        "erin": add(acme, "erin@acme.test", "member", "Erin", "Brown", status="suspended"),
        "finn": add(acme, "finn@acme.test", "read_only", "Finn", "Adams"),
        "gone": add(acme, "gone@acme.test", "member", "Gone", "Soon"),
    }
    membership_remove(membership=people["gone"])
    records = ProvisioningRecord.objects.filter(kind="user")
    records.update(state="synced")
    records.filter(object_key=str(people["dan"].user.public_id)).update(state="failed", last_error="boom")
    records.filter(object_key=str(people["finn"].user.public_id)).update(state="retrying")
    group = group_create(account=acme, actor=None, name="Backup operators")
    group_members_add(group=group, actor=None, memberships=[people["carla"], people["finn"]])
    people["group"] = group
    return people


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "acme.test"}, 7),
        ({"q": "BROWN"}, ["bob@acme.test", "erin@acme.test"]),
        ({"q": "bob brown"}, ["bob@acme.test"]),
        ({"q": "carla@"}, ["carla@acme.test"]),
        ({"q": "nobody-like-this"}, []),
        ({"role": "billing"}, ["dan@acme.test"]),
        ({"status": "suspended"}, ["erin@acme.test"]),
        ({"status": "removing"}, ["gone@acme.test"]),
        ({"sync": "failed"}, ["dan@acme.test"]),
        ({"sync": "retrying"}, ["finn@acme.test"]),
        ({"role": "member", "status": "active"}, ["bob@acme.test"]),
    ],
)
def test_search_and_filters_narrow_the_list(client, alice, crowd, params, expected):
    client.force_login(alice)
    found = emails_on(get(client, "/a/acme/members/", **params))
    if isinstance(expected, int):
        assert len(found) == expected
    else:
        assert found == expected


def test_the_group_filter_lists_the_groups_members(client, alice, crowd):
    client.force_login(alice)
    body = get(client, "/a/acme/members/", group=crowd["group"].pk)
    assert emails_on(body) == ["carla@acme.test", "finn@acme.test"]
    assert f'<option value="{crowd["group"].pk}" selected>Backup operators</option>' in body


def test_the_sync_filter_finds_who_is_still_pending(client, alice, crowd):
    ProvisioningRecord.objects.filter(object_key=str(crowd["carla"].user.public_id)).update(state="pending")
    client.force_login(alice)
    assert emails_on(get(client, "/a/acme/members/", sync="pending")) == ["carla@acme.test"]
    assert "carla@acme.test" not in emails_on(get(client, "/a/acme/members/", sync="synced"))


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        ("email", "alice@acme.test", "gone@acme.test"),
        ("-email", "gone@acme.test", "alice@acme.test"),
        ("name", "finn@acme.test", "carla@acme.test"),  # by last name: Adams … Zimmer
        ("-name", "carla@acme.test", "finn@acme.test"),
        ("role", "alice@acme.test", "finn@acme.test"),  # owner first, read-only last
        ("status", "alice@acme.test", "gone@acme.test"),  # active, suspended, removing
        ("joined", "alice@acme.test", "gone@acme.test"),
        ("-joined", "gone@acme.test", "alice@acme.test"),
    ],
)
def test_every_sort_orders_the_rows(client, alice, crowd, sort, first, last):
    client.force_login(alice)
    found = emails_on(get(client, "/a/acme/members/", sort=sort))
    assert (found[0], found[-1]) == (first, last)


def test_fifty_per_page_and_page_links_keep_the_filters(client, alice, acme):
    for n in range(60):
        add(acme, f"person{n:02d}@acme.test")
    client.force_login(alice)
    body = get(client, "/a/acme/members/", q="person", sort="-email")
    assert len(emails_on(body)) == 50
    assert emails_on(body)[0] == "person59@acme.test"
    assert "1–50 of 60" in body
    next_link = re.search(r'href="\?([^"]+)" rel="next"', body).group(1).replace("&amp;", "&")
    assert parse_qs(next_link) == {"q": ["person"], "sort": ["-email"], "page": ["2"]}
    second = get(client, "/a/acme/members/?" + next_link)
    assert emails_on(second) == [f"person{n:02d}@acme.test" for n in range(9, -1, -1)]
    assert "51–60 of 60" in second


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-3"},
        {"page": "0"},
        {"page": "99999"},
        {"page": "9" * 40},
        {"sort": "evil"},
        {"sort": "user__password"},
        {"role": "emperor"},
        {"status": "deleted"},
        {"sync": "maybe"},
        {"group": "abc"},
        {"group": "99999"},
        {"group": "-1"},
        {"q": "x" * 500},
        {"q": "%' OR 1=1 --"},
        {"ids": "1", "action": "remove"},
    ],
)
def test_bad_query_values_are_ignored_never_a_500(client, alice, acme, region_eu, params):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    response = client.get("/a/acme/members/", params)
    assert response.status_code == 200
    assert Membership.objects.filter(account=acme).count() == 2  # nothing changed on the way


def test_a_nul_character_in_the_query_is_a_400_and_changes_nothing(client, alice, acme):
    # (portal.middleware.RejectNulCharactersMiddleware: no database column holds one)
    client.force_login(alice)
    assert client.get("/a/acme/members/", {"q": "\x00"}).status_code == 400
    assert Membership.objects.filter(account=acme).count() == 2


def test_an_ignored_value_is_named_and_the_rest_of_the_query_still_applies(client, alice, crowd):
    client.force_login(alice)
    body = get(client, "/a/acme/members/", role="emperor", status="suspended", sort="evil")
    assert "Ignored an unknown value for: Role, Sort." in body
    assert emails_on(body) == ["erin@acme.test"]


def test_a_page_past_the_end_shows_the_last_page(client, alice, acme):
    for n in range(55):
        add(acme, f"person{n:02d}@acme.test")
    client.force_login(alice)
    body = get(client, "/a/acme/members/", page=99999)
    assert "51–57 of 57" in body


# --- query counts: constant in the number of members -----------------------------------------
# The target is at most 10. Today: session, user, membership, groups, counts (matching
# and by status), page, regions, ledger rows, and the layout's account switcher = 9.
MAX_QUERIES = 10


def grow(account, group, numbers) -> None:
    """More members of every kind: removing, suspended, failed in a region, in a group."""
    for n in numbers:
        membership = add(account, f"person{n:02d}@acme.test", first=f"P{n}")
        if n % 2 == 1:
            group_members_add(group=group, actor=None, memberships=[membership])
        if n % 5 == 1:
            membership_remove(membership=membership)
        elif n % 5 == 2:
            membership_update(membership=membership, status="suspended")
        elif n % 5 == 3:
            ProvisioningRecord.objects.filter(object_key=str(membership.user.public_id)).update(
                state="failed", last_error="boom"
            )


def count_queries(client, django_assert_max_num_queries, url: str, params=None) -> tuple[int, str]:
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "person", "role": "member", "sort": "name"},
        {"sync": "failed", "group": "GROUP", "status": "active", "sort": "-joined"},
        {"page": "2"},
    ],
)
def test_the_members_page_costs_the_same_queries_with_5_or_60_members(
    client, alice, acme, region_eu, django_assert_max_num_queries, params
):
    account_region_add(account=acme, region=make_region("us", 8104, 9104))
    account_region_add(account=acme, region=region_eu)
    group = group_create(account=acme, actor=None, name="Ops")
    params = {key: str(group.pk) if value == "GROUP" else value for key, value in params.items()}
    client.force_login(alice)
    grow(acme, group, range(5))
    small, _ = count_queries(client, django_assert_max_num_queries, "/a/acme/members/", params)
    grow(acme, group, range(5, 60))
    large, body = count_queries(client, django_assert_max_num_queries, "/a/acme/members/", params)
    assert small == large
    if not params:
        assert len(emails_on(body)) == 50


def test_the_directory_costs_the_same_queries_with_5_or_60_members(
    client, bob, acme, region_eu, django_assert_max_num_queries
):
    account_region_add(account=acme, region=region_eu)
    group = group_create(account=acme, actor=None, name="Ops")
    client.force_login(bob)
    grow(acme, group, range(5))
    small, _ = count_queries(client, django_assert_max_num_queries, "/a/acme/members/", {"q": "person"})
    grow(acme, group, range(5, 60))
    large, body = count_queries(client, django_assert_max_num_queries, "/a/acme/members/", {"q": "person"})
    assert small == large <= 6  # session, user, membership, counts, page, account switcher
    assert len(emails_on(body)) == 36  # active ones only


# --- the live refresh of the badges ----------------------------------------------------------
def badges_url(body: str) -> str:
    return (
        re.search(r'id="members-sync" data-syncing="true" hx-get="([^"]+)"', body)
        .group(1)
        .replace("&amp;", "&")
    )


def test_only_the_badges_poll_while_a_change_is_on_its_way_and_stop_when_synced(
    client, alice, acme, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    page = get(client, "/a/acme/members/")
    # the poller asks for the badges of exactly the rows shown, never for the table itself
    assert 'hx-trigger="every 2s" hx-swap="none"' in page
    assert page.count("hx-get=") == 1
    url = badges_url(page)
    assert url.startswith("/a/acme/members/badges/?")
    ids = {int(pk) for pk in parse_qs(urlsplit(url).query)["ids"][0].split(",")}
    assert ids == set(Membership.objects.filter(account=acme).values_list("pk", flat=True))
    ProvisioningRecord.objects.update(state="synced", acked_version=1)
    assert "hx-trigger" not in get(client, "/a/acme/members/")


def test_the_badge_refresh_answers_badge_cells_alone_out_of_band(
    client, alice, acme, region_eu, bob_membership
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    url = badges_url(get(client, "/a/acme/members/"))
    body = get(client, url)
    assert f'<div id="sync-{bob_membership.pk}-eu" class="sync-slot" hx-swap-oob="true">' in body
    assert 'data-region="eu" data-sync-state="pending"' in body
    # nothing that holds input: no rename fields, no filter or bulk form, no page around it
    assert "<input name=" not in body and "members-filter" not in body and "<html" not in body
    assert 'id="members-sync"' not in body  # still syncing: the poller keeps polling
    # once everything is synced, the poller is replaced by a quiet one
    ProvisioningRecord.objects.update(state="synced", acked_version=1)
    body = get(client, url)
    assert 'data-sync-state="synced"' in body
    assert '<div id="members-sync" data-syncing="false" hx-swap-oob="true"></div>' in body


def test_a_removal_confirmed_meanwhile_turns_the_rows_badges_to_removed(
    client, alice, acme, region_eu, bob_membership
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    body = get(client, "/a/acme/members/")
    assert 'data-member="bob@acme.test" data-status="removing"' in body
    assert 'data-region="eu" data-sync-state="pending" data-sync-op="delete"' in body
    url = badges_url(body)
    # when EU confirms the deletion, the membership goes
    from regions.signals import record_synced

    record = ProvisioningRecord.objects.get(object_key=str(bob_membership.user.public_id))
    ProvisioningRecord.objects.filter(pk=record.pk).update(
        state="synced", acked_version=record.desired_version
    )
    record.refresh_from_db()
    record_synced.send(sender=ProvisioningRecord, record=record)
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()
    # then the refresh marks his row removed (it leaves the table on the next load)
    refreshed = get(client, url)
    assert (
        f'<span id="status-{bob_membership.pk}" class="badge status-removed" hx-swap-oob="true">' in refreshed
    )
    assert f'id="sync-{bob_membership.pk}-eu"' in refreshed and ">removed</span>" in refreshed
    assert "bob@acme.test" not in refreshed
    assert 'data-member="bob@acme.test"' not in get(client, "/a/acme/members/")


@pytest.mark.parametrize("query", ["ids=abc", "ids=1,,x", "ids=" + ",".join(["1"] * 101), "ids=-5", "ids=0"])
def test_bad_badge_requests_are_400(client, alice, acme, query):
    client.force_login(alice)
    assert client.get(f"/a/acme/members/badges/?{query}").status_code == 400


def test_the_badge_refresh_costs_the_same_queries_for_5_or_60_rows(
    client, alice, acme, region_eu, django_assert_max_num_queries
):
    account_region_add(account=acme, region=region_eu)
    ids = [add(acme, f"person{n:02d}@acme.test").pk for n in range(60)]
    client.force_login(alice)
    counts = []
    for shown in (ids[:5], ids):
        params = {"ids": ",".join(map(str, shown)), "regions": "eu,us"}
        queries, body = count_queries(
            client, django_assert_max_num_queries, "/a/acme/members/badges/", params
        )
        counts.append(queries)
    assert counts[0] == counts[1] <= 7  # session, user, membership, members, regions, ledger, switcher
    assert body.count("hx-swap-oob") == 120  # "us" is no region: one badge and one status each


# --- roles ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["member", "billing"])
def test_plain_members_and_billing_see_a_directory_of_active_members_only(
    client, alice, acme, region_eu, staff, role
):
    account_region_add(account=acme, region=region_eu)
    add(acme, "sus@acme.test", status="suspended")
    ProvisioningRecord.objects.update(state="failed", last_error="HTTP 409 userName taken")
    user = {
        "member": Membership.objects.get(user__email="bob@acme.test").user,
        "billing": staff["billing"].user,
    }[role]
    client.force_login(user)
    body = get(client, "/a/acme/members/")
    assert 'class="members directory"' in body
    assert "sus@acme.test" not in body
    assert "alice@acme.test" in body and "Alice Anders" in body and "role-owner" in body
    for hidden in ("data-sync-state", "userName taken", "data-retry", "data-action=\"suspend\"", "data-status",
                   "status-active", "members-bulk", "hx-get", 'name="ids"', "filter-status", "filter-sync"):  # fmt: skip
        assert hidden not in body, hidden
    # searchable; the admin-only filters are ignored
    assert emails_on(get(client, "/a/acme/members/", q="anders")) == ["alice@acme.test"]
    assert "sus@acme.test" not in get(client, "/a/acme/members/", status="suspended")


def test_the_directory_is_paginated(client, bob, acme):
    for n in range(55):
        add(acme, f"person{n:02d}@acme.test")
    client.force_login(bob)
    assert len(emails_on(get(client, "/a/acme/members/"))) == 50
    assert len(emails_on(get(client, "/a/acme/members/", page=2))) == 7


def test_read_only_sees_the_admin_view_without_any_control(client, acme, region_eu, staff):
    account_region_add(account=acme, region=region_eu)
    ProvisioningRecord.objects.update(state="failed", last_error="HTTP 409 userName taken")
    client.force_login(staff["read_only"].user)
    body = get(client, "/a/acme/members/")
    assert 'data-region="eu" data-sync-state="failed"' in body and "status-active" in body
    assert 'title="HTTP 409 userName taken"' in body
    for control in ("data-action=\"suspend\"", "data-action=\"rename\"", "data-retry", "members-bulk",
                    'name="ids"', 'class="inline-details"', "Invite people"):  # fmt: skip
        assert control not in body, control


ROLE_EMAILS = {"owner": "alice@acme.test", "admin": "adam@acme.test", "member": "bob@acme.test",
               "billing": "bella@acme.test", "read_only": "rita@acme.test"}  # fmt: skip
ALLOWED = {"owner", "admin"}


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
@pytest.mark.parametrize(
    "action", ["rename", "role", "regions", "suspend", "reactivate", "remove", "transfer"]
)
def test_who_may_open_and_use_each_member_action(client, acme, staff, role, action):
    target = add(acme, "target@acme.test", first="Tara", last="Target")
    client.force_login(Membership.objects.get(account=acme, user__email=ROLE_EMAILS[role]).user)
    allowed = role == "owner" if action == "transfer" else role in ALLOWED
    response = client.get(f"/a/acme/members/{target.pk}/{action}/")
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert client.post(f"/a/acme/members/{target.pk}/{action}/", {"role": "admin"}).status_code == 403
        target.refresh_from_db()
        assert (target.status, target.role, target.user.first_name) == ("active", "member", "Tara")


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
def test_who_may_refresh_badges_and_use_bulk_actions(client, acme, staff, role):
    client.force_login(Membership.objects.get(account=acme, user__email=ROLE_EMAILS[role]).user)
    bob = Membership.objects.get(user__email="bob@acme.test")
    observer = role in {"owner", "admin", "read_only"}
    assert client.get(f"/a/acme/members/badges/?ids={bob.pk}").status_code == (200 if observer else 403)
    bulk = client.get("/a/acme/members/bulk/", {"action": "suspend", "ids": bob.pk})
    assert bulk.status_code == (200 if role in ALLOWED else 403)
    posted = client.post("/a/acme/members/bulk/", {"action": "suspend", "ids": bob.pk})
    assert posted.status_code == (302 if role in ALLOWED else 403)
    bob.refresh_from_db()
    assert bob.status == ("suspended" if role in ALLOWED else "active")


# --- one member: confirm, then do ------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "heading"),
    [
        ("rename", "Rename Bob Brown"),
        ("role", "Change the role of Bob Brown"),
        ("regions", "Region access of Bob Brown"),
        ("suspend", "Suspend Bob Brown?"),
        ("reactivate", "Reactivate Bob Brown?"),
        ("remove", "Remove Bob Brown from Acme?"),
        ("transfer", "Transfer ownership of Acme to Bob Brown?"),
    ],
)
def test_each_action_first_shows_a_confirmation_naming_the_person_and_changes_nothing(
    client, alice, acme, bob_membership, action, heading
):
    client.force_login(alice)
    body = get(client, f"/a/acme/members/{bob_membership.pk}/{action}/")
    assert heading in body and "bob@acme.test" in body
    assert f'data-confirm="{action}"' in body
    bob_membership.refresh_from_db()
    assert (bob_membership.status, bob_membership.role) == ("active", "member")


def test_an_admin_suspends_reactivates_renames_and_removes(client, alice, acme, bob_membership):
    client.force_login(alice)
    url = f"/a/acme/members/{bob_membership.pk}"
    assert client.post(f"{url}/suspend/").status_code == 302
    assert Membership.objects.get(pk=bob_membership.pk).status == "suspended"
    client.post(f"{url}/reactivate/")
    assert Membership.objects.get(pk=bob_membership.pk).status == "active"
    client.post(f"{url}/rename/", {"first_name": "Robert", "last_name": "Brown"})
    assert Membership.objects.get(pk=bob_membership.pk).user.first_name == "Robert"
    client.post(f"{url}/remove/")
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_a_change_returns_to_the_same_filtered_page_and_only_to_it(client, alice, acme, bob_membership):
    client.force_login(alice)
    back = "q=bob&role=member&page=2&evil=https://evil.test&next=//evil.test"
    response = client.post(f"/a/acme/members/{bob_membership.pk}/suspend/", {"back": back})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("", "/a/acme/members/")
    assert parse_qs(location.query) == {"q": ["bob"], "role": ["member"], "page": ["2"]}
    response = client.post(f"/a/acme/members/{bob_membership.pk}/reactivate/", {"back": "//evil.test/x"})
    assert response["Location"] == "/a/acme/members/"


def test_the_rows_links_carry_the_current_view_to_return_to(client, alice, acme, bob_membership):
    client.force_login(alice)
    body = get(client, "/a/acme/members/", q="bob", sort="-email")
    assert f'href="/a/acme/members/{bob_membership.pk}/suspend/?back=q%3Dbob%26sort%3D-email"' in body


def test_an_admin_changes_a_role_and_only_an_owner_makes_an_owner(client, alice, acme, bob_membership, staff):
    client.force_login(staff["admin"].user)
    response = client.post(f"/a/acme/members/{bob_membership.pk}/role/", {"role": "billing"}, follow=True)
    assert "bob@acme.test is now billing." in response.content.decode()
    response = client.post(f"/a/acme/members/{bob_membership.pk}/role/", {"role": "owner"})
    assert response.status_code == 400  # not a choice for an admin
    assert Membership.objects.get(pk=bob_membership.pk).role == "billing"
    client.force_login(alice)
    body = get(client, f"/a/acme/members/{bob_membership.pk}/role/?role=owner")
    assert '<option value="owner" selected>' in body
    client.post(f"/a/acme/members/{bob_membership.pk}/role/", {"role": "owner"})
    assert Membership.objects.get(pk=bob_membership.pk).role == "owner"


def test_region_access_is_set_to_a_subset_and_back_to_all(client, alice, acme, bob_membership, region_eu):
    us = make_region("us", 8104, 9104)
    account_region_add(account=acme, region=region_eu)
    account_region_add(account=acme, region=us)
    client.force_login(alice)
    body = get(client, f"/a/acme/members/{bob_membership.pk}/regions/")
    assert 'name="all_regions"' in body and "EU" in body and "US" in body
    response = client.post(f"/a/acme/members/{bob_membership.pk}/regions/", {"regions": [region_eu.pk]})
    assert response.status_code == 302
    bob_membership.refresh_from_db()
    assert not bob_membership.all_regions and list(bob_membership.regions.all()) == [region_eu]
    client.post(f"/a/acme/members/{bob_membership.pk}/regions/", {"all_regions": "on"})
    bob_membership.refresh_from_db()
    assert bob_membership.all_regions


def test_region_access_refuses_a_region_the_account_does_not_use(
    client, alice, acme, bob_membership, region_eu
):
    other = make_region("au", 8105, 9105)
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    for bad in ([other.pk], ["abc"], [999999]):
        response = client.post(f"/a/acme/members/{bob_membership.pk}/regions/", {"regions": bad})
        assert response.status_code == 400
    bob_membership.refresh_from_db()
    assert bob_membership.all_regions


def test_an_owner_transfers_ownership_and_becomes_an_admin(
    client, alice, acme, bob_membership, alice_membership
):
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{bob_membership.pk}/transfer/", follow=True)
    assert "bob@acme.test now owns Acme; you are an admin." in response.content.decode()
    assert Membership.objects.get(pk=bob_membership.pk).role == "owner"
    assert Membership.objects.get(pk=alice_membership.pk).role == "admin"


def test_a_too_long_name_is_refused_and_changes_nothing(client, alice, acme, bob_membership):
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{bob_membership.pk}/rename/", {"first_name": "x" * 151})
    assert response.status_code == 400
    assert b"at most 150" in response.content
    assert Membership.objects.get(pk=bob_membership.pk).user.first_name == "Bob"


def test_a_plain_member_cannot_change_anything(client, bob, acme, alice_membership):
    client.force_login(bob)
    assert client.post(f"/a/acme/members/{alice_membership.pk}/suspend/").status_code == 403
    assert Membership.objects.get(pk=alice_membership.pk).status == "active"


def test_a_suspended_member_is_told_so_instead_of_a_404(client, alice, bob, acme, bob_membership, globex):
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/suspend/")
    client.force_login(bob)
    for url in ("/a/acme/", "/a/acme/members/", f"/a/acme/members/badges/?ids={bob_membership.pk}"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Your membership of Acme is suspended; ask an admin" in response.content
        assert b'data-member="alice@acme.test"' not in response.content
    # another account's slug still looks like a missing one
    assert client.get("/a/globex/").status_code == 404
    assert client.get("/a/no-such-account/").status_code == 404


def test_an_admin_cannot_act_on_themselves(client, alice, acme, alice_membership):
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{alice_membership.pk}/suspend/")
    assert response.status_code == 400
    assert b"your own membership" in response.content
    assert Membership.objects.get(pk=alice_membership.pk).status == "active"


def test_an_admin_cannot_open_or_remove_an_owner(client, acme, alice_membership, staff):
    client.force_login(staff["admin"].user)
    assert client.get(f"/a/acme/members/{alice_membership.pk}/remove/").status_code == 403
    assert client.post(f"/a/acme/members/{alice_membership.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=alice_membership.pk, status="active").exists()


def test_a_person_in_two_accounts_cannot_be_renamed_by_one_of_them(client, alice, acme, bob, globex):
    membership_add(account=globex, user=bob)
    client.force_login(alice)
    membership = Membership.objects.get(account=acme, user=bob)
    response = client.post(f"/a/acme/members/{membership.pk}/rename/", {"first_name": "Hacked"})
    assert b"other accounts" in response.content
    bob.refresh_from_db()
    assert bob.first_name == "Bob"


@pytest.mark.parametrize("action", ["suspend", "reactivate", "rename", "role", "regions"])
def test_acting_on_a_member_being_removed_is_refused_with_a_message(
    client, alice, acme, bob_membership, region_eu, action
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    response = client.post(
        f"/a/acme/members/{bob_membership.pk}/{action}/",
        {"first_name": "X", "role": "admin", "all_regions": "on"},
    )
    assert response.status_code == 400
    assert "being removed" in response.content.decode()
    bob_membership.refresh_from_db()
    assert (bob_membership.status, bob_membership.role, bob_membership.user.first_name) == (
        "removing",
        "member",
        "Bob",
    )


# --- removals visible until confirmed --------------------------------------------------------
def test_a_removed_member_stays_on_the_page_as_removing_until_confirmed(
    client, alice, acme, bob_membership, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{bob_membership.pk}/remove/", follow=True)
    body = response.content.decode()
    assert "Removing bob@acme.test from 1 region…" in body
    assert 'data-member="bob@acme.test" data-status="removing"' in body
    assert 'data-region="eu" data-sync-state="pending" data-sync-op="delete"' in body
    assert "<h1>Members <small>(1)</small></h1>" in body  # a member being removed counts nowhere
    assert 'hx-trigger="every 2s"' in body  # the badges refresh until confirmed
    row = row_of(body, "bob@acme.test")
    assert "being removed" in row and 'data-action="suspend"' not in row and 'name="ids"' not in row


def test_a_removal_without_regions_says_removed_at_once(client, alice, acme, bob_membership):
    client.force_login(alice)
    body = client.post(f"/a/acme/members/{bob_membership.pk}/remove/", follow=True).content.decode()
    assert "bob@acme.test removed." in body
    assert 'data-member="bob@acme.test"' not in body


def test_a_failed_removal_shows_its_badge_and_a_retry_button(client, alice, acme, bob_membership, region_eu):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    ProvisioningRecord.objects.filter(desired__isnull=True).update(
        state="retrying", last_error="EU unreachable"
    )
    body = get(client, "/a/acme/members/")
    row = row_of(body, "bob@acme.test")
    assert 'data-sync-state="retrying" data-sync-op="delete"' in row
    assert "removing: retrying" in row and 'data-retry="eu"' in row
    assert 'data-action="suspend"' not in row and 'data-action="remove"' not in row


def test_retry_returns_to_the_view_it_came_from(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    record = ProvisioningRecord.objects.first()
    ProvisioningRecord.objects.filter(pk=record.pk).update(state="failed")
    client.force_login(alice)
    response = client.post(f"/a/acme/sync/{record.pk}/retry/", {"back": "sync=failed"})
    assert response["Location"] == "/a/acme/members/?sync=failed"


def test_a_region_being_left_keeps_its_column_until_every_deletion_is_confirmed(
    client, alice, acme, region_eu
):
    from accounts.services import account_region_remove
    from regions.models import AccountRegion

    account_region_add(account=acme, region=region_eu)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=region_eu))
    client.force_login(alice)
    body = get(client, "/a/acme/members/")
    assert 'data-leaving-region="eu"' in body
    assert body.count('data-region="eu" data-sync-state="pending" data-sync-op="delete"') == 2
    ProvisioningRecord.objects.update(state="synced", acked_version=2)
    assert 'data-region="eu"' not in get(client, "/a/acme/members/")


# --- bulk actions -------------------------------------------------------------------------------
def test_bulk_first_shows_the_count_and_names_and_changes_nothing(client, alice, acme, bob_membership):
    erin = add(acme, "erin@acme.test", first="Erin", last="Evans")
    client.force_login(alice)
    body = get(client, "/a/acme/members/bulk/", action="suspend", ids=[bob_membership.pk, erin.pk])
    assert "Suspend 2 members?" in body
    assert (
        'data-count="2"' in body
        and "Bob Brown · bob@acme.test" in body
        and "Erin Evans · erin@acme.test" in body
    )
    assert Membership.objects.filter(account=acme, status="suspended").count() == 0


def test_bulk_suspend_does_each_and_reports_the_skipped_with_reasons(
    client, alice, acme, bob_membership, alice_membership
):
    erin = add(acme, "erin@acme.test")
    client.force_login(alice)
    response = client.post(
        "/a/acme/members/bulk/",
        {"action": "suspend", "ids": [bob_membership.pk, erin.pk, alice_membership.pk], "back": "q=acme"},
    )
    assert response.status_code == 302 and response["Location"] == "/a/acme/members/?q=acme"
    body = get(client, response["Location"])
    assert "2 members suspended everywhere." in body
    assert "Skipped 1: alice@acme.test: You cannot change your own membership here." in body
    assert set(Membership.objects.filter(status="suspended").values_list("user__email", flat=True)) == {
        "bob@acme.test",
        "erin@acme.test",
    }


def test_bulk_change_role_remove_and_add_to_group(client, alice, acme, bob_membership, region_eu):
    account_region_add(account=acme, region=region_eu)
    erin, finn = add(acme, "erin@acme.test"), add(acme, "finn@acme.test")
    group = group_create(account=acme, actor=None, name="Backup operators")
    client.force_login(alice)
    client.post(
        "/a/acme/members/bulk/", {"action": "change_role", "role": "billing", "ids": [erin.pk, finn.pk]}
    )
    assert set(Membership.objects.filter(role="billing").values_list("pk", flat=True)) == {erin.pk, finn.pk}
    body = get(
        client,
        "/a/acme/members/bulk/",
        action="add_to_group",
        group=group.pk,
        ids=[bob_membership.pk, erin.pk],
    )
    assert "Add to Backup operators: 2 members?" in body
    client.post(
        "/a/acme/members/bulk/",
        {"action": "add_to_group", "group": group.pk, "ids": [bob_membership.pk, erin.pk]},
    )
    assert set(GroupMember.objects.values_list("membership_id", flat=True)) == {bob_membership.pk, erin.pk}
    response = client.post("/a/acme/members/bulk/", {"action": "remove", "ids": [finn.pk]}, follow=True)
    assert "1 member removed" in response.content.decode()
    assert Membership.objects.get(pk=finn.pk).status == "removing"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "suspend"},
        {"action": "suspend", "ids": "abc"},
        {"action": "suspend", "ids": "-1"},
        {"action": "explode", "ids": "BOB"},
        {"ids": "BOB"},
        {"action": "change_role", "ids": "BOB"},
        {"action": "change_role", "role": "emperor", "ids": "BOB"},
        {"action": "add_to_group", "ids": "BOB"},
        {"action": "add_to_group", "group": "abc", "ids": "BOB"},
        {"action": "add_to_group", "group": "GLOBEX_GROUP", "ids": "BOB"},
        {"action": "suspend", "ids": [str(n) for n in range(1, 502)]},
    ],
)
def test_bad_bulk_input_is_a_400_and_changes_nothing(client, alice, acme, bob_membership, globex, data):
    globex_group = group_create(account=globex, actor=None, name="Globex ops")
    data = {
        key: value.replace("BOB", str(bob_membership.pk)) if isinstance(value, str) else value
        for key, value in data.items()
    }
    if data.get("group") == "GLOBEX_GROUP":
        data["group"] = str(globex_group.pk)
    client.force_login(alice)
    for method in (client.get, client.post):
        response = method("/a/acme/members/bulk/", data)
        assert response.status_code == 400
        assert b'class="errorlist"' in response.content
    bob_membership.refresh_from_db()
    assert (bob_membership.status, bob_membership.role) == ("active", "member")
    assert not GroupMember.objects.exists()


def test_an_admin_cannot_make_owners_in_bulk(client, acme, bob_membership, staff):
    client.force_login(staff["admin"].user)
    response = client.post(
        "/a/acme/members/bulk/", {"action": "change_role", "role": "owner", "ids": bob_membership.pk}
    )
    assert response.status_code == 400
    assert Membership.objects.get(pk=bob_membership.pk).role == "member"


# --- isolation: Globex's owner and Acme's members ---------------------------------------------
ACME_MEMBER_URLS = ["rename", "role", "regions", "suspend", "reactivate", "remove", "transfer"]


@pytest.mark.parametrize("action", ACME_MEMBER_URLS)
def test_another_accounts_owner_cannot_touch_acme_members_by_url(
    client, carol, globex, acme, bob_membership, action
):
    client.force_login(carol)
    data = {"first_name": "X", "role": "admin", "all_regions": "on"}
    for slug in ("acme", "globex"):
        url = f"/a/{slug}/members/{bob_membership.pk}/{action}/"
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
        assert (
            client.post(url, {"first_name": "X" * 200, "role": "emperor"}).status_code == 404
        )  # bad input too
    bob_membership.refresh_from_db()
    assert (bob_membership.status, bob_membership.role, bob_membership.user.first_name) == (
        "active",
        "member",
        "Bob",
    )


def test_another_accounts_owner_gets_404_on_every_acme_members_page(
    client, carol, globex, acme, bob_membership
):
    client.force_login(carol)
    for url in ("/a/acme/members/", "/a/acme/members/?q=bob", f"/a/acme/members/badges/?ids={bob_membership.pk}",
                f"/a/acme/members/bulk/?action=suspend&ids={bob_membership.pk}"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert (
        client.post("/a/acme/members/bulk/", {"action": "remove", "ids": bob_membership.pk}).status_code
        == 404
    )


def test_acme_ids_under_globex_are_404_in_bulk(client, carol, globex, acme, bob_membership):
    own = add(globex, "gina@globex.test")
    client.force_login(carol)
    for ids in ([bob_membership.pk], [own.pk, bob_membership.pk]):
        assert client.get("/a/globex/members/bulk/", {"action": "suspend", "ids": ids}).status_code == 404
        assert client.post("/a/globex/members/bulk/", {"action": "remove", "ids": ids}).status_code == 404
    assert Membership.objects.get(pk=bob_membership.pk).status == "active"
    assert Membership.objects.get(pk=own.pk).status == "active"


def test_acme_ids_in_globexs_badge_refresh_read_nothing_of_acme(
    client, carol, globex, acme, bob_membership, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(carol)
    foreign = get(client, f"/a/globex/members/badges/?ids={bob_membership.pk}&regions=eu")
    missing = get(client, "/a/globex/members/badges/?ids=987654&regions=eu")
    # an Acme id is answered exactly like an id that never existed: nothing of Acme's is read
    assert foreign == missing.replace("987654", str(bob_membership.pk))
    assert "bob@acme.test" not in foreign and "pending" not in foreign


def test_another_accounts_owner_cannot_retry_acme_rows(client, carol, globex, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    record = ProvisioningRecord.objects.first()
    client.force_login(carol)
    assert client.post(f"/a/globex/sync/{record.pk}/retry/").status_code == 404
    assert client.post(f"/a/acme/sync/{record.pk}/retry/").status_code == 404


def test_a_change_made_on_the_page_is_audited_with_its_actor(client, alice, acme, bob_membership):
    from accounts.models import AuditEvent

    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/suspend/")
    event = AuditEvent.objects.filter(account=acme, action="member.suspend").get()
    assert event.actor_email == "alice@acme.test"
