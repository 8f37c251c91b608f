"""An owner or admin resets a member's MFA (lost phone) from the members page of their account:
devices deleted, audited `mfa.reset` with the member as target, the member mailed; tenant
isolation (another account's member: 404; a role without the right: 403)."""

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from accounts.tests.mfa_helpers import enrol, frozen_clock, password_step, signed_in_user_id
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with frozen_clock() as traveller:
        yield traveller


def _reset_url(account, membership) -> str:
    return reverse("accounts:member_mfa_reset", args=[account.slug, membership.pk])


@pytest.fixture
def bob_enrolled(client, bob, acme, clock):
    enrol(client, bob)
    client.logout()
    return bob


def test_the_members_page_links_to_the_reset(client, alice, owner, bob_m, bob_enrolled):
    client.force_login(alice)
    page = client.get(reverse("accounts:members", args=["acme"])).content.decode()
    assert f'href="/a/acme/members/{bob_m.pk}/mfa-reset/"' in page


def test_the_confirmation_page_names_the_member(client, alice, acme, bob_m, bob_enrolled):
    client.force_login(alice)
    response = client.get(_reset_url(acme, bob_m))
    assert response.status_code == 200
    assert b"bob@acme.test" in response.content and b'data-confirm="mfa-reset"' in response.content


def test_an_owner_resets_a_members_mfa_audited_and_mailed(
    client, alice, acme, bob_m, bob_enrolled, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_reset_url(acme, bob_m))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:members", args=["acme"])
    assert not TOTPDevice.objects.filter(user=bob_enrolled).exists()
    assert not StaticDevice.objects.filter(user=bob_enrolled).exists()

    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.account == acme and event.actor == alice
    assert event.target_type == "member" and event.target_id == str(bob_enrolled.public_id)
    assert event.target_label == "bob@acme.test"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bob@acme.test"]
    assert "reset" in message.subject.lower()
    assert "alice@acme.test" in message.body and "Acme" in message.body and "/accounts/mfa/" in message.body


def test_after_a_reset_the_member_signs_in_with_the_password_alone(
    client, alice, acme, bob, bob_m, bob_enrolled
):
    mfa.member_mfa_reset(actor=Membership.objects.get(account=acme, user=alice), membership=bob_m)
    response = password_step(client, bob)
    assert response["Location"] != reverse("mfa:authenticate")
    assert signed_in_user_id(client) == str(bob.pk)


def test_an_admin_resets_too(client, acme, bob_m, bob_enrolled):
    dave = make_user("dave@acme.test")
    membership_add(account=acme, user=dave, role=Membership.Role.ADMIN)
    client.force_login(dave)
    assert client.post(_reset_url(acme, bob_m)).status_code == 302
    assert not mfa.mfa_enrolled(user=bob_enrolled)


def test_a_member_role_is_refused_with_403(client, alice, owner, acme, bob, clock):
    enrol(client, alice)
    client.force_login(bob)
    assert client.get(_reset_url(acme, owner)).status_code == 403
    assert client.post(_reset_url(acme, owner)).status_code == 403
    assert mfa.mfa_enrolled(user=alice)
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_an_admin_cannot_reset_an_owner(client, alice, owner, acme, clock):
    enrol(client, alice)
    dave = make_user("dave@acme.test")
    membership_add(account=acme, user=dave, role=Membership.Role.ADMIN)
    client.force_login(dave)
    assert client.post(_reset_url(acme, owner)).status_code == 403
    assert mfa.mfa_enrolled(user=alice)


def test_another_accounts_admin_gets_404(client, carol, globex, acme, bob_m, bob_enrolled):
    client.force_login(carol)
    # through her own account's URL, and through Acme's (she is no member there)
    assert client.post(_reset_url(globex, bob_m)).status_code == 404
    assert client.post(_reset_url(acme, bob_m)).status_code == 404
    assert client.get(_reset_url(globex, bob_m)).status_code == 404
    assert mfa.mfa_enrolled(user=bob_enrolled)
    assert not mail.outbox


def test_an_admin_cannot_reset_someone_who_is_not_a_member_of_that_account(
    client, alice, carol, globex, acme, clock
):
    enrol(client, carol)
    carol_m = Membership.objects.get(account=globex, user=carol)
    client.force_login(alice)
    assert client.post(_reset_url(acme, carol_m)).status_code == 404
    assert mfa.mfa_enrolled(user=carol)


def test_a_member_without_mfa_has_nothing_to_reset(client, alice, acme, bob_m):
    client.force_login(alice)
    page = client.get(_reset_url(acme, bob_m))
    assert b'data-testid="not-enrolled"' in page.content
    response = client.post(_reset_url(acme, bob_m))
    assert response.status_code == 400 and b"no two-factor authentication to reset" in response.content
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_nobody_resets_their_own_mfa_here(client, alice, owner, acme, clock):
    enrol(client, alice)
    response = client.post(_reset_url(acme, owner))
    assert response.status_code == 400 and mfa.mfa_enrolled(user=alice)


def test_the_service_refuses_an_actor_of_another_account(globex, carol, bob_m, bob_enrolled):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        mfa.member_mfa_reset(actor=Membership.objects.get(account=globex, user=carol), membership=bob_m)
    assert mfa.mfa_enrolled(user=bob_enrolled)


@pytest.mark.parametrize("membership_id", ["0", "99999999999999999999", "abc"])
def test_odd_member_ids_are_404(client, alice, acme, membership_id):
    client.force_login(alice)
    response = client.post(f"/a/acme/members/{membership_id}/mfa-reset/")
    assert response.status_code == 404
