"""The members page: who may see and change what; bad input; query count."""

import pytest

from accounts.models import Membership
from accounts.services import account_region_add, membership_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_eu(db):
    return make_region("eu")


@pytest.fixture
def bob_membership(acme, bob):
    return Membership.objects.get(account=acme, user=bob)


def test_the_page_lists_members_with_one_sync_badge_per_region(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    body = client.get("/a/acme/members/").content.decode()
    assert 'data-member="bob@acme.test"' in body
    assert body.count('data-region="eu" data-sync-state="pending"') == 2


def test_the_table_polls_while_a_change_is_on_its_way_and_stops_when_synced(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    page = client.get("/a/acme/members/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    partial = client.get("/a/acme/members/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="members-table"')
    assert "<html" not in partial
    ProvisioningRecord.objects.update(state="synced", acked_version=1)
    assert "hx-trigger" not in client.get("/a/acme/members/").content.decode()


def test_a_failed_row_shows_its_error_and_a_retry_button(client, alice, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    ProvisioningRecord.objects.update(state="failed", last_error="HTTP 409 userName taken")
    client.force_login(alice)
    body = client.get("/a/acme/members/").content.decode()
    assert 'title="HTTP 409 userName taken"' in body
    assert 'data-retry="eu"' in body


def test_an_admin_adds_a_member_who_gets_the_set_password_mail(
    client, alice, acme, region_eu, mailoutbox, django_capture_on_commit_callbacks
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/a/acme/members/add/",
            {"email": "Erin@Acme.test", "first_name": "Erin", "last_name": "E", "role": "member"},
        )
    assert response.status_code == 302
    membership = Membership.objects.get(account=acme, user__email="erin@acme.test")
    assert membership.user.emailaddress_set.get().verified
    record = ProvisioningRecord.objects.get(object_key=str(membership.user.public_id))
    assert record.desired["userName"] == "erin@acme.test" and record.desired["active"] is True
    # the mail went out on commit, with allauth's set-password link
    assert mailoutbox[0].to == ["erin@acme.test"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_a_broker_outage_does_not_fail_the_page_and_loses_nothing(
    client, alice, acme, region_eu, dead_broker, django_capture_on_commit_callbacks
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/a/acme/members/add/", {"email": "gina@acme.test", "role": "member"})
    assert response.status_code == 302
    gina = Membership.objects.get(user__email="gina@acme.test").user
    assert ProvisioningRecord.objects.get(object_key=str(gina.public_id)).state == "pending"


def test_adding_someone_twice_is_a_form_error(client, alice, acme, bob):
    client.force_login(alice)
    response = client.post("/a/acme/members/add/", {"email": "bob@acme.test", "role": "member"})
    assert response.status_code == 400
    assert b"already a member" in response.content
    assert Membership.objects.filter(account=acme, user=bob).count() == 1


@pytest.mark.parametrize(
    "data", [{"email": "not-an-email", "role": "member"}, {"email": "x@acme.test", "role": "emperor"}, {}]
)
def test_bad_input_is_a_form_error_and_adds_nobody(client, alice, acme, data):
    client.force_login(alice)
    before = Membership.objects.count()
    response = client.post("/a/acme/members/add/", data)
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert Membership.objects.count() == before


def test_an_admin_suspends_reactivates_renames_and_removes(client, alice, acme, bob_membership):
    client.force_login(alice)
    url = f"/a/acme/members/{bob_membership.pk}"
    client.post(f"{url}/suspend/")
    assert Membership.objects.get(pk=bob_membership.pk).status == "suspended"
    client.post(f"{url}/reactivate/")
    assert Membership.objects.get(pk=bob_membership.pk).status == "active"
    client.post(f"{url}/rename/", {"first_name": "Robert", "last_name": "Brown"})
    assert Membership.objects.get(pk=bob_membership.pk).user.first_name == "Robert"
    client.post(f"{url}/remove/")
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_a_too_long_name_is_refused_and_changes_nothing(client, alice, acme, bob_membership):
    client.force_login(alice)
    response = client.post(
        f"/a/acme/members/{bob_membership.pk}/rename/", {"first_name": "x" * 151}, follow=True
    )
    assert b"at most 150" in response.content
    assert Membership.objects.get(pk=bob_membership.pk).user.first_name == "Bob"


def test_a_plain_member_sees_the_page_but_cannot_change_anything(client, bob, acme, alice):
    client.force_login(bob)
    page = client.get("/a/acme/members/")
    assert page.status_code == 200
    assert b'data-action="suspend"' not in page.content
    alice_membership = Membership.objects.get(account=acme, user=alice)
    assert client.post(f"/a/acme/members/{alice_membership.pk}/suspend/").status_code == 403
    assert client.post("/a/acme/members/add/", {"email": "x@acme.test", "role": "member"}).status_code == 403
    assert Membership.objects.get(pk=alice_membership.pk).status == "active"


def test_a_suspended_member_is_told_so_instead_of_a_404(client, alice, bob, acme, bob_membership, globex):
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/suspend/")
    client.force_login(bob)
    for url in ("/a/acme/", "/a/acme/members/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Your membership of Acme is suspended; ask an admin" in response.content
        assert b'data-member="alice@acme.test"' not in response.content
    assert client.post("/a/acme/members/add/", {"email": "x@acme.test", "role": "member"}).status_code == 403
    # another account's slug still looks like a missing one
    assert client.get("/a/globex/").status_code == 404
    assert client.get("/a/no-such-account/").status_code == 404


def test_an_admin_cannot_act_on_themselves(client, alice, acme):
    me = Membership.objects.get(account=acme, user=alice)
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{me.pk}/suspend/", follow=True)
    assert b"your own membership" in response.content
    assert Membership.objects.get(pk=me.pk).status == "active"


def test_an_admin_cannot_remove_an_owner(client, alice, acme):
    admin = make_user("adam@acme.test")
    membership_add(account=acme, user=admin, role=Membership.Role.ADMIN)
    owner = Membership.objects.get(account=acme, user=alice)
    client.force_login(admin)
    assert client.post(f"/a/acme/members/{owner.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_a_person_in_two_accounts_cannot_be_renamed_by_one_of_them(client, alice, acme, bob, globex):
    membership_add(account=globex, user=bob)
    client.force_login(alice)
    membership = Membership.objects.get(account=acme, user=bob)
    response = client.post(f"/a/acme/members/{membership.pk}/rename/", {"first_name": "Hacked"}, follow=True)
    assert b"other accounts" in response.content
    bob.refresh_from_db()
    assert bob.first_name == "Bob"


# --- isolation: Globex's owner and Acme's members ---------------------------------------------
@pytest.mark.parametrize("action", ["suspend", "reactivate", "remove", "rename"])
def test_another_accounts_owner_cannot_touch_acme_members_by_url(
    client, carol, globex, acme, bob_membership, action
):
    client.force_login(carol)
    assert client.get("/a/acme/members/").status_code == 404
    assert (
        client.post(f"/a/acme/members/{bob_membership.pk}/{action}/", {"first_name": "X"}).status_code == 404
    )
    # bad input changes nothing about that
    assert (
        client.post(f"/a/acme/members/{bob_membership.pk}/{action}/", {"first_name": "X" * 200}).status_code
        == 404
    )
    assert (
        client.post(f"/a/globex/members/{bob_membership.pk}/{action}/", {"first_name": "X" * 200}).status_code
        == 404
    )
    # nor through her own account's URLs with Acme's membership id
    assert (
        client.post(f"/a/globex/members/{bob_membership.pk}/{action}/", {"first_name": "X"}).status_code
        == 404
    )
    bob_membership.refresh_from_db()
    assert bob_membership.status == "active" and bob_membership.user.first_name == "Bob"


def test_another_accounts_owner_cannot_add_to_acme_or_retry_its_rows(client, carol, globex, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    record = ProvisioningRecord.objects.first()
    client.force_login(carol)
    assert (
        client.post("/a/acme/members/add/", {"email": "x@globex.test", "role": "member"}).status_code == 404
    )
    assert client.post(f"/a/globex/sync/{record.pk}/retry/").status_code == 404
    assert client.post(f"/a/acme/sync/{record.pk}/retry/").status_code == 404
    assert not Membership.objects.filter(user__email="x@globex.test").exists()


def test_the_members_page_costs_a_fixed_number_of_queries(
    client, alice, acme, region_eu, django_assert_num_queries
):
    account_region_add(account=acme, region=region_eu)
    for n in range(15):
        membership_add(account=acme, user=make_user(f"person{n}@acme.test"))
    client.force_login(alice)
    # session, user, membership, members, regions, ledger rows: independent of the member count
    with django_assert_num_queries(6):
        response = client.get("/a/acme/members/")
    assert response.content.decode().count("data-member=") == 17


# --- removals visible until confirmed --------------------------------------------------------
def test_a_removed_member_stays_on_the_page_as_removing_until_confirmed(
    client, alice, acme, bob_membership, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{bob_membership.pk}/remove/", follow=True)
    body = response.content.decode()
    assert "Removing bob@acme.test from 1 region…" in body
    assert "removed everywhere" not in body
    assert 'data-member="bob@acme.test" data-status="removing"' in body
    assert 'data-region="eu" data-sync-state="pending" data-sync-op="delete"' in body
    assert "<h1>Members <small>(1)</small></h1>" in body  # a member being removed counts nowhere
    assert 'hx-trigger="every 2s"' in body  # the table refreshes itself until confirmed
    # when EU confirms the deletion, the row leaves the table
    from regions.signals import record_synced

    record = ProvisioningRecord.objects.get(object_key=str(bob_membership.user.public_id))
    ProvisioningRecord.objects.filter(pk=record.pk).update(
        state="synced", acked_version=record.desired_version
    )
    record.refresh_from_db()
    record_synced.send(sender=ProvisioningRecord, record=record)
    partial = client.get("/a/acme/members/", HTTP_HX_REQUEST="true").content.decode()
    assert "bob@acme.test" not in partial


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
    body = client.get("/a/acme/members/").content.decode()
    assert 'data-sync-state="retrying" data-sync-op="delete"' in body
    assert "removing: retrying" in body
    assert 'data-retry="eu"' in body
    # the row of a member being removed offers no other action
    row = body.split('data-member="bob@acme.test"')[1].split("</tr>")[0]
    assert 'data-action="suspend"' not in row and 'data-action="remove"' not in row


def test_re_adding_someone_still_being_removed_is_a_clear_form_error(
    client, alice, acme, bob_membership, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    response = client.post("/a/acme/members/add/", {"email": "bob@acme.test", "role": "member"})
    assert response.status_code == 400
    assert "still being removed" in response.content.decode()
    assert Membership.objects.get(pk=bob_membership.pk).status == "removing"


def test_a_member_being_removed_loses_the_pages_and_is_told_why(
    client, alice, bob, acme, bob_membership, region_eu
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    client.force_login(bob)
    response = client.get("/a/acme/")
    assert response.status_code == 403
    assert b"being removed from Acme" in response.content
    # the dashboard sends him there too, and does not pretend he is an active member
    assert client.get("/").status_code == 302


def test_a_plain_member_sees_the_badge_but_not_the_regions_error_text(client, alice, bob, acme, region_eu):
    account_region_add(account=acme, region=region_eu)
    ProvisioningRecord.objects.update(state="failed", last_error="HTTP 409 userName taken")
    client.force_login(bob)
    body = client.get("/a/acme/members/").content.decode()
    assert 'data-sync-state="failed"' in body
    assert "userName taken" not in body
    assert "data-retry" not in body


def test_a_region_being_left_keeps_its_column_until_every_deletion_is_confirmed(
    client, alice, acme, region_eu
):
    from accounts.services import account_region_remove
    from regions.models import AccountRegion

    account_region_add(account=acme, region=region_eu)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=region_eu))
    client.force_login(alice)
    body = client.get("/a/acme/members/").content.decode()
    assert 'data-leaving-region="eu"' in body
    assert body.count('data-region="eu" data-sync-state="pending" data-sync-op="delete"') == 2
    ProvisioningRecord.objects.update(state="synced", acked_version=2)
    body = client.get("/a/acme/members/").content.decode()
    assert 'data-region="eu"' not in body


def test_the_members_page_costs_the_same_queries_with_removals_and_a_region_being_left(
    client, alice, acme, region_eu, django_assert_num_queries
):
    from accounts.services import account_region_remove, membership_remove
    from regions.models import AccountRegion

    region_us = make_region("us", 8104, 9104)
    account_region_add(account=acme, region=region_eu)
    account_region_add(account=acme, region=region_us)
    for n in range(8):
        membership = membership_add(account=acme, user=make_user(f"person{n}@acme.test"))
        if n % 2:
            membership_remove(membership=membership)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=region_us))
    client.force_login(alice)
    with django_assert_num_queries(6):
        response = client.get("/a/acme/members/")
    assert response.content.decode().count("data-member=") == 10


@pytest.mark.parametrize("action", ["suspend", "reactivate", "rename"])
def test_acting_on_a_member_being_removed_is_refused_with_a_message(
    client, alice, acme, bob_membership, region_eu, action
):
    account_region_add(account=acme, region=region_eu)
    client.force_login(alice)
    client.post(f"/a/acme/members/{bob_membership.pk}/remove/")
    response = client.post(f"/a/acme/members/{bob_membership.pk}/{action}/", {"first_name": "X"}, follow=True)
    assert response.status_code == 200
    assert "being removed" in response.content.decode()
    bob_membership.refresh_from_db()
    assert bob_membership.status == "removing" and bob_membership.user.first_name == "Bob"
