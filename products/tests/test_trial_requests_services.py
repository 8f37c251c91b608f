"""Who may start trials (the account's trial policy) and members' trial requests: the services
(products/trial_requests.py) with their refusals, audit rows, mails and the ledger documents an
approval records."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from conftest import make_user
from products.models import AccountTrialPolicy, Entitlement, TrialRequest
from products.services import entitlement_set
from products.trial_requests import (
    trial_policy_of,
    trial_policy_set,
    trial_request_approve,
    trial_request_create,
    trial_request_decline,
    trial_requests_for_sales,
)
from regions.models import ProvisioningRecord

Role = Membership.Role


def _member(account, email, role=Role.MEMBER):
    return membership_add(account=account, user=make_user(email), role=role)


@pytest.fixture
def requesting(acme_everywhere, owner):
    """Acme lets members request trials."""
    trial_policy_set(actor=owner, policy="members_request")
    return acme_everywhere


@pytest.fixture
def request_posture(requesting, bob_m, posture, regions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return trial_request_create(
            actor=bob_m, product=posture, regions=[regions["eu"]], note="For the audit"
        )


# --- the policy -------------------------------------------------------------------------------
def test_the_default_policy_is_admins_only(acme):
    assert trial_policy_of(account=acme) == "admins"
    assert not AccountTrialPolicy.objects.exists()


def test_an_owner_sets_the_policy_and_it_is_audited(acme, owner):
    trial_policy_set(actor=owner, policy="members_request")
    assert trial_policy_of(account=acme) == "members_request"
    event = AuditEvent.objects.get(action="trial_policy.set")
    assert (event.actor, event.before, event.after) == (
        owner.user, {"policy": "admins"}, {"policy": "members_request"}
    )  # fmt: skip


def test_setting_the_same_policy_twice_logs_once(acme, owner):
    trial_policy_set(actor=owner, policy="members_request")
    trial_policy_set(actor=owner, policy="members_request")
    assert AuditEvent.objects.filter(action="trial_policy.set").count() == 1


@pytest.mark.parametrize("role", [Role.MEMBER, Role.READ_ONLY, Role.BILLING])
def test_only_owners_and_admins_change_the_policy(acme, role):
    actor = _member(acme, f"{role}@acme.test", role)
    with pytest.raises(PermissionDenied):
        trial_policy_set(actor=actor, policy="members_request")
    assert trial_policy_of(account=acme) == "admins"


def test_an_admin_changes_it_but_an_unknown_policy_is_refused(acme):
    admin = _member(acme, "dana@acme.test", Role.ADMIN)
    with pytest.raises(ValidationError) as exc:
        trial_policy_set(actor=admin, policy="everyone")
    assert "policy" in exc.value.message_dict
    trial_policy_set(actor=admin, policy="members_request")
    assert trial_policy_of(account=acme) == "members_request"


# --- requesting -------------------------------------------------------------------------------
def test_a_member_requests_a_trial_and_the_admins_are_mailed(acme, request_posture, bob, regions):
    trial_request = request_posture
    assert trial_request.status == "pending"
    assert [r.code for r in trial_request.regions.all()] == ["eu"]
    assert (trial_request.requested_by, trial_request.requester_email) == (bob, "bob@acme.test")
    assert not Entitlement.objects.filter(account=acme).exists()  # nothing starts before approval
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@acme.test"]  # the owner (Acme has no admin)
    assert "Security Posture" in message.subject
    assert "For the audit" in message.body and "/products/trial-requests/?account=acme" in message.body
    assert AuditEvent.objects.get(action="trial_request.create").after == {
        "product": "posture", "regions": ["eu"], "note": "For the audit"
    }  # fmt: skip


def test_under_the_admins_policy_a_member_cannot_request(acme_everywhere, bob_m, posture, regions):
    with pytest.raises(PermissionDenied, match="ask an admin"):
        trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]])
    assert not TrialRequest.objects.exists()


def test_read_only_cannot_request(requesting, posture, regions):
    viewer = _member(requesting, "ro@acme.test", Role.READ_ONLY)
    with pytest.raises(PermissionDenied):
        trial_request_create(actor=viewer, product=posture, regions=[regions["eu"]])


def test_billing_may_request(requesting, posture, regions):
    payer = _member(requesting, "pay@acme.test", Role.BILLING)
    assert trial_request_create(actor=payer, product=posture, regions=[regions["us"]]).status == "pending"


def test_an_owner_is_told_to_start_the_trial_directly(requesting, owner, posture, regions):
    with pytest.raises(ValidationError) as exc:
        trial_request_create(actor=owner, product=posture, regions=[regions["eu"]])
    assert exc.value.code == "start_directly"


def test_a_second_pending_request_for_the_same_product_is_refused(
    requesting, request_posture, posture, regions
):
    other = _member(requesting, "erin@acme.test")
    with pytest.raises(ValidationError, match="already waiting"):
        trial_request_create(actor=other, product=posture, regions=[regions["us"]])
    assert TrialRequest.objects.count() == 1


def test_the_database_holds_one_pending_request_per_account_and_product(request_posture, bob):
    with pytest.raises(IntegrityError), transaction.atomic():
        TrialRequest.objects.create(
            account=request_posture.account, product=request_posture.product, requester_email=bob.email
        )


def test_a_product_the_account_already_has_is_refused_clearly(requesting, bob_m, backup, regions):
    entitlement_set(account=requesting, product=backup, region=regions["us"], status="active")
    with pytest.raises(ValidationError, match="already has or had Backup & Recovery") as exc:
        trial_request_create(actor=bob_m, product=backup, regions=[regions["eu"]])
    assert exc.value.code == "owned"


def test_a_region_not_offering_the_product_and_no_region_are_refused(requesting, bob_m, posture, regions):
    with pytest.raises(ValidationError, match="not offered in"):
        trial_request_create(actor=bob_m, product=posture, regions=[regions["au"]])
    with pytest.raises(ValidationError, match="at least one region"):
        trial_request_create(actor=bob_m, product=posture, regions=[])


def test_coming_soon_is_refused(requesting, bob_m, insights):
    with pytest.raises(ValidationError, match="coming soon"):
        trial_request_create(actor=bob_m, product=insights, regions=[])


def test_a_too_long_note_is_refused(requesting, bob_m, posture, regions):
    with pytest.raises(ValidationError) as exc:
        trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]], note="x" * 1001)
    assert "note" in exc.value.message_dict


# --- approving --------------------------------------------------------------------------------
def test_approving_starts_the_trial_as_the_admin_and_records_each_regions_document(
    acme, owner, request_posture, regions, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entitlements = trial_request_approve(actor=owner, trial_request=request_posture)
    assert [(e.region.code, e.status) for e in entitlements] == [("eu", "trial")]
    document = ProvisioningRecord.objects.get(
        kind="entitlements", tenant="acme", object_key="entitlements", region=regions["eu"]
    ).desired
    assert [p["code"] for p in document["products"]] == ["posture"]
    request_posture.refresh_from_db()
    assert (request_posture.status, request_posture.decided_by) == ("approved", owner.user)
    assert AuditEvent.objects.get(action="trial.start").actor == owner.user
    assert AuditEvent.objects.get(action="trial_request.approve").actor == owner.user
    assert [m.to for m in mail.outbox] == [["bob@acme.test"]]
    assert "has started" in mail.outbox[0].subject


def test_a_decided_request_cannot_be_approved_again(owner, request_posture):
    trial_request_approve(actor=owner, trial_request=request_posture)
    with pytest.raises(ValidationError, match="approved already"):
        trial_request_approve(actor=owner, trial_request=request_posture)
    assert Entitlement.objects.count() == 1


def test_a_member_cannot_approve_even_their_own_request(bob_m, request_posture):
    with pytest.raises(PermissionDenied):
        trial_request_approve(actor=bob_m, trial_request=request_posture)
    assert not Entitlement.objects.exists()


def test_an_admin_of_another_account_cannot_decide(request_posture, globex, carol):
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(PermissionDenied):
        trial_request_approve(actor=carols, trial_request=request_posture)
    with pytest.raises(PermissionDenied):
        trial_request_decline(actor=carols, trial_request=request_posture, reason="no")


def test_when_the_product_was_started_meanwhile_approval_fails_and_the_request_stays_pending(
    acme, owner, request_posture, posture, regions
):
    entitlement_set(account=acme, product=posture, region=regions["us"], status="trial")
    with pytest.raises(ValidationError, match="one free trial per product"):
        trial_request_approve(actor=owner, trial_request=request_posture)
    request_posture.refresh_from_db()
    assert request_posture.status == "pending"


# --- declining --------------------------------------------------------------------------------
def test_declining_needs_a_reason_mails_the_requester_and_is_audited(
    owner, request_posture, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError) as exc:
        trial_request_decline(actor=owner, trial_request=request_posture, reason="  ")
    assert "reason" in exc.value.message_dict
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        trial_request_decline(actor=owner, trial_request=request_posture, reason="Budget is frozen until Q3")
    request_posture.refresh_from_db()
    assert (request_posture.status, request_posture.decline_reason) == (
        "declined",
        "Budget is frozen until Q3",
    )
    assert [m.to for m in mail.outbox] == [["bob@acme.test"]]
    assert "Budget is frozen until Q3" in mail.outbox[0].body
    event = AuditEvent.objects.get(action="trial_request.decline")
    assert event.after == {"status": "declined", "reason": "Budget is frozen until Q3"}
    assert not Entitlement.objects.exists()


def test_after_a_decline_the_member_may_ask_again(
    requesting, owner, bob_m, request_posture, posture, regions
):
    trial_request_decline(actor=owner, trial_request=request_posture, reason="Not now")
    again = trial_request_create(actor=bob_m, product=posture, regions=[regions["us"]])
    assert again.status == "pending"
    assert TrialRequest.objects.count() == 2


def test_sales_see_pending_and_declined_requests_of_every_account(
    requesting, owner, bob_m, request_posture, backup, regions, globex_eu, carol
):
    trial_request_decline(actor=owner, trial_request=request_posture, reason="Not now")
    pending = trial_request_create(actor=bob_m, product=backup, regions=[regions["eu"]])
    carols = Membership.objects.get(account=globex_eu, user=carol)
    trial_policy_set(actor=carols, policy="members_request")
    dave = _member(globex_eu, "dave@globex.test")
    approved = trial_request_create(actor=dave, product=backup, regions=[regions["eu"]])
    trial_request_approve(actor=carols, trial_request=approved)
    assert [(r.account.slug, r.product.code, r.status) for r in trial_requests_for_sales()] == [
        ("acme", "backup", "pending"),
        ("acme", "posture", "declined"),
    ]
    assert pending in trial_requests_for_sales()
