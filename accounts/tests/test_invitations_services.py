"""Invitation services: create, resend, revoke, the link's states, accept (new and existing
identity), permissions and the audit trail."""

import hashlib
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts import invitations
from accounts.groups import group_create
from accounts.invitations import (
    InvitationForAnotherAddress,
    InvitationSignInRequired,
    InvitationUnusable,
    invitation_accept,
    invitation_for_token,
    invitation_resend,
    invitation_revoke,
    invitations_of_account,
)
from accounts.models import AuditEvent, GroupMember, Invitation, Membership, User
from accounts.services import account_close, account_region_add, member_suspend, membership_remove
from accounts.tests.invitations_helpers import add_member, invite, link_path, signed_token_for, token_of_path
from accounts.tests.test_services_concurrency import run_open_transaction
from conftest import PASSWORD, make_region
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

Reason = InvitationUnusable.Reason


@pytest.fixture
def admin(acme):
    return add_member(acme, "adam@acme.test", Membership.Role.ADMIN)


@pytest.fixture
def eu(acme):
    region = make_region("eu")
    account_region_add(account=acme, region=region)
    return region


@pytest.fixture
def us(acme):
    region = make_region("us", 8101, 9101)
    account_region_add(account=acme, region=region)
    return region


@pytest.fixture
def operators(acme, owner):
    return group_create(account=acme, actor=owner, name="Backup operators")


# --- create -------------------------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_of_its_key_and_expires_in_seven_days(acme, owner):
    invitation = invite(acme, owner, " Erin@Example.COM ", first_name="Erin", role="member")
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.email == "erin@example.com"
    assert stored.status == "pending" and stored.invited_by == owner.user
    key = invitation.link_token.rsplit(":", 1)[0].split(".", 1)[1]
    assert len(stored.key_hash) == 64 and key not in stored.key_hash
    assert not any(key in str(value) for value in AuditEvent.objects.values_list("after", flat=True))
    assert timedelta(days=6, hours=23) < stored.expires_at - timezone.now() <= timedelta(days=7)
    assert stored.send_count == 1 and stored.last_sent_at is not None


def test_the_stored_hash_is_the_sha256_of_the_key_in_the_link(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    key = invitation.link_token.rsplit(":", 1)[0].split(".", 1)[1]
    assert Invitation.objects.get(pk=invitation.pk).key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_the_expiry_follows_the_setting(acme, owner, settings):
    settings.ATRIUM_INVITATION_DAYS = 2
    invitation = invite(acme, owner, "erin@example.com")
    assert timedelta(days=1, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=2)


def test_the_mail_goes_out_on_commit_with_a_link_under_invite(
    acme, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation = invite(acme, owner, "erin@example.com", first_name="Erin")
    assert mailoutbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    (mail,) = mailoutbox
    assert mail.to == ["erin@example.com"]
    assert "Alice Anders invited you to Acme" in mail.subject
    path = link_path(mail)
    assert path.startswith("/invite/")
    assert token_of_path(path) == invitation.link_token
    assert "choose your password" in mail.body


def test_creating_is_audited_with_what_was_granted(acme, owner, eu, operators):
    invitation = invite(acme, owner, "erin@example.com", role="admin", regions=[eu], groups=[operators])
    event = AuditEvent.objects.get(action="invitation.create")
    assert event.actor == owner.user and event.account == acme
    assert event.target_id == str(invitation.public_id) and event.target_label == "erin@example.com"
    assert event.after["role"] == "admin"
    assert event.after["regions"] == ["eu"] and event.after["groups"] == ["Backup operators"]


def test_region_subset_and_groups_are_kept(acme, owner, eu, us, operators):
    invitation = invite(acme, owner, "erin@example.com", regions=[eu], groups=[operators])
    assert invitation.all_regions is False
    assert list(invitation.regions.all()) == [eu]
    assert list(invitation.groups.all()) == [operators]
    everywhere = invite(acme, owner, "frank@example.com")
    assert everywhere.all_regions is True and not everywhere.regions.exists()


def test_only_an_owner_invites_an_owner(acme, owner, admin):
    with pytest.raises(PermissionDenied):
        invite(acme, admin, "o@example.com", role="owner")
    assert not Invitation.objects.exists()
    assert invite(acme, owner, "o@example.com", role="owner").role == "owner"


def test_an_admin_invites_everyone_but_owners(acme, admin):
    for role in ("admin", "member", "billing", "read_only"):
        assert invite(acme, admin, f"{role}@example.com", role=role).role == role


@pytest.mark.parametrize("role", ["member", "read_only", "billing"])
def test_roles_without_the_invite_permission_cannot_invite(acme, role):
    actor = add_member(acme, f"{role}@acme.test", role)
    with pytest.raises(PermissionDenied):
        invite(acme, actor, "erin@example.com")
    assert not Invitation.objects.exists()


def test_a_suspended_admin_cannot_invite(acme, owner, admin):
    member_suspend(actor=owner, membership=admin)
    with pytest.raises(PermissionDenied):
        invite(acme, admin, "erin@example.com")


def test_an_admin_of_another_account_cannot_invite_to_this_one(acme, globex, carol):
    carol_owner = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(PermissionDenied):
        invite(acme, carol_owner, "erin@example.com")


def test_inviting_an_active_member_is_a_form_error(acme, owner, bob):
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "BOB@acme.test")
    assert "already a member" in caught.value.message_dict["email"][0]


def test_inviting_a_suspended_member_says_to_reactivate_instead(acme, owner, bob):
    member_suspend(actor=owner, membership=Membership.objects.get(account=acme, user=bob))
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "bob@acme.test")
    assert "reactivate" in caught.value.message_dict["email"][0]


def test_reinviting_a_person_being_removed_is_a_form_error(acme, owner, bob, eu):
    membership_remove(membership=Membership.objects.get(account=acme, user=bob))
    assert Membership.objects.get(account=acme, user=bob).status == "removing"
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "bob@acme.test")
    assert "still being removed" in caught.value.message_dict["email"][0]


def test_a_second_pending_invitation_is_refused_resend_instead(acme, owner):
    invite(acme, owner, "erin@example.com")
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "ERIN@example.com")
    assert "resend it instead" in caught.value.message_dict["email"][0]
    assert Invitation.objects.count() == 1


def test_an_expired_pending_invitation_also_asks_for_a_resend(acme, owner):
    first = invite(acme, owner, "erin@example.com")
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "erin@example.com")
    assert "expired; resend it" in caught.value.message_dict["email"][0]


def test_after_a_revoke_the_person_can_be_invited_again(acme, owner):
    first = invite(acme, owner, "erin@example.com")
    invitation_revoke(invitation=first, actor=owner)
    assert invite(acme, owner, "erin@example.com").pk != first.pk


def test_the_same_person_may_be_invited_to_two_accounts(acme, owner, globex, carol):
    invite(acme, owner, "erin@example.com")
    invite(globex, Membership.objects.get(account=globex, user=carol), "erin@example.com")
    assert Invitation.objects.filter(email="erin@example.com").count() == 2


def test_a_region_the_account_does_not_use_is_refused(acme, owner, eu):
    au = make_region("au", 8103, 9103)
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "erin@example.com", regions=[eu, au])
    assert "does not use region au" in caught.value.message_dict["regions"][0]


def test_a_group_of_another_account_is_refused(acme, owner, globex, carol):
    theirs = group_create(account=globex, actor=None, name="Globex ops")
    with pytest.raises(ValidationError) as caught:
        invite(acme, owner, "erin@example.com", groups=[theirs])
    assert "no group" in caught.value.message_dict["groups"][0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"email": "not-an-email"}, "email"), ({"email": "e@x.test", "role": "emperor"}, "role"),
     ({"email": "e@x.test", "first_name": "x" * 151}, "first_name"),
     ({"email": "e" * 64 + "@" + ("d" * 60 + ".") * 4 + "test"}, "email")],
)  # fmt: skip
def test_bad_input_is_a_validation_error_naming_the_field(acme, owner, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        invitations.invitation_create(account=acme, actor=owner, **kwargs)
    assert field in caught.value.message_dict


def test_a_closed_account_invites_nobody(acme, owner):
    account_close(account=acme)
    with pytest.raises(ValidationError, match="closed"):
        invite(acme, None, "erin@example.com")


# --- the link ----------------------------------------------------------------------------------


def test_a_valid_link_names_its_pending_invitation(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    found = invitation_for_token(token=invitation.link_token)
    assert found.pk == invitation.pk and found.account == acme


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: t.replace(".", ".Z", 1),  # the key
        lambda t: ("1" if t[0] == "0" else "0") + t[1:],  # the public id (always changed)
        lambda t: t.split(":")[0],  # unsigned
        lambda t: "",
        lambda t: "garbage",
        lambda t: t + "/../x",
    ],
)
def test_a_tampered_or_garbled_link_is_invalid(acme, owner, mangle):
    invitation = invite(acme, owner, "erin@example.com")
    with pytest.raises(InvitationUnusable) as caught:
        invitation_for_token(token=mangle(invitation.link_token))
    assert caught.value.reason == Reason.INVALID
    assert caught.value.invitation is None


def test_a_signed_link_with_an_unknown_id_or_a_wrong_key_is_invalid(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    for token in (signed_token_for(uuid.uuid4()), signed_token_for(invitation.public_id)):
        with pytest.raises(InvitationUnusable) as caught:
            invitation_for_token(token=token)
        assert caught.value.reason == Reason.INVALID


def test_an_expired_link_says_expired(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InvitationUnusable) as caught:
        invitation_for_token(token=invitation.link_token)
    assert caught.value.reason == Reason.EXPIRED
    with pytest.raises(InvitationUnusable):
        invitation_accept(token=invitation.link_token, password=PASSWORD)
    assert not User.objects.filter(email="erin@example.com").exists()


def test_a_revoked_link_says_revoked_and_the_revoke_is_audited(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    invitation_revoke(invitation=invitation, actor=owner)
    with pytest.raises(InvitationUnusable) as caught:
        invitation_for_token(token=invitation.link_token)
    assert caught.value.reason == Reason.REVOKED
    event = AuditEvent.objects.get(action="invitation.revoke")
    assert event.actor == owner.user and event.after == {"status": "revoked"}


def test_a_link_of_a_closed_account_says_closed(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    account_close(account=acme)
    with pytest.raises(InvitationUnusable) as caught:
        invitation_for_token(token=invitation.link_token)
    assert caught.value.reason == Reason.CLOSED


# --- resend and revoke -----------------------------------------------------------------------


def test_resend_draws_a_new_key_and_expiry_and_kills_the_old_link(
    acme, owner, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = invite(acme, owner, "erin@example.com")
    old_token, old_hash = invitation.link_token, Invitation.objects.get(pk=invitation.pk).key_hash
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        resent = invitation_resend(invitation=invitation, actor=owner)
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.key_hash != old_hash and stored.send_count == 2
    assert stored.expires_at > timezone.now() + timedelta(days=6)
    with pytest.raises(InvitationUnusable) as caught:
        invitation_for_token(token=old_token)
    assert caught.value.reason == Reason.INVALID
    assert invitation_for_token(token=resent.link_token).pk == invitation.pk
    assert token_of_path(link_path(mailoutbox[-1])) == resent.link_token
    assert "earlier link" in mailoutbox[-1].body
    event = AuditEvent.objects.get(action="invitation.resend")
    assert event.before["send_count"] == 1 and event.after["send_count"] == 2


def test_an_accepted_or_revoked_invitation_cannot_be_resent_or_revoked(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    invitation_revoke(invitation=invitation, actor=owner)
    with pytest.raises(ValidationError):
        invitation_resend(invitation=invitation, actor=owner)
    with pytest.raises(ValidationError):
        invitation_revoke(invitation=invitation, actor=owner)
    assert AuditEvent.objects.filter(action="invitation.revoke").count() == 1


def test_an_admin_cannot_resend_or_revoke_an_owner_invitation(acme, owner, admin):
    invitation = invite(acme, owner, "o@example.com", role="owner")
    with pytest.raises(PermissionDenied):
        invitation_resend(invitation=invitation, actor=admin)
    with pytest.raises(PermissionDenied):
        invitation_revoke(invitation=invitation, actor=admin)
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_a_member_cannot_resend_or_revoke(acme, owner, bob):
    invitation = invite(acme, owner, "erin@example.com")
    bob_member = Membership.objects.get(account=acme, user=bob)
    for service in (invitation_resend, invitation_revoke):
        with pytest.raises(PermissionDenied):
            service(invitation=invitation, actor=bob_member)


def test_resending_to_someone_who_joined_meanwhile_is_refused(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    add_member(acme, "erin@example.com")
    with pytest.raises(ValidationError, match="already a member"):
        invitation_resend(invitation=invitation, actor=owner)


# --- accept -------------------------------------------------------------------------------------


def test_accepting_creates_a_verified_identity_and_the_membership(acme, owner, eu):
    invitation = invite(acme, owner, "erin@example.com", first_name="Erin", last_name="Evans", role="admin")
    membership = invitation_accept(token=invitation.link_token, password=PASSWORD)
    user = membership.user
    assert user.email == "erin@example.com" and user.check_password(PASSWORD)
    assert (user.first_name, user.last_name) == ("Erin", "Evans")
    address = user.emailaddress_set.get()
    assert address.verified and address.primary
    assert (membership.account, membership.role, membership.status) == (acme, "admin", "active")
    assert membership.all_regions is True
    record = ProvisioningRecord.objects.get(object_key=str(user.public_id), region=eu)
    assert record.desired["userName"] == "erin@example.com"
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.status == "accepted" and stored.accepted_by == user and stored.accepted_at
    event = AuditEvent.objects.get(action="invitation.accept")
    assert event.actor == user and event.after["membership"] == membership.pk


def test_names_typed_when_accepting_win_over_the_invitations(acme, owner):
    invitation = invite(acme, owner, "erin@example.com", first_name="Erin")
    membership = invitation_accept(
        token=invitation.link_token, password=PASSWORD, first_name="Erika", last_name="E"
    )
    assert membership.user.get_full_name() == "Erika E"


def test_accepting_grants_only_the_invited_regions(acme, owner, eu, us):
    invitation = invite(acme, owner, "erin@example.com", regions=[eu])
    membership = invitation_accept(token=invitation.link_token, password=PASSWORD)
    membership.refresh_from_db()
    assert membership.all_regions is False and list(membership.regions.all()) == [eu]
    desired = dict(
        ProvisioningRecord.objects.filter(object_key=str(membership.user.public_id), kind="user").values_list(
            "region__code", "desired"
        )
    )
    assert desired["eu"]["userName"] == "erin@example.com"
    assert desired.get("us") is None  # never to be held in US


def test_accepting_adds_the_person_to_the_invited_groups(acme, owner, eu, operators):
    invitation = invite(acme, owner, "erin@example.com", groups=[operators])
    membership = invitation_accept(token=invitation.link_token, password=PASSWORD)
    assert GroupMember.objects.filter(group=operators, membership=membership).exists()
    group_record = ProvisioningRecord.objects.get(kind="group", object_key=str(operators.public_id))
    assert {"externalId": str(membership.user.public_id)} in group_record.desired["members"]


def test_a_weak_password_is_refused_and_creates_nothing(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    for password in ("", "short", "password123", "12345678901", "erin@example.com"):
        with pytest.raises(ValidationError) as caught:
            invitation_accept(token=invitation.link_token, password=password)
        assert "password" in caught.value.message_dict
    assert not User.objects.filter(email="erin@example.com").exists()
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_an_existing_identity_must_sign_in_to_accept(acme, owner, carol, globex):
    invitation = invite(acme, owner, "carol@globex.test", role="billing")
    with pytest.raises(InvitationSignInRequired):
        invitation_accept(token=invitation.link_token, password="whatever-else-2026")
    assert not Membership.objects.filter(account=acme, user=carol).exists()
    assert not User.objects.get(pk=carol.pk).check_password("whatever-else-2026")
    membership = invitation_accept(token=invitation.link_token, user=carol)
    assert membership.user == carol and membership.role == "billing"
    assert User.objects.filter(email__iexact="carol@globex.test").count() == 1


def test_an_identity_whose_email_differs_in_case_is_the_same_person(acme, owner, carol, globex):
    invitation = invite(acme, owner, "Carol@Globex.test")
    assert invitation_accept(token=invitation.link_token, user=carol).user == carol


def test_the_wrong_person_signed_in_cannot_accept(acme, owner, carol, globex):
    invitation = invite(acme, owner, "erin@example.com")
    with pytest.raises(InvitationForAnotherAddress):
        invitation_accept(token=invitation.link_token, user=carol)
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    assert not Membership.objects.filter(account=acme, user=carol).exists()


def test_a_link_is_single_use(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    membership = invitation_accept(token=invitation.link_token, password=PASSWORD)
    for user in (None, membership.user):
        with pytest.raises(InvitationUnusable) as caught:
            invitation_accept(token=invitation.link_token, user=user, password=PASSWORD)
        assert caught.value.reason == Reason.USED
    assert AuditEvent.objects.filter(action="invitation.accept").count() == 1


def test_accepting_while_the_person_is_being_removed_is_refused(acme, owner, carol, globex, eu):
    invitation = invite(acme, owner, "carol@globex.test")
    membership = invitation_accept(token=invitation.link_token, user=carol)
    membership_remove(membership=membership)
    again = invite(acme, owner, "erin@example.com")
    # a person being removed could not be invited; one removed after being invited cannot join yet
    Invitation.objects.filter(pk=again.pk).update(email="carol@globex.test")
    with pytest.raises(ValidationError, match="still being removed"):
        invitation_accept(token=again.link_token, user=carol)
    assert Invitation.objects.get(pk=again.pk).status == "pending"


def test_a_person_who_joined_meanwhile_lands_in_their_membership_unchanged(acme, owner, carol, globex):
    invitation = invite(acme, owner, "carol@globex.test", role="admin")
    existing = add_member_existing(acme, carol)
    membership = invitation_accept(token=invitation.link_token, user=carol)
    assert membership.pk == existing.pk and membership.role == "member"
    assert Invitation.objects.get(pk=invitation.pk).status == "accepted"
    assert AuditEvent.objects.get(action="invitation.accept").after["already_member"] is True


def add_member_existing(account, user) -> Membership:
    from accounts.services import membership_add

    return membership_add(account=account, user=user, role="member")


def test_accepting_after_a_resend_needs_the_new_link(acme, owner):
    invitation = invite(acme, owner, "erin@example.com")
    old = invitation.link_token
    new = invitation_resend(invitation=invitation, actor=owner).link_token
    with pytest.raises(InvitationUnusable):
        invitation_accept(token=old, password=PASSWORD)
    assert invitation_accept(token=new, password=PASSWORD).account == acme


# --- selector ----------------------------------------------------------------------------------


def test_the_selector_filters_by_status_and_stays_in_its_account(acme, owner, globex, carol):
    pending = invite(acme, owner, "p@example.com")
    expired = invite(acme, owner, "e@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = invitation_revoke(invitation=invite(acme, owner, "r@example.com"), actor=owner)
    accepted = invite(acme, owner, "a@example.com")
    invitation_accept(token=accepted.link_token, password=PASSWORD)
    invite(globex, Membership.objects.get(account=globex, user=carol), "p@example.com")

    def emails(status=None, search=""):
        return {i.email for i in invitations_of_account(account=acme, status=status, search=search)}

    assert emails() == {"p@example.com", "e@example.com", "r@example.com", "a@example.com"}
    assert emails("pending") == {pending.email}
    assert emails("expired") == {expired.email}
    assert emails("revoked") == {revoked.email}
    assert emails("accepted") == {accepted.email}
    assert emails(search="R@EX") == {revoked.email}
    assert invitations.invitation_counts(account=acme) == {
        "pending": 1,
        "expired": 1,
        "accepted": 1,
        "revoked": 1,
    }
    with pytest.raises(ValueError):
        invitations_of_account(account=acme, status="weird")


# --- races (real row locks, two connections) ---------------------------------------------------


def _accept_in_thread(token: str, user, results: list) -> threading.Thread:
    def body():
        try:
            results.append(invitation_accept(token=token, user=user))
        except InvitationUnusable as exc:
            results.append(exc.reason)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_make_one_membership(acme, owner, carol, globex):
    token = invite(acme, owner, "carol@globex.test").link_token
    proceed, ready, errors = threading.Event(), threading.Event(), []
    # given one accept holding its transaction open
    first = run_open_transaction(lambda: invitation_accept(token=token, user=carol), proceed, ready, errors)
    assert ready.wait(30)
    # when a second one arrives meanwhile, it waits for the account's lock
    results: list = []
    second = _accept_in_thread(token, carol, results)
    second.join(0.5)
    assert second.is_alive()
    proceed.set()
    first.join(30)
    second.join(30)
    # then it sees the link used
    assert errors == [] and results == [Reason.USED]
    assert Membership.objects.filter(account=acme, user=carol).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accept").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_accept_racing_a_resend_with_the_old_link_fails(acme, owner, carol, globex):
    invitation = invite(acme, owner, "carol@globex.test")
    old = invitation.link_token
    proceed, ready, errors = threading.Event(), threading.Event(), []
    resend = run_open_transaction(
        lambda: invitation_resend(invitation=invitation, actor=owner), proceed, ready, errors
    )
    assert ready.wait(30)
    results: list = []
    accept = _accept_in_thread(old, carol, results)
    accept.join(0.5)
    proceed.set()
    resend.join(30)
    accept.join(30)
    assert errors == [] and results == [Reason.INVALID]
    assert not Membership.objects.filter(account=acme, user=carol).exists()
