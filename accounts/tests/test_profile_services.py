"""A person's own profile services (accounts/profile.py): name, verified email change, data
export, identity deletion; each reaches every region of every account and is audited."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.core.exceptions import ValidationError

from accounts import profile
from accounts.models import AuditEvent, Group, GroupMember, Membership, User
from accounts.provisioning import group_desire_everywhere
from accounts.services import account_close, account_create, account_region_add, membership_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(db):
    return make_region("us", 8101, 9101), make_region("eu", 8102, 9102)


@pytest.fixture
def two_accounts(acme, globex, alice, regions):
    """alice owns Acme (US, EU) and is a member of Globex (EU)."""
    us, eu = regions
    account_region_add(account=acme, region=us)
    account_region_add(account=acme, region=eu)
    account_region_add(account=globex, region=eu)
    membership_add(account=globex, user=alice, role=Membership.Role.MEMBER)
    return acme, globex


def make_group(account, name, memberships) -> Group:
    # Directly: this file tests the profile services, not accounts/groups.py.
    group = Group.objects.create(account=account, name=name)
    for membership in memberships:
        GroupMember.objects.create(group=group, membership=membership)
    group_desire_everywhere(group)
    return group


def records_of(user) -> dict[tuple[str, str], ProvisioningRecord]:
    records = ProvisioningRecord.objects.filter(kind="user", object_key=str(user.public_id))
    return {(r.tenant, r.region.code): r for r in records.select_related("region")}


def link_token(mail) -> str:
    return re.search(r"/profile/email/confirm/([^/\s]+)/", mail.body).group(1)


def request_change(user, new_email, mailoutbox) -> str:
    profile.email_change_request(user=user, new_email=new_email)
    return link_token(mailoutbox[-1])


# --- name ---------------------------------------------------------------------------------


def test_a_new_name_reaches_every_region_of_every_account_and_is_audited_per_account(alice, two_accounts):
    acme, globex = two_accounts
    profile.profile_update_names(user=alice, first_name=" Alicia ", last_name="Anders")
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"
    records = records_of(alice)
    assert set(records) == {("acme", "us"), ("acme", "eu"), ("globex", "eu")}
    assert all(r.desired["name"]["givenName"] == "Alicia" for r in records.values())
    events = AuditEvent.objects.filter(action="profile.update")
    assert {e.account_id for e in events} == {acme.pk, globex.pk}
    event = events.first()
    assert event.actor == alice and event.target_id == str(alice.public_id)
    assert event.before == {"first_name": "Alice", "last_name": "Anders"}
    assert event.after == {"first_name": "Alicia", "last_name": "Anders"}


def test_the_same_name_again_changes_and_records_nothing(alice, two_accounts):
    versions = {k: r.desired_version for k, r in records_of(alice).items()}
    profile.profile_update_names(user=alice, first_name="Alice", last_name="Anders")
    assert {k: r.desired_version for k, r in records_of(alice).items()} == versions
    assert not AuditEvent.objects.filter(action="profile.update").exists()


def test_a_person_without_accounts_is_audited_without_an_account(db):
    loner = make_user("loner@example.test", "Lo", "Ner")
    profile.profile_update_names(user=loner, first_name="Lone", last_name="Ner")
    event = AuditEvent.objects.get(action="profile.update")
    assert event.account is None and event.actor == loner


# --- email change -------------------------------------------------------------------------


def test_requesting_a_change_mails_a_link_to_the_new_address_and_changes_nothing(alice, acme, mailoutbox):
    profile.email_change_request(user=alice, new_email=" Alice.New@Acme.TEST ")
    alice.refresh_from_db()
    assert alice.email == "alice@acme.test"
    assert mailoutbox[-1].to == ["alice.new@acme.test"]
    assert "http://" in mailoutbox[-1].body and link_token(mailoutbox[-1])
    assert not AuditEvent.objects.filter(action="profile.email_change").exists()


@pytest.mark.parametrize("taken", ["bob@acme.test", "BOB@ACME.TEST"])
def test_an_address_of_another_identity_is_refused(alice, acme, mailoutbox, taken):
    with pytest.raises(ValidationError) as refused:
        profile.email_change_request(user=alice, new_email=taken)
    assert refused.value.error_dict["new_email"][0].code == "taken"
    assert mailoutbox == []


def test_an_address_another_identity_holds_as_a_secondary_email_is_refused(alice, bob, acme):
    EmailAddress.objects.create(user=bob, email="robert@acme.test", primary=False, verified=False)
    with pytest.raises(ValidationError, match="Another Atrium identity"):
        profile.email_change_request(user=alice, new_email="robert@acme.test")


def test_the_current_address_is_refused(alice, acme):
    with pytest.raises(ValidationError, match="already your email"):
        profile.email_change_request(user=alice, new_email="ALICE@acme.test")


def test_requests_are_rate_limited_when_limits_are_on(alice, acme, settings, mailoutbox):
    settings.ATRIUM_RATE_LIMITS_ENABLED = True
    for n in range(profile.EMAIL_CHANGE_REQUESTS_PER_HOUR):
        profile.email_change_request(user=alice, new_email=f"a{n}@acme.test")
    with pytest.raises(ValidationError, match="Too many"):
        profile.email_change_request(user=alice, new_email="one-more@acme.test")
    assert len(mailoutbox) == profile.EMAIL_CHANGE_REQUESTS_PER_HOUR


def test_confirming_changes_the_login_the_allauth_address_and_every_region(
    alice, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    acme, globex = two_accounts
    token = request_change(alice, "alice.new@acme.test", mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        profile.email_change_confirm(user=alice, token=token)
    alice.refresh_from_db()
    assert alice.email == "alice.new@acme.test"
    address = EmailAddress.objects.get(user=alice)
    assert (address.email, address.primary, address.verified) == ("alice.new@acme.test", True, True)
    for record in records_of(alice).values():
        assert record.desired["userName"] == "alice.new@acme.test"
        assert record.desired["emails"][0]["value"] == "alice.new@acme.test"
    events = AuditEvent.objects.filter(action="profile.email_change")
    assert {e.account_id for e in events} == {acme.pk, globex.pk}
    assert events.first().before == {"email": "alice@acme.test"}
    assert events.first().after == {"email": "alice.new@acme.test"}
    # the old address hears of it
    assert mailoutbox[-1].to == ["alice@acme.test"]
    assert "alice.new@acme.test" in mailoutbox[-1].body


def test_a_link_works_once(alice, acme, mailoutbox):
    token = request_change(alice, "alice.new@acme.test", mailoutbox)
    profile.email_change_confirm(user=alice, token=token)
    with pytest.raises(ValidationError) as again:
        profile.email_change_confirm(user=alice, token=token)
    assert again.value.code == "used"


def test_an_old_link_is_dead_even_after_changing_back(alice, acme, mailoutbox):
    to_b = request_change(alice, "b@acme.test", mailoutbox)
    profile.email_change_confirm(user=alice, token=to_b)
    back = request_change(alice, "alice@acme.test", mailoutbox)
    profile.email_change_confirm(user=alice, token=back)
    with pytest.raises(ValidationError) as replayed:
        profile.email_change_confirm(user=alice, token=to_b)
    assert replayed.value.code == "used"
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


def test_an_expired_link_is_refused(alice, acme, mailoutbox, monkeypatch):
    token = request_change(alice, "alice.new@acme.test", mailoutbox)
    later = time.time() + profile.EMAIL_CHANGE_MAX_AGE + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(ValidationError) as expired:
        profile.email_change_confirm(user=alice, token=token)
    monkeypatch.undo()
    assert expired.value.code == "expired"
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
        lambda t: "x" + t[1:],  # payload
        lambda t: "not-a-token",
        lambda t: signing.dumps({"u": "x"}, salt=profile.EMAIL_CHANGE_SALT),  # signed, wrong shape
        lambda t: signing.dumps({"a": 1}, salt="another.salt"),  # signed for another purpose
    ],
)
def test_a_tampered_link_is_refused(alice, acme, mailoutbox, tamper):
    token = request_change(alice, "alice.new@acme.test", mailoutbox)
    with pytest.raises(ValidationError) as refused:
        profile.email_change_confirm(user=alice, token=tamper(token))
    assert refused.value.code in {"invalid", "wrong_user"}
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


def test_another_identity_cannot_use_the_link(alice, bob, acme, mailoutbox):
    token = request_change(alice, "alice.new@acme.test", mailoutbox)
    with pytest.raises(ValidationError) as refused:
        profile.email_change_confirm(user=bob, token=token)
    assert refused.value.code == "wrong_user"
    assert User.objects.get(pk=bob.pk).email == "bob@acme.test"


def test_an_address_taken_between_request_and_confirmation_is_refused(alice, acme, mailoutbox):
    token = request_change(alice, "new@acme.test", mailoutbox)
    make_user("NEW@acme.test")
    with pytest.raises(ValidationError) as refused:
        profile.email_change_confirm(user=alice, token=token)
    assert refused.value.code == "taken"
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


# --- export -------------------------------------------------------------------------------


def test_the_export_holds_identity_emails_memberships_groups_and_own_audit_events(
    alice, bob, two_accounts, regions
):
    acme, globex = two_accounts
    alice_in_acme = Membership.objects.get(account=acme, user=alice)
    make_group(acme, "Backup operators", [alice_in_acme])
    profile.profile_update_names(user=alice, first_name="Alicia", last_name="Anders")
    profile.profile_update_names(user=bob, first_name="Robert", last_name="Brown")  # not alice's
    alice.refresh_from_db()

    data = profile.profile_data_export(user=alice)

    assert data["identity"]["public_id"] == str(alice.public_id)
    assert data["identity"]["email"] == "alice@acme.test" and data["identity"]["first_name"] == "Alicia"
    assert data["emails"] == [{"email": "alice@acme.test", "primary": True, "verified": True}]
    by_slug = {m["account_slug"]: m for m in data["memberships"]}
    assert by_slug["acme"]["role"] == "owner" and by_slug["acme"]["status"] == "active"
    assert by_slug["globex"]["role"] == "member"
    assert data["groups"] == [
        {"account_slug": "acme", "group": "Backup operators", "since": data["groups"][0]["since"]}
    ]
    actions = [e["action"] for e in data["audit_events_as_actor"]]
    assert "profile.update" in actions
    assert all(e["action"] != "profile.update" or e["after"]["first_name"] == "Alicia"
               for e in data["audit_events_as_actor"])  # fmt: skip
    assert "password" not in str(data)


# --- identity deletion --------------------------------------------------------------------


def test_deleting_an_identity_removes_it_from_every_region_of_every_account(bob, acme, regions):
    us, eu = regions
    account_region_add(account=acme, region=us)
    globex = account_create(name="Globex", slug="globex", owner=make_user("carol@globex.test"))
    account_region_add(account=globex, region=eu)
    membership_add(account=globex, user=bob)
    public_id = bob.public_id

    profile.identity_delete(user=bob)

    assert not User.objects.filter(pk=bob.pk).exists()
    assert not Membership.objects.filter(user_id=bob.pk).exists()
    records = ProvisioningRecord.objects.filter(kind="user", object_key=str(public_id))
    assert {(r.tenant, r.region.code) for r in records} == {("acme", "us"), ("globex", "eu")}
    assert all(r.desired is None for r in records)
    events = AuditEvent.objects.filter(action="profile.delete")
    assert {e.account.slug for e in events} == {"acme", "globex"}
    assert all(e.actor_email == "bob@acme.test" for e in events)


def test_deleting_an_identity_keeps_the_audit_rows_it_wrote(bob, acme):
    profile.profile_update_names(user=bob, first_name="Rob", last_name="Brown")
    profile.identity_delete(user=bob)
    event = AuditEvent.objects.get(action="profile.update")
    assert event.actor_email == "bob@acme.test"


def test_deleting_an_identity_drops_it_from_its_groups_in_every_region(alice, bob, acme, regions):
    account_region_add(account=acme, region=regions[0])
    actor = Membership.objects.get(account=acme, user=alice)
    bob_in_acme = Membership.objects.get(account=acme, user=bob)
    group = make_group(acme, "Backup operators", [bob_in_acme, actor])

    profile.identity_delete(user=bob)

    assert not GroupMember.objects.filter(group=group).exclude(membership=actor).exists()
    record = ProvisioningRecord.objects.get(kind="group", object_key=str(group.public_id))
    assert record.desired["members"] == [{"externalId": str(alice.public_id)}]
    assert Group.objects.filter(pk=group.pk).exists()


def test_the_last_owner_of_an_open_account_cannot_delete_their_identity(alice, acme):
    with pytest.raises(ValidationError, match="last owner of Acme") as refused:
        profile.identity_delete(user=alice)
    assert refused.value.code == "last_owner"
    assert User.objects.filter(pk=alice.pk).exists()
    assert not AuditEvent.objects.filter(action="profile.delete").exists()


def test_an_owner_with_an_active_co_owner_may_delete_their_identity(alice, bob, acme):
    Membership.objects.filter(account=acme, user=bob).update(role="owner")
    profile.identity_delete(user=alice)
    assert not User.objects.filter(pk=alice.pk).exists()


def test_a_suspended_co_owner_does_not_count(alice, bob, acme):
    Membership.objects.filter(account=acme, user=bob).update(role="owner", status="suspended")
    with pytest.raises(ValidationError, match="Acme"):
        profile.identity_delete(user=alice)


def test_every_account_left_without_an_owner_is_named(alice, acme):
    account_create(name="Initech", slug="initech", owner=alice)
    with pytest.raises(ValidationError, match="last owner of Acme, Initech"):
        profile.identity_delete(user=alice)


def test_a_closed_account_does_not_hold_its_last_owner_back(alice, acme):
    account_close(account=acme)
    profile.identity_delete(user=alice)
    assert not User.objects.filter(pk=alice.pk).exists()
