"""The invitations page (/a/<slug>/invitations/): who sees and does what, invite by form and by
CSV, resend and revoke, tenant isolation, query count."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.groups import group_create
from accounts.invitations import invitation_accept, invitation_for_token, invitation_revoke
from accounts.models import AuditEvent, Invitation
from accounts.services import account_region_add
from accounts.tests.invitations_helpers import add_member, invite, link_path, token_of_path
from conftest import PASSWORD, make_region

pytestmark = pytest.mark.django_db

URL = "/a/acme/invitations/"


@pytest.fixture
def admin(acme):
    return add_member(acme, "adam@acme.test", "admin")


@pytest.fixture
def eu(acme):
    region = make_region("eu")
    account_region_add(account=acme, region=region)
    return region


@pytest.fixture
def operators(acme, owner):
    return group_create(account=acme, actor=owner, name="Backup operators")


@pytest.fixture
def pending(acme, owner, eu, operators):
    return invite(
        acme, owner, "erin@example.com", first_name="Erin", role="admin", regions=[eu], groups=[operators]
    )


def row(body: str, email: str) -> str:
    start = body.index(f'data-invitation="{email}"')
    return body[start : body.index("</tr>", start)]


# --- the list -----------------------------------------------------------------------------------


def test_pending_invitations_are_listed_with_who_role_regions_groups_inviter_and_expiry(
    client, alice, pending
):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    erin = row(body, "erin@example.com")
    assert 'data-status="pending"' in erin
    assert "Erin" in erin and "Admin" in erin and "EU" in erin and "Backup operators" in erin
    assert "Alice Anders" in erin and "expires" in erin
    assert 'data-action="resend"' in erin and 'data-action="revoke"' in erin
    assert 'id="invitation-create"' in body and 'id="invitations-import"' in body


def test_history_is_filterable_by_status(client, alice, acme, owner, pending):
    expired = invite(acme, owner, "old@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    invitation_revoke(invitation=invite(acme, owner, "gone@example.com"), actor=owner)
    invitation_accept(token=invite(acme, owner, "joined@example.com").link_token, password=PASSWORD)
    client.force_login(alice)

    def listed(query: str) -> set[str]:
        body = client.get(URL + query).content.decode()
        return {
            email
            for email in ("erin", "old", "gone", "joined")
            if f'data-invitation="{email}@example.com"' in body
        }

    assert listed("") == {"erin"}
    assert listed("?status=expired") == {"old"}
    assert listed("?status=revoked") == {"gone"}
    assert listed("?status=accepted") == {"joined"}
    assert listed("?status=all") == {"erin", "old", "gone", "joined"}
    assert listed("?status=all&q=JOIN") == {"joined"}
    assert listed("?status=nonsense") == {"erin"}
    body = client.get(URL + "?status=expired").content.decode()
    assert 'data-action="resend"' in row(body, "old@example.com")  # an expired one can be sent again
    assert 'data-action="resend"' not in client.get(URL + "?status=accepted").content.decode()


def test_read_only_sees_the_list_but_no_controls(client, acme, pending):
    viewer = add_member(acme, "rita@acme.test", "read_only")
    client.force_login(viewer.user)
    body = client.get(URL).content.decode()
    assert 'data-invitation="erin@example.com"' in body
    assert 'data-action="resend"' not in body and 'id="invitation-create"' not in body


@pytest.mark.parametrize("role", ["member", "billing"])
def test_roles_without_admin_view_get_403(client, acme, pending, role):
    person = add_member(acme, f"{role}@acme.test", role)
    client.force_login(person.user)
    assert client.get(URL).status_code == 403


def test_anonymous_people_are_sent_to_sign_in(client, acme):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_list_query_count_is_constant(
    client, alice, acme, owner, eu, operators, django_assert_max_num_queries
):
    client.force_login(alice)
    for i in range(3):
        invite(acme, owner, f"p{i}@example.com", regions=[eu], groups=[operators])
    with django_assert_max_num_queries(13):
        assert client.get(URL).status_code == 200
    for i in range(3, 40):
        invite(acme, owner, f"p{i}@example.com", regions=[eu], groups=[operators])
    with django_assert_max_num_queries(13):
        body = client.get(URL).content.decode()
    assert body.count("data-invitation=") == 40


def test_the_list_is_paginated(client, alice, acme, owner):
    for i in range(55):
        invite(acme, owner, f"p{i:02}@example.com")
    client.force_login(alice)
    first = client.get(URL).content.decode()
    assert first.count("data-invitation=") == 50 and "Page 1 of 2" in first
    assert client.get(URL + "?page=2").content.decode().count("data-invitation=") == 5


# --- invite by form -------------------------------------------------------------------------------


def test_an_admin_invites_by_form_and_the_mail_carries_an_invite_link(
    client, acme, admin, eu, operators, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL + "new/",
            {"email": "Erin@Example.com", "first_name": "Erin", "last_name": "Evans", "role": "member",
             "region_access": "some", "regions": [eu.pk], "groups": [operators.pk]},
        )  # fmt: skip
    assert response.status_code == 302 and response.url == URL
    invitation = Invitation.objects.get(account=acme)
    assert invitation.email == "erin@example.com" and invitation.invited_by == admin.user
    assert list(invitation.regions.all()) == [eu] and list(invitation.groups.all()) == [operators]
    (mail,) = mailoutbox
    path = link_path(mail)
    assert path.startswith("/invite/")
    assert invitation_for_token(token=token_of_path(path)).pk == invitation.pk
    client.logout()  # the invitee opens it, not the admin
    assert b"Join Acme" in client.get(path).content


def test_every_region_is_the_default(client, alice, acme, eu):
    client.force_login(alice)
    client.post(URL + "new/", {"email": "erin@example.com", "role": "member", "region_access": "all"})
    assert Invitation.objects.get().all_regions is True


def test_only_these_regions_without_any_chosen_is_a_form_error(client, alice, acme, eu):
    client.force_login(alice)
    response = client.post(
        URL + "new/", {"email": "erin@example.com", "role": "member", "region_access": "some"}
    )
    assert response.status_code == 400
    assert b"Choose at least one region" in response.content
    assert not Invitation.objects.exists()


def test_an_admin_is_not_offered_owner_and_posting_it_invites_nobody(client, acme, admin):
    client.force_login(admin.user)
    assert b'value="owner"' not in client.get(URL).content
    response = client.post(URL + "new/", {"email": "o@example.com", "role": "owner", "region_access": "all"})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_an_owner_invites_an_owner(client, alice, acme):
    client.force_login(alice)
    assert b'value="owner"' in client.get(URL).content
    response = client.post(URL + "new/", {"email": "o@example.com", "role": "owner", "region_access": "all"})
    assert response.status_code == 302
    assert Invitation.objects.get().role == "owner"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "bob@acme.test"}, b"already a member"),
        ({"email": "erin@example.com"}, b"resend it instead"),
        ({"email": "not-an-email"}, b"errorlist"),
        ({"email": "x@example.com", "role": "emperor"}, b"errorlist"),
        ({"email": "x@example.com", "region_access": "some", "regions": ["999999"]}, b"errorlist"),
        ({"email": "x@example.com", "groups": ["999999"]}, b"errorlist"),
        ({}, b"errorlist"),
    ],
)
def test_bad_input_is_a_form_error_and_invites_nobody(client, alice, acme, pending, data, message):
    client.force_login(alice)
    response = client.post(URL + "new/", {"role": "member", "region_access": "all", **data})
    assert response.status_code == 400
    assert message in response.content
    assert Invitation.objects.count() == 1


def test_another_accounts_region_or_group_is_not_a_valid_choice(client, alice, acme, globex, carol):
    theirs = group_create(account=globex, actor=None, name="Globex ops")
    au = make_region("au", 8103, 9103)
    account_region_add(account=globex, region=au)
    client.force_login(alice)
    for extra in ({"groups": [theirs.pk]}, {"region_access": "some", "regions": [au.pk]}):
        response = client.post(
            URL + "new/", {"email": "x@example.com", "role": "member", "region_access": "all", **extra}
        )
        assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["member", "read_only", "billing"])
def test_roles_without_the_invite_permission_cannot_post_anything(client, acme, pending, role):
    person = add_member(acme, f"{role}@acme.test", role)
    client.force_login(person.user)
    assert client.post(URL + "new/", {"email": "x@example.com", "role": "member"}).status_code == 403
    assert client.post(f"{URL}{pending.pk}/resend/").status_code == 403
    assert client.post(f"{URL}{pending.pk}/revoke/").status_code == 403
    upload = SimpleUploadedFile("people.csv", b"email\nx@example.com\n", content_type="text/csv")
    assert client.post(URL + "import/", {"file": upload}).status_code == 403
    assert Invitation.objects.get().status == "pending" and Invitation.objects.count() == 1


# --- resend and revoke ----------------------------------------------------------------------------


def test_resend_sends_a_new_link_and_kills_the_old_one(
    client, alice, pending, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    old = pending.link_token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{pending.pk}/resend/", {"status": "expired"})
    assert response.status_code == 302 and response.url == URL + "?status=expired"
    new_path = link_path(mailoutbox[-1])
    client.logout()
    assert client.get(f"/invite/{old}/").status_code == 404
    assert client.get(new_path).status_code == 200
    assert AuditEvent.objects.filter(action="invitation.resend", actor=alice).count() == 1


def test_revoke_kills_the_link_and_is_audited(client, alice, pending):
    client.force_login(alice)
    response = client.post(f"{URL}{pending.pk}/revoke/", follow=True)
    assert b"revoked" in response.content
    assert Invitation.objects.get(pk=pending.pk).status == "revoked"
    assert client.get(f"/invite/{pending.link_token}/").status_code == 410
    assert AuditEvent.objects.filter(action="invitation.revoke", actor=alice).count() == 1


def test_revoking_twice_is_a_message_not_an_error(client, alice, pending):
    client.force_login(alice)
    client.post(f"{URL}{pending.pk}/revoke/")
    response = client.post(f"{URL}{pending.pk}/revoke/", follow=True)
    assert response.status_code == 200 and b"already revoked" in response.content


def test_resend_and_revoke_need_post(client, alice, pending):
    client.force_login(alice)
    assert client.get(f"{URL}{pending.pk}/resend/").status_code == 405
    assert client.get(f"{URL}{pending.pk}/revoke/").status_code == 405
    assert Invitation.objects.get(pk=pending.pk).send_count == 1


def test_an_admin_cannot_resend_or_revoke_an_owner_invitation(client, acme, owner, admin):
    invitation = invite(acme, owner, "o@example.com", role="owner")
    client.force_login(admin.user)
    assert 'data-action="resend"' not in row(client.get(URL).content.decode(), "o@example.com")
    assert client.post(f"{URL}{invitation.pk}/resend/").status_code == 403
    assert client.post(f"{URL}{invitation.pk}/revoke/").status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


# --- CSV upload -----------------------------------------------------------------------------------


def test_a_good_csv_invites_everyone(
    client, alice, acme, eu, operators, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    data = b"email,name,role,regions,groups\nerin@example.com,Erin Evans,admin,eu,Backup operators\nfrank@example.com,Frank,member,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL + "import/", {"file": SimpleUploadedFile("people.csv", data)}, follow=True)
    assert b"2 invitations sent" in response.content
    assert set(Invitation.objects.values_list("email", flat=True)) == {
        "erin@example.com",
        "frank@example.com",
    }
    assert len(mailoutbox) == 2


def test_a_bad_csv_lists_every_bad_line_and_imports_nothing(client, alice, acme, eu):
    client.force_login(alice)
    data = b"email,role,regions\ngood@example.com,member,\nbad,member,\nx@example.com,emperor,\ny@example.com,member,zz\n"
    response = client.post(URL + "import/", {"file": SimpleUploadedFile("people.csv", data)})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-import-errors="3"' in body
    for line in (3, 4, 5):
        assert f'data-line="{line}"' in body
    assert 'data-line="2"' not in body
    assert "Nothing was imported" in body
    assert not Invitation.objects.exists()


def test_a_missing_file_is_a_form_error(client, alice, acme):
    client.force_login(alice)
    response = client.post(URL + "import/", {})
    assert response.status_code == 400 and b"errorlist" in response.content


def test_a_binary_file_is_reported_not_a_crash(client, alice, acme):
    client.force_login(alice)
    upload = SimpleUploadedFile("people.xlsx", bytes(range(256)) * 4)
    response = client.post(URL + "import/", {"file": upload})
    assert response.status_code == 400 and b"not UTF-8" in response.content


# --- tenant isolation -----------------------------------------------------------------------------


def test_another_accounts_owner_gets_404_for_every_acme_url(client, carol, globex, acme, pending):
    client.force_login(carol)
    assert client.get(URL).status_code == 404
    assert client.post(URL + "new/", {"email": "x@example.com", "role": "member"}).status_code == 404
    upload = SimpleUploadedFile("people.csv", b"email\nx@example.com\n")
    assert client.post(URL + "import/", {"file": upload}).status_code == 404
    assert client.post(f"{URL}{pending.pk}/resend/").status_code == 404
    assert client.post(f"{URL}{pending.pk}/revoke/").status_code == 404
    assert Invitation.objects.filter(account=acme).count() == 1


def test_acme_invitation_ids_are_404_under_globex_too(client, carol, globex, pending):
    client.force_login(carol)
    for invitation_id in (pending.pk, pending.pk + 1, 999999):
        assert client.post(f"/a/globex/invitations/{invitation_id}/resend/").status_code == 404
        assert client.post(f"/a/globex/invitations/{invitation_id}/revoke/").status_code == 404
    stored = Invitation.objects.get(pk=pending.pk)
    assert stored.status == "pending" and stored.send_count == 1
    assert (
        'data-invitation="erin@example.com"'
        not in client.get("/a/globex/invitations/?status=all").content.decode()
    )
