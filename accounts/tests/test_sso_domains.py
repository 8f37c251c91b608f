"""Claimed domains: normalisation, claims, DNS TXT proof against a real local DNS server,
staff approval, and the one-verified-owner-per-domain rule in the database."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts import sso
from accounts.models import AuditEvent, Membership
from accounts.models_sso import ClaimedDomain
from accounts.services import account_create
from accounts.tests.sso_helpers import TxtServer
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(acme, alice):
    return Membership.objects.get(account=acme, user=alice)


@pytest.fixture
def globex_owner(carol):
    account = account_create(name="Globex", slug="globex", owner=carol)
    return Membership.objects.get(account=account, user=carol)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme.Example", "acme.example"),
        (" @acme.example. ", "acme.example"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_stored_lower_case_in_their_idna_form(raw, expected):
    assert sso.domain_normalize(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "localhost", "https://acme.example", "acme.example/path", "-acme.example", "a..b", "1.2.3.4",
            "acme\x00.example", "x" * 260 + ".example", "acme_corp.example"],
)  # fmt: skip
def test_malformed_domains_are_refused(raw):
    with pytest.raises(ValidationError):
        sso.domain_normalize(raw)


@pytest.mark.parametrize("raw", ["gmail.com", "GMAIL.com", "outlook.com", "proton.me"])
def test_public_webmail_domains_cannot_be_claimed(raw):
    with pytest.raises(ValidationError, match="public mail service"):
        sso.domain_normalize(raw)


def test_a_claim_starts_pending_with_a_token_and_is_audited(owner):
    claim = sso.domain_claim(actor=owner, domain="Acme.Example")
    assert claim.status == ClaimedDomain.Status.PENDING
    assert len(claim.verification_token) == 32
    assert claim.record_name == "_atrium-challenge.acme.example"
    assert claim.record_value == f"atrium-verification={claim.verification_token}"
    event = AuditEvent.objects.get(action="sso.domain_claimed")
    assert (event.account_id, event.target_label) == (owner.account_id, "acme.example")


def test_the_same_account_cannot_claim_a_domain_twice(owner):
    sso.domain_claim(actor=owner, domain="acme.example")
    with pytest.raises(ValidationError, match="already claimed"):
        sso.domain_claim(actor=owner, domain="ACME.example")


def test_a_member_cannot_claim_a_domain(acme, bob):
    with pytest.raises(PermissionDenied):
        sso.domain_claim(actor=Membership.objects.get(account=acme, user=bob), domain="acme.example")


def test_the_database_refuses_a_second_verified_owner_of_a_domain(owner, globex_owner):
    ClaimedDomain.objects.create(account=owner.account, domain="shared.example", verification_token="a",
                                 status="verified")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimedDomain.objects.create(account=globex_owner.account, domain="shared.example", verification_token="b",
                                     status="verified")  # fmt: skip


def test_two_pending_claims_of_one_domain_may_coexist_but_only_one_verifies(owner, globex_owner, settings):
    mine = sso.domain_claim(actor=owner, domain="shared.example")
    theirs = sso.domain_claim(actor=globex_owner, domain="shared.example")
    with TxtServer({mine.record_name: [mine.record_value, theirs.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        assert sso.domain_check(actor=owner, claim=mine).is_verified
        with pytest.raises(ValidationError, match="another Atrium account"):
            sso.domain_check(actor=globex_owner, claim=theirs)
    theirs.refresh_from_db()
    assert theirs.status == ClaimedDomain.Status.PENDING


def test_claiming_a_domain_another_account_verified_is_refused(owner, globex_owner, admin_user):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    sso.domain_verify_by_staff(claim=claim, staff=admin_user)
    with pytest.raises(ValidationError, match="another Atrium account"):
        sso.domain_claim(actor=globex_owner, domain="acme.example")


def test_the_txt_record_verifies_the_claim_through_the_configured_resolver(owner, settings):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    with TxtServer({claim.record_name: ["v=spf1 -all", claim.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        claim = sso.domain_check(actor=owner, claim=claim)
    assert claim.is_verified
    assert (claim.method, claim.verified_by) == (ClaimedDomain.Method.DNS, owner.user)
    assert claim.verified_at is not None
    event = AuditEvent.objects.get(action="sso.domain_verified")
    assert event.after == {"status": "verified", "method": "dns"}


def test_a_wrong_or_missing_record_leaves_the_claim_pending_with_the_reason(owner, settings):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    with TxtServer({claim.record_name: ["atrium-verification=not-the-token"]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        claim = sso.domain_check(actor=owner, claim=claim)
        assert claim.status == ClaimedDomain.Status.PENDING
        assert "does not hold" in claim.last_check_error
        dns.records.clear()
        claim = sso.domain_check(actor=owner, claim=claim)
    assert claim.status == ClaimedDomain.Status.PENDING
    assert "does not exist" in claim.last_check_error
    assert not AuditEvent.objects.filter(action="sso.domain_verified").exists()


def test_a_resolver_that_does_not_answer_is_a_readable_error(owner, settings):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    settings.ATRIUM_DNS_RESOLVER = "127.0.0.1:9"  # nothing listens: the lookup times out
    claim = sso.domain_check(actor=owner, claim=claim)
    assert claim.status == ClaimedDomain.Status.PENDING
    assert claim.last_check_error


def test_staff_approve_a_claim_audited_and_non_staff_cannot(owner, admin_user, bob):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    with pytest.raises(PermissionDenied):
        sso.domain_verify_by_staff(claim=claim, staff=bob)
    claim = sso.domain_verify_by_staff(claim=claim, staff=admin_user)
    assert (claim.status, claim.method, claim.verified_by) == ("verified", "staff", admin_user)
    event = AuditEvent.objects.get(action="sso.domain_verified")
    assert (event.actor, event.after["method"]) == (admin_user, "staff")


def test_the_admin_action_approves_claims(owner, admin_client):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    response = admin_client.post(
        "/admin/accounts/claimeddomain/",
        {"action": "approve_claims", "_selected_action": [claim.pk]},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.is_verified and claim.method == "staff"


def test_removing_a_claim_is_audited(owner):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    sso.domain_remove(actor=owner, claim=claim)
    assert not ClaimedDomain.objects.exists()
    assert AuditEvent.objects.filter(action="sso.domain_removed", target_label="acme.example").exists()


def test_another_accounts_admin_cannot_check_or_remove_my_claim(owner, globex_owner):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    with pytest.raises(PermissionDenied):
        sso.domain_check(actor=globex_owner, claim=claim)
    with pytest.raises(PermissionDenied):
        sso.domain_remove(actor=globex_owner, claim=claim)


def test_verified_domain_lookup_ignores_closed_accounts(owner, admin_user):
    from accounts.services import account_close

    claim = sso.domain_claim(actor=owner, domain="acme.example")
    sso.domain_verify_by_staff(claim=claim, staff=admin_user)
    assert sso.verified_claim_for_email(email="Someone@ACME.example") == claim
    account_close(account=owner.account)
    assert sso.verified_claim_for_email(email="someone@acme.example") is None


def test_a_person_of_an_unclaimed_domain_has_no_sso_route(db):
    make_user("dan@elsewhere.example")
    assert sso.connection_for_email(email="dan@elsewhere.example") is None
