"""The invitee's link (/invite/<token>/): what it shows, accepting as a new or an existing
identity, and a clear page (never a 500) for every link that cannot be used."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from accounts.invitations import invitation_resend
from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.services import account_close, account_region_add, membership_remove
from accounts.tests.invitations_helpers import invite, link_path, signed_token_for
from conftest import PASSWORD, make_region

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-lantern-77"


@pytest.fixture
def eu(acme):
    region = make_region("eu")
    account_region_add(account=acme, region=region)
    return region


@pytest.fixture
def erin_invite(acme, owner):
    return invite(acme, owner, "erin@example.com", first_name="Erin", last_name="Evans", role="admin")


@pytest.fixture
def carol_invite(acme, owner, carol, globex):
    """An invitation for someone who already has an Atrium identity (Globex's owner)."""
    return invite(acme, owner, "carol@globex.test", role="member")


def path_of(invitation: Invitation) -> str:
    return f"/invite/{invitation.link_token}/"


def accept_as_new(client, invitation, **overrides):
    data = {
        "first_name": "Erin",
        "last_name": "Evans",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    return client.post(path_of(invitation), {**data, **overrides})


# --- what the page shows ------------------------------------------------------------------------


def test_the_page_names_the_account_the_inviter_and_what_accepting_does(client, acme, owner, eu):
    invitation = invite(acme, owner, "erin@example.com", role="admin", regions=[eu])
    response = client.get(path_of(invitation))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Join Acme" in body and "Alice Anders" in body and "erin@example.com" in body
    assert "Admin" in body and "EU" in body
    assert 'data-has-login="false"' in body and 'name="password"' in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_link_in_the_mail_opens_the_page(
    client, acme, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(acme, owner, "erin@example.com")
    path = link_path(mailoutbox[0])
    assert path.startswith("/invite/")
    assert client.get(path).status_code == 200


# --- a new identity -----------------------------------------------------------------------------


def test_a_new_person_sets_a_password_is_signed_in_and_lands_in_the_account(client, acme, erin_invite):
    response = accept_as_new(client, erin_invite, first_name="Erika")
    assert response.status_code == 302 and response.url == "/a/acme/"
    user = User.objects.get(email="erin@example.com")
    assert user.check_password(NEW_PASSWORD) and user.first_name == "Erika"
    assert user.emailaddress_set.get().verified
    assert Membership.objects.get(account=acme, user=user).role == "admin"
    home = client.get("/a/acme/")
    assert home.status_code == 200 and b"Welcome to Acme" in home.content
    assert AuditEvent.objects.filter(action="invitation.accept", actor=user).count() == 1


def test_the_new_person_can_sign_in_again_with_their_password(client, acme, erin_invite):
    accept_as_new(client, erin_invite)
    client.logout()
    response = client.post("/accounts/login/", {"login": "erin@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", b"too short"),
        ("password1234", b"too common"),
        ("48151623424242", b"entirely numeric"),
        ("erin@example.com", b"too similar"),
    ],
)
def test_password_validation_errors_are_form_errors(client, acme, erin_invite, password, message):
    response = accept_as_new(client, erin_invite, password=password, password_again=password)
    assert response.status_code == 400
    assert message in response.content and b"errorlist" in response.content
    assert not User.objects.filter(email="erin@example.com").exists()
    assert Invitation.objects.get(pk=erin_invite.pk).status == "pending"


def test_passwords_that_differ_are_a_form_error(client, acme, erin_invite):
    response = accept_as_new(client, erin_invite, password_again=NEW_PASSWORD + "x")
    assert response.status_code == 400 and b"The two passwords differ" in response.content
    assert not User.objects.filter(email="erin@example.com").exists()


def test_a_missing_password_is_a_form_error(client, acme, erin_invite):
    response = client.post(path_of(erin_invite), {})
    assert response.status_code == 400 and b"errorlist" in response.content


# --- an existing identity -----------------------------------------------------------------------


def test_an_existing_identity_is_asked_to_sign_in_and_comes_back(client, acme, carol_invite):
    path = path_of(carol_invite)
    body = client.get(path).content.decode()
    assert 'data-has-login="true"' in body and 'name="password"' not in body
    assert f'href="/accounts/login/?{urlencode({"next": path})}"' in body
    # posting without signing in goes to the login page, accepting nothing
    response = client.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/?next=")
    assert not Membership.objects.filter(account=acme, user__email="carol@globex.test").exists()
    # signing in with the existing login sends them back to the invitation
    response = client.post(response.url, {"login": "carol@globex.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url == path


def test_signed_in_as_the_invited_address_they_accept_and_land_in_the_account(
    client, acme, carol, carol_invite
):
    client.force_login(carol)
    body = client.get(path_of(carol_invite)).content.decode()
    assert 'data-action="accept"' in body and 'name="password"' not in body
    response = client.post(path_of(carol_invite))
    assert response.status_code == 302 and response.url == "/a/acme/"
    assert Membership.objects.get(account=acme, user=carol).role == "member"
    assert client.get("/a/acme/").status_code == 200
    assert User.objects.get(pk=carol.pk).check_password(PASSWORD)  # their login is unchanged


def test_signed_in_as_someone_else_they_get_a_clear_page_and_nothing_is_accepted(
    client, acme, bob, erin_invite
):
    client.force_login(bob)
    for response in (client.get(path_of(erin_invite)), client.post(path_of(erin_invite))):
        assert response.status_code == 403
        body = response.content.decode()
        assert "This invitation is for another address" in body
        assert "erin@example.com" in body and "bob@acme.test" in body
        assert 'data-action="sign-out"' in body
    assert Invitation.objects.get(pk=erin_invite.pk).status == "pending"
    assert not User.objects.filter(email="erin@example.com").exists()


def test_an_existing_identity_signed_in_as_another_of_their_accounts_is_refused(
    client, acme, alice, carol_invite
):
    client.force_login(alice)
    assert client.post(path_of(carol_invite)).status_code == 403
    assert not Membership.objects.filter(account=acme, user__email="carol@globex.test").exists()


# --- links that cannot be used: a clear page, never a 500 -------------------------------------------


def test_an_expired_link_is_410(client, acme, erin_invite):
    Invitation.objects.filter(pk=erin_invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    for response in (client.get(path_of(erin_invite)), accept_as_new(client, erin_invite)):
        assert response.status_code == 410
        assert b'data-reason="expired"' in response.content and b"has expired" in response.content
    assert not User.objects.filter(email="erin@example.com").exists()


def test_a_revoked_link_is_410(client, acme, owner, erin_invite):
    from accounts.invitations import invitation_revoke

    invitation_revoke(invitation=erin_invite, actor=owner)
    response = client.get(path_of(erin_invite))
    assert response.status_code == 410 and b'data-reason="revoked"' in response.content


def test_a_used_link_is_410_even_for_the_person_who_used_it(client, acme, erin_invite):
    accept_as_new(client, erin_invite)
    for response in (client.get(path_of(erin_invite)), client.post(path_of(erin_invite))):
        assert response.status_code == 410 and b'data-reason="used"' in response.content
    client.logout()
    assert accept_as_new(client, erin_invite).status_code == 410
    assert Membership.objects.filter(account=acme, user__email="erin@example.com").count() == 1


def test_a_closed_accounts_link_is_410(client, acme, erin_invite):
    account_close(account=acme)
    response = client.get(path_of(erin_invite))
    assert response.status_code == 410 and b'data-reason="closed"' in response.content


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "x" * 500,
        "%00",
        "a.b:c",
        "91879a48441f4e7eb0f9da02088bb586.key:signature",
    ],
)
def test_garbage_links_are_404(client, acme, token):
    response = client.get(f"/invite/{token}/")
    assert response.status_code == 404 and b'data-reason="invalid"' in response.content


def test_a_tampered_link_is_404_and_accepts_nothing(client, acme, erin_invite):
    token = erin_invite.link_token
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    assert client.get(f"/invite/{tampered}/").status_code == 404
    response = client.post(f"/invite/{tampered}/", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 404
    assert not User.objects.filter(email="erin@example.com").exists()


def test_a_correctly_signed_link_for_an_unknown_invitation_is_404(client, acme, erin_invite):
    for token in (signed_token_for(uuid.uuid4()), signed_token_for(erin_invite.public_id)):
        assert client.get(f"/invite/{token}/").status_code == 404


def test_resending_kills_the_old_link(client, acme, owner, erin_invite):
    old = path_of(erin_invite)
    resent = invitation_resend(invitation=erin_invite, actor=owner)
    response = client.get(old)
    assert response.status_code == 404 and b"replaced by a newer invitation" in response.content
    assert accept_as_new(client, erin_invite).status_code == 404
    assert accept_as_new(client, resent).status_code == 302


def test_a_person_still_being_removed_gets_a_clear_error_not_a_500(
    client, acme, owner, carol, carol_invite, eu
):
    client.force_login(carol)
    client.post(path_of(carol_invite))
    membership_remove(membership=Membership.objects.get(account=acme, user=carol))
    again = invite(acme, owner, "other@example.com")
    Invitation.objects.filter(pk=again.pk).update(email="carol@globex.test")
    response = client.post(path_of(again))
    assert response.status_code == 400 and b"still being removed" in response.content
    assert Invitation.objects.get(pk=again.pk).status == "pending"


def test_other_methods_are_refused(client, acme, erin_invite):
    assert client.put(path_of(erin_invite)).status_code == 405
    assert client.delete(path_of(erin_invite)).status_code == 405
