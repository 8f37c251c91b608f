"""accounts/account_settings.py: rename and close re-check the actor under the account lock."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import account_settings
from accounts.models import Account, AuditEvent, Membership

pytestmark = pytest.mark.django_db


def test_a_demoted_owner_cannot_close_with_a_stale_membership(alice, bob, acme):
    stale = Membership.objects.get(account=acme, user=alice)
    Membership.objects.filter(account=acme, user=bob).update(role="owner")
    Membership.objects.filter(pk=stale.pk).update(role="admin")
    with pytest.raises(PermissionDenied):
        account_settings.account_settings_close(actor=stale)
    assert not Account.objects.get(pk=acme.pk).is_closed
    assert not AuditEvent.objects.filter(action="account.close").exists()


def test_a_suspended_admin_cannot_rename(alice, bob, acme):
    bob_in_acme = Membership.objects.get(account=acme, user=bob)
    Membership.objects.filter(pk=bob_in_acme.pk).update(role="admin", status="suspended")
    bob_in_acme.role = "admin"  # what a page loaded before the suspension held
    with pytest.raises(PermissionDenied):
        account_settings.account_settings_rename(actor=bob_in_acme, name="Bobco")
    assert Account.objects.get(pk=acme.pk).name == "Acme"


def test_a_closed_account_cannot_be_renamed_or_closed_again(alice, acme):
    owner = Membership.objects.get(account=acme, user=alice)
    account_settings.account_settings_close(actor=owner)
    for call in (
        lambda: account_settings.account_settings_rename(actor=owner, name="Zombie"),
        lambda: account_settings.account_settings_close(actor=owner),
    ):
        with pytest.raises(ValidationError, match="closed"):
            call()
    assert AuditEvent.objects.filter(action="account.close").count() == 1


def test_renaming_to_the_same_name_records_nothing(alice, acme):
    owner = Membership.objects.get(account=acme, user=alice)
    account_settings.account_settings_rename(actor=owner, name=" Acme ")
    assert not AuditEvent.objects.filter(action="account.rename").exists()
