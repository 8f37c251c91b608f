"""The groups pages: who sees and changes what, bad input, isolation, query counts."""

import pytest

from accounts.groups import group_create, group_members_add
from accounts.models import AuditEvent, Group, GroupMember, Membership
from accounts.services import account_region_add, membership_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "billing", "read_only"]
MANAGERS = {"owner", "admin"}


@pytest.fixture
def ops(owner, bob_m):
    group = group_create(account=owner.account, actor=owner, name="Backup operators", description="Restores")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    return group


@pytest.fixture
def region_eu(acme):
    region = make_region("eu")
    account_region_add(account=acme, region=region)
    return region


def signed_in_as(client, acme, role: str):
    """A person with `role` in Acme, signed in (alice for the owner)."""
    if role == "owner":
        membership = Membership.objects.get(account=acme, role="owner")
    else:
        membership = membership_add(
            account=acme, user=make_user(f"{role}@acme.test", role.title()), role=role
        )
    client.force_login(membership.user)
    return membership


# --- seeing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_everyone_in_the_account_sees_the_groups_with_member_counts(client, acme, ops, role):
    signed_in_as(client, acme, role)
    response = client.get("/a/acme/groups/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-group="Backup operators"' in body and "Restores" in body
    assert 'data-member-count="1"' in body
    assert ('action="/a/acme/groups/new/"' in body) == (role in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_a_groups_members_and_only_managers_see_controls(client, acme, ops, role):
    signed_in_as(client, acme, role)
    response = client.get(f"/a/acme/groups/{ops.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-member="bob@acme.test"' in body
    controls = ["members/remove/", "members/add/", f"/groups/{ops.pk}/edit/", f"/groups/{ops.pk}/delete/"]
    assert [c in body for c in controls] == [role in MANAGERS] * 4


@pytest.mark.parametrize("role", ROLES)
def test_the_sync_state_shows_to_everyone_and_errors_and_retry_only_to_admins(
    client, acme, ops, region_eu, role
):
    ProvisioningRecord.objects.filter(kind="group").update(state="failed", last_error="HTTP 400 bad member")
    signed_in_as(client, acme, role)
    body = client.get(f"/a/acme/groups/{ops.pk}/").content.decode()
    assert 'data-region="eu" data-sync-state="failed"' in body
    assert ("HTTP 400 bad member" in body) == (role in {"owner", "admin", "read_only"})
    assert ('data-retry="eu"' in body) == (role in MANAGERS)


def test_the_retry_button_posts_to_the_ledgers_retry(client, acme, ops, region_eu):
    record = ProvisioningRecord.objects.get(kind="group", object_key=str(ops.public_id))
    ProvisioningRecord.objects.filter(pk=record.pk).update(state="failed", attempts=12)
    signed_in_as(client, acme, "owner")
    body = client.get(f"/a/acme/groups/{ops.pk}/").content.decode()
    assert f'action="/a/acme/sync/{record.pk}/retry/"' in body
    back = client.post(f"/a/acme/sync/{record.pk}/retry/", {"next": f"/a/acme/groups/{ops.pk}/"})
    assert back.status_code == 302 and back["Location"] == f"/a/acme/groups/{ops.pk}/"
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("pending", 0)


@pytest.mark.parametrize("next_path", ["https://evil.test/", "//evil.test/a/acme/", "/a/globex/members/"])
def test_the_retry_never_redirects_off_the_accounts_pages(client, acme, ops, region_eu, next_path):
    record = ProvisioningRecord.objects.get(kind="group", object_key=str(ops.public_id))
    signed_in_as(client, acme, "owner")
    response = client.post(f"/a/acme/sync/{record.pk}/retry/", {"next": next_path})
    assert response["Location"] == "/a/acme/members/"


def test_the_sync_section_polls_while_pending_and_its_partial_is_alone(client, acme, ops, region_eu):
    signed_in_as(client, acme, "member")
    assert 'hx-trigger="every 2s"' in client.get(f"/a/acme/groups/{ops.pk}/").content.decode()
    partial = client.get(f"/a/acme/groups/{ops.pk}/?part=sync", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="group-sync"') and "<html" not in partial
    ProvisioningRecord.objects.update(state="synced", acked_version=2)
    assert (
        "hx-trigger"
        not in client.get(f"/a/acme/groups/{ops.pk}/?part=sync", HTTP_HX_REQUEST="true").content.decode()
    )


def test_the_picker_finds_members_outside_the_group_by_email_or_name(client, acme, ops):
    membership_add(account=acme, user=make_user("dave@acme.test", "Dave", "Davis"))
    membership_add(account=acme, user=make_user("erin@acme.test", "Erin", "Evans"))
    signed_in_as(client, acme, "owner")
    body = client.get(f"/a/acme/groups/{ops.pk}/").content.decode()
    assert 'data-candidate="dave@acme.test"' in body and 'data-candidate="alice@acme.test"' in body
    assert 'data-candidate="bob@acme.test"' not in body  # already in it
    found = client.get(f"/a/acme/groups/{ops.pk}/?part=candidates&q=evans", HTTP_HX_REQUEST="true")
    text = found.content.decode()
    assert found.status_code == 200 and text.lstrip().startswith('<div id="group-candidates"')
    assert 'data-candidate="erin@acme.test"' in text and "dave@acme.test" not in text
    text = client.get(f"/a/acme/groups/{ops.pk}/?q=DAVE+davis").content.decode()
    assert 'data-candidate="dave@acme.test"' in text and 'data-candidate="erin@acme.test"' not in text


def test_a_plain_member_gets_no_picker(client, acme, ops):
    signed_in_as(client, acme, "member")
    response = client.get(f"/a/acme/groups/{ops.pk}/?part=candidates&q=a", HTTP_HX_REQUEST="true")
    assert response.status_code == 403


def test_a_large_group_is_paginated(client, acme, owner, ops):
    people = [membership_add(account=acme, user=make_user(f"p{n:02}@acme.test")) for n in range(60)]
    group_members_add(group=ops, actor=owner, memberships=people)
    signed_in_as(client, acme, "member")
    first = client.get(f"/a/acme/groups/{ops.pk}/").content.decode()
    second = client.get(f"/a/acme/groups/{ops.pk}/?page=2").content.decode()
    assert first.count("data-member=") == 50 and second.count("data-member=") == 11
    assert "Page 1 of 2" in first and "(61 members)" in first
    assert client.get(f"/a/acme/groups/{ops.pk}/?page=zzz").status_code == 200


# --- query counts ------------------------------------------------------------------------------
def _populate(acme, owner, groups: int, members_each: int):
    people = [
        membership_add(account=acme, user=make_user(f"q{groups}-{n}@acme.test")) for n in range(members_each)
    ]
    for n in range(groups):
        group = group_create(account=acme, actor=owner, name=f"Team {groups}-{n}")
        group_members_add(group=group, actor=owner, memberships=people)


@pytest.mark.parametrize(("groups", "members_each"), [(1, 1), (12, 8)])
def test_the_groups_list_costs_a_fixed_number_of_queries(
    client, acme, owner, region_eu, groups, members_each, django_assert_max_num_queries
):
    _populate(acme, owner, groups, members_each)
    client.force_login(owner.user)
    # session, user, membership, page count, groups with counts, regions, ledger rows
    with django_assert_max_num_queries(8):  # incl. the account switcher
        body = client.get("/a/acme/groups/").content.decode()
    assert body.count("data-group=") == groups
    assert body.count(f'data-member-count="{members_each}"') == groups


@pytest.mark.parametrize("members", [1, 30])
def test_the_group_page_costs_a_fixed_number_of_queries(
    client, acme, owner, region_eu, members, django_assert_max_num_queries
):
    group = group_create(account=acme, actor=owner, name="Ops")
    people = [membership_add(account=acme, user=make_user(f"m{n}@acme.test")) for n in range(members)]
    group_members_add(group=group, actor=owner, memberships=people)
    client.force_login(owner.user)
    # session, user, membership, group, regions, ledger rows, member count, members, candidates
    with django_assert_max_num_queries(10):  # incl. the account switcher
        body = client.get(f"/a/acme/groups/{group.pk}/").content.decode()
    assert body.count("data-member=") == members


# --- changing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_manager_creates_renames_and_deletes_a_group(client, acme, role):
    signed_in_as(client, acme, role)
    assert client.get("/a/acme/groups/new/").status_code == 200
    response = client.post("/a/acme/groups/new/", {"name": "  Ops ", "description": "Runs things"})
    group = Group.objects.get(account=acme)
    assert response.status_code == 302 and response["Location"] == f"/a/acme/groups/{group.pk}/"
    assert (group.name, group.description) == ("Ops", "Runs things")
    assert client.get(f"/a/acme/groups/{group.pk}/edit/").status_code == 200
    assert (
        client.post(f"/a/acme/groups/{group.pk}/edit/", {"name": "Operators", "description": ""}).status_code
        == 302
    )
    group.refresh_from_db()
    assert (group.name, group.description) == ("Operators", "")
    confirm = client.get(f"/a/acme/groups/{group.pk}/delete/").content.decode()
    assert "Delete the group “Operators”?" in confirm
    assert Group.objects.filter(pk=group.pk).exists()  # asking deletes nothing
    assert client.post(f"/a/acme/groups/{group.pk}/delete/").status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "group.create",
        "group.update",
        "group.delete",
    }


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "A group needs a name."),
        ("   ", "A group needs a name."),
        ("x" * 151, "at most 150 characters"),
        ("backup OPERATORS", "already has a group named"),
    ],
)
def test_bad_names_are_form_errors(client, acme, ops, name, error):
    signed_in_as(client, acme, "owner")
    created = client.post("/a/acme/groups/new/", {"name": name})
    assert created.status_code == 400 and error in created.content.decode()
    other = group_create(account=acme, actor=Membership.objects.get(account=acme, role="owner"), name="Other")
    edited = client.post(f"/a/acme/groups/{other.pk}/edit/", {"name": name})
    assert edited.status_code == 400 and error in edited.content.decode()
    assert sorted(Group.objects.values_list("name", flat=True)) == ["Backup operators", "Other"]


def test_a_too_long_description_is_a_form_error(client, acme):
    signed_in_as(client, acme, "owner")
    response = client.post("/a/acme/groups/new/", {"name": "Ops", "description": "d" * 501})
    assert response.status_code == 400 and not Group.objects.exists()


def test_a_manager_adds_several_members_and_removes_them(client, acme, ops, owner, bob_m, region_eu):
    dave = membership_add(account=acme, user=make_user("dave@acme.test"))
    signed_in_as(client, acme, "owner")
    response = client.post(
        f"/a/acme/groups/{ops.pk}/members/add/", {"members": [owner.pk, dave.pk, bob_m.pk]}
    )
    assert response.status_code == 302
    assert set(ops.members.values_list("pk", flat=True)) == {owner.pk, dave.pk, bob_m.pk}
    record = ProvisioningRecord.objects.get(kind="group", object_key=str(ops.public_id))
    assert len(record.desired["members"]) == 3
    response = client.post(f"/a/acme/groups/{ops.pk}/members/remove/", {"members": [bob_m.pk, dave.pk]})
    assert response.status_code == 302
    assert list(ops.members.values_list("pk", flat=True)) == [owner.pk]
    assert Membership.objects.filter(pk=bob_m.pk).exists()


@pytest.mark.parametrize("picked", [["abc"], [], ["999999"]])
def test_bad_picks_are_form_errors(client, acme, ops, picked):
    signed_in_as(client, acme, "owner")
    assert client.post(f"/a/acme/groups/{ops.pk}/members/add/", {"members": picked}).status_code == 400
    assert client.post(f"/a/acme/groups/{ops.pk}/members/remove/", {"members": picked}).status_code == 400
    assert GroupMember.objects.count() == 1


def test_a_membership_of_another_account_in_the_add_form_is_a_form_error(
    client, acme, ops, globex, carol, owner
):
    carols = Membership.objects.get(account=globex, user=carol)
    signed_in_as(client, acme, "owner")
    response = client.post(f"/a/acme/groups/{ops.pk}/members/add/", {"members": [owner.pk, carols.pk]})
    assert response.status_code == 400
    assert "Pick members of this account only" in response.content.decode()
    assert not GroupMember.objects.filter(membership=carols).exists()
    assert not GroupMember.objects.filter(membership=owner).exists()  # nothing half-done


def test_removing_someone_not_in_the_group_is_a_form_error(client, acme, ops, owner):
    signed_in_as(client, acme, "owner")
    response = client.post(f"/a/acme/groups/{ops.pk}/members/remove/", {"members": [owner.pk]})
    assert response.status_code == 400 and "is not in this group" in response.content.decode()


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_roles_without_groups_manage_get_403_for_every_change(client, acme, ops, bob_m, role):
    me = signed_in_as(client, acme, role)
    for url in ["/a/acme/groups/new/", f"/a/acme/groups/{ops.pk}/edit/", f"/a/acme/groups/{ops.pk}/delete/"]:
        assert client.get(url).status_code == 403, url
    posts = [
        ("/a/acme/groups/new/", {"name": "Mine"}),
        (f"/a/acme/groups/{ops.pk}/edit/", {"name": "Mine"}),
        (f"/a/acme/groups/{ops.pk}/delete/", {}),
        (f"/a/acme/groups/{ops.pk}/members/add/", {"members": [me.pk]}),
        (f"/a/acme/groups/{ops.pk}/members/remove/", {"members": [bob_m.pk]}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert list(Group.objects.values_list("name", flat=True)) == ["Backup operators"]
    assert list(ops.members.all()) == [bob_m]


def test_adding_and_removing_accept_only_post(client, acme, ops):
    signed_in_as(client, acme, "owner")
    assert client.get(f"/a/acme/groups/{ops.pk}/members/add/").status_code == 405
    assert client.get(f"/a/acme/groups/{ops.pk}/members/remove/").status_code == 405


# --- isolation ---------------------------------------------------------------------------------
def _every_url(group_id: int, slug: str) -> list[tuple[str, str, dict]]:
    base = f"/a/{slug}/groups/{group_id}"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/edit/", {}),
        ("get", f"{base}/delete/", {}),
        ("post", f"{base}/edit/", {"name": "Taken over"}),
        ("post", f"{base}/delete/", {}),
        ("post", f"{base}/members/add/", {"members": ["1"]}),
        ("post", f"{base}/members/remove/", {"members": ["1"]}),
    ]


def test_another_accounts_owner_gets_404_for_every_acme_group_url(client, acme, ops, carol, globex):
    client.force_login(carol)
    assert client.get("/a/acme/groups/").status_code == 404
    assert client.get("/a/acme/groups/new/").status_code == 404
    assert client.post("/a/acme/groups/new/", {"name": "Mine"}).status_code == 404
    for slug in ("acme", "globex"):  # also Acme's group id guessed under her own account
        for method, url, data in _every_url(ops.pk, slug):
            assert getattr(client, method)(url, data).status_code == 404, (method, url)
    ops.refresh_from_db()
    assert ops.name == "Backup operators" and ops.members.count() == 1
    assert not Group.objects.filter(account=globex).exists()


def test_globex_sees_only_its_own_groups(client, acme, ops, carol, globex):
    group_create(account=globex, actor=Membership.objects.get(account=globex), name="Globex team")
    client.force_login(carol)
    body = client.get("/a/globex/groups/").content.decode()
    assert 'data-group="Globex team"' in body and "Backup operators" not in body


def test_a_guessed_id_that_does_not_exist_is_404(client, acme, ops):
    signed_in_as(client, acme, "owner")
    assert client.get(f"/a/acme/groups/{ops.pk + 1000}/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, acme, ops):
    response = client.get(f"/a/acme/groups/{ops.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_suspended_member_is_told_so(client, acme, ops, bob, bob_m):
    Membership.objects.filter(pk=bob_m.pk).update(status="suspended")
    client.force_login(bob)
    assert client.get("/a/acme/groups/").status_code == 403
