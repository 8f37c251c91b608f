"""The account security policy's services: versions, audit, ledger rows for every region (and a
region added later), the strictest policy over a person's accounts, password rules, allowed
invitation domains, SSO-only."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import security_policy
from accounts.models import AuditEvent, Membership, SecurityPolicy, SecurityPolicyVersion
from accounts.services import account_region_add, membership_add
from accounts.tests.invitations_helpers import invite
from conftest import make_region
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

save = security_policy.security_policy_save


def policy_rows(slug: str = "acme"):
    return ProvisioningRecord.objects.filter(kind="policy", tenant=slug, object_key=slug).order_by(
        "region__code"
    )


def test_saving_writes_a_version_an_audit_row_and_the_document_for_every_region(acme, owner):
    eu, us = make_region("eu", 8101, 9101), make_region("us", 8102, 9102)
    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)

    version = save(
        actor=owner, settings={"mfa_required": True, "mfa_grace_days": 7, "idle_timeout_minutes": 30}
    )

    assert version.number == 1 and version.created_by == owner.user
    assert version.document["mfa_required"] is True and version.document["mfa_grace_days"] == 7
    audit = AuditEvent.objects.get(action="security_policy.update")
    assert audit.before == {"idle_timeout_minutes": None, "mfa_grace_days": 0, "mfa_required": False}
    assert audit.after == {"idle_timeout_minutes": 30, "mfa_grace_days": 7, "mfa_required": True}
    rows = list(policy_rows())
    assert [r.region.code for r in rows] == ["eu", "us"]
    grace_ends_at = SecurityPolicy.objects.get(account=acme).mfa_required_since + timedelta(days=7)
    assert rows[0].desired == {
        "tenant": "acme", "version": 1, "mfa_required": True, "session_lifetime_seconds": None,
        "idle_timeout_seconds": 1800, "sso_only": False, "mfa_required_from": grace_ends_at.isoformat(),
    }  # fmt: skip


def test_each_save_is_a_new_immutable_version_and_an_unchanged_form_saves_nothing(acme, owner):
    save(actor=owner, settings={"password_min_length": 12})
    second = save(actor=owner, settings={"password_min_length": 14})
    assert second.number == 2
    assert save(actor=owner, settings={"password_min_length": 14}) is None
    assert list(SecurityPolicyVersion.objects.values_list("number", flat=True)) == [2, 1]
    assert SecurityPolicyVersion.objects.get(number=1).document["password_min_length"] == 12
    with pytest.raises(ValueError):
        second.save()


def test_a_member_cannot_change_the_policy(acme, bob_m):
    with pytest.raises(PermissionDenied):
        save(actor=bob_m, settings={"mfa_required": True})
    assert not SecurityPolicy.objects.exists()


def test_the_grace_starts_when_mfa_is_switched_on_not_at_later_saves(acme, owner):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 3})
        traveller.shift(timedelta(days=1))
        save(actor=owner, settings={"idle_timeout_minutes": 60})
    policy = SecurityPolicy.objects.get(account=acme)
    assert policy.mfa_required_since == start
    assert security_policy.mfa_grace_ends_at(policy) == start + timedelta(days=3)


def test_a_region_added_later_gets_the_current_policy(acme, owner):
    save(actor=owner, settings={"session_lifetime_minutes": 120})
    assert not policy_rows().exists()
    account_region_add(account=acme, region=make_region("eu", 8101, 9101))
    row = policy_rows().get()
    assert row.desired["version"] == 1 and row.desired["session_lifetime_seconds"] == 7200


def test_a_region_added_to_an_account_on_the_defaults_gets_no_policy_row(acme):
    account_region_add(account=acme, region=make_region("eu", 8101, 9101))
    assert not policy_rows().exists()


def test_the_effective_policy_is_the_strictest_of_the_persons_active_open_accounts(
    acme, owner, globex, carol, bob
):
    membership_add(account=globex, user=bob, role=Membership.Role.MEMBER)
    globex_owner = Membership.objects.get(account=globex, user=carol)
    now = timezone.now()
    with time_machine.travel(now, tick=False) as traveller:
        save(actor=owner, settings={"session_lifetime_minutes": 600, "idle_timeout_minutes": 60,
                                    "mfa_required": True, "mfa_grace_days": 2})  # fmt: skip
        save(actor=globex_owner, settings={"session_lifetime_minutes": 120, "password_min_length": 16})
        effective = security_policy.effective_policy(user=bob)
        assert effective.session_lifetime == timedelta(minutes=120)
        assert effective.idle_timeout == timedelta(minutes=60)
        assert effective.password_min_length == 16
        assert effective.mfa_required is False and effective.mfa_pending
        assert effective.mfa_grace_ends_at == now + timedelta(days=2)
        traveller.shift(timedelta(days=2))
        assert security_policy.effective_policy(user=bob).mfa_required is True

        # a suspended membership, or a closed account, no longer counts
        Membership.objects.filter(account=acme, user=bob).update(status=Membership.Status.SUSPENDED)
        assert security_policy.effective_policy(user=bob).mfa_required is False
        globex.closed_at = timezone.now()
        globex.save()
        assert security_policy.effective_policy(user=bob) == security_policy.EffectivePolicy()


def test_password_rules_are_the_strictest_of_the_persons_accounts(acme, owner, bob):
    save(actor=owner, settings={"password_min_length": 14})
    with pytest.raises(ValidationError) as refused:
        security_policy.password_validate(password="short-but-8+", user=bob)
    assert "at least 14 characters" in " ".join(refused.value.messages)
    security_policy.password_validate(password="a-much-longer-passphrase", user=bob)
    with pytest.raises(ValidationError):
        security_policy.password_validate(password="12345678901234567", user=bob)  # all numeric
    with pytest.raises(ValidationError):
        security_policy.password_validate(password="bob@acme.test-x", user=bob)  # too like the email


def test_a_person_in_no_account_gets_djangos_defaults_only(db):
    from accounts.models import User

    security_policy.password_validate(password="long-enough-pw", user=User(email="new@example.com"))
    security_policy.password_validate(password="long-enough-pw", user=None)


def test_the_allowed_domains_refuse_invitations_elsewhere(acme, owner):
    save(actor=owner, settings={"allowed_email_domains": ["acme.test", "acme.example"]})
    with pytest.raises(ValidationError) as refused:
        invite(acme, owner, "erin@gmail.com")
    assert "invites only addresses at acme.test, acme.example" in str(refused.value)
    assert invite(acme, owner, "Erin@ACME.example").email == "erin@acme.example"


def test_email_domains_are_parsed_lowercased_deduplicated_and_validated():
    assert security_policy.email_domains_parse("Acme.test, @acme.example\nacme.test") == [
        "acme.test", "acme.example",
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        security_policy.email_domains_parse("not a domain!")
    with pytest.raises(ValidationError):
        security_policy.email_domains_parse("localhost")


def test_sso_only_reads_the_accounts_policy(acme, owner, globex):
    assert security_policy.sso_only(account=acme) is False
    save(actor=owner, settings={"sso_only": True})
    assert security_policy.sso_only(account=acme) is True
    assert security_policy.sso_only(account=globex) is False
