"""Hostile review of issue 11 (rauth): an admin's MFA reset reaches only as far as their own
account. A person's authenticator protects every account they belong to, so an owner of one
account (any sign-up can make one and invite the person) must not strip the second factor that
guards another account of theirs."""

import pytest
from django.urls import reverse

from accounts import mfa
from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from accounts.tests.mfa_helpers import enrol, frozen_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with frozen_clock() as traveller:
        yield traveller


def _reset_url(account, membership) -> str:
    return reverse("accounts:member_mfa_reset", args=[account.slug, membership.pk])


def test_an_owner_cannot_reset_the_mfa_of_a_member_who_also_belongs_to_another_account(
    client, alice, owner, acme, carol, globex, clock
):
    # carol owns Globex and was also invited into Acme (as a member)
    carol_in_acme = membership_add(account=acme, user=carol, role=Membership.Role.MEMBER)
    enrol(client, carol)
    client.logout()

    client.force_login(alice)
    response = client.post(_reset_url(acme, carol_in_acme))
    assert response.status_code == 400
    assert mfa.mfa_enrolled(user=carol)
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_a_member_of_this_account_alone_is_still_reset(client, alice, owner, acme, bob, bob_m, clock):
    enrol(client, bob)
    client.logout()
    client.force_login(alice)
    assert client.post(_reset_url(acme, bob_m)).status_code == 302
    assert not mfa.mfa_enrolled(user=bob)
