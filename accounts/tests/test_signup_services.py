"""accounts/signup.py: the onboarding step after self-serve sign-up creates the account, its
owner and home region in one transaction, derives a free, valid, immutable slug from the
company name, and refuses bad input, a second account and an unverified person."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Account, AuditEvent, Membership, slug_format
from accounts.services import (
    account_close,
    account_create,
    account_region_add,
    membership_add,
    membership_remove,
    user_create,
)
from accounts.signup import account_signup_complete, signup_pending, slug_base, slug_free
from conftest import make_region, make_user
from regions.ledger import ledger_desire
from regions.models import AccountRegion, ProvisioningRecord, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def eu(db):
    return make_region("eu", 8102, 9102)


@pytest.fixture
def dana(db):
    """Signed up and verified, no account yet."""
    return make_user("dana@initrode.test", "Dana", "Diaz")


def test_it_creates_the_account_with_the_person_as_owner_and_the_home_region(dana, eu):
    account = account_signup_complete(user=dana, company_name="  Initrode Labs ", region=eu)

    assert (account.name, account.slug) == ("Initrode Labs", "initrode-labs")
    membership = Membership.objects.get(account=account)
    assert (membership.user, membership.role, membership.status) == (dana, "owner", "active")
    assert list(AccountRegion.objects.filter(account=account).values_list("region__code", flat=True)) == [
        "eu"
    ]
    # the owner is provisioned in the home region through the ledger
    record = ProvisioningRecord.objects.get(kind="user", tenant="initrode-labs", region=eu)
    assert record.object_key == str(dana.public_id)
    assert record.desired["emails"][0]["value"] == "dana@initrode.test"


def test_it_is_audited_once_with_the_name_slug_and_home_region(dana, eu):
    account = account_signup_complete(user=dana, company_name="Initrode", region=eu)

    event = AuditEvent.objects.get(action="account.signup")
    assert (event.account, event.actor, event.target_label) == (account, dana, "initrode")
    assert event.after == {
        "name": "Initrode", "slug": "initrode", "home_region": "eu", "owner": "dana@initrode.test"
    }  # fmt: skip
    assert AuditEvent.objects.filter(account=account, action="account.region_add").count() == 1


def test_the_slug_is_immutable_afterwards(dana, eu):
    account = account_signup_complete(user=dana, company_name="Initrode", region=eu)
    account.slug = "something-else"
    with pytest.raises(ValidationError):
        account.save()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Corp, Inc.", "acme-corp-inc"),
        ("Café Zürich", "cafe-zurich"),
        ("foo__bar -- baz", "foo-bar-baz"),
        ("  ---Hyphens---  ", "hyphens"),
        ("株式会社", "company"),
        ("!!!", "company"),
    ],
)
def test_the_slug_comes_from_the_name(name, slug):
    assert slug_base(name) == slug


def test_a_long_name_gives_a_valid_slug_of_at_most_40_characters():
    slug = slug_base("Extraordinarily Long Company Name " * 10)
    assert len(slug) <= 40 and not slug.endswith("-")
    slug_format(slug)  # raises if invalid


def test_a_taken_slug_gets_the_next_free_number(dana, eu, alice):
    account_create(name="Acme", slug="acme", owner=alice)
    closed = account_create(name="Acme Two", slug="acme-2")
    account_close(account=closed)  # a closed account keeps its slug for ever

    account = account_signup_complete(user=dana, company_name="ACME", region=eu)

    assert account.slug == "acme-3"
    assert account.name == "ACME"


def test_a_tenant_name_the_ledger_still_knows_is_not_given_again(dana, eu):
    # a region may still hold a tenant of that name (e.g. an account removed by an operator)
    with transaction.atomic():
        ledger_desire(kind="entitlements", tenant="globex", object_key="entitlements", regions=[eu],
                      desired={"tenant": "globex", "products": []})  # fmt: skip

    assert account_signup_complete(user=dana, company_name="Globex", region=eu).slug == "globex-2"


@pytest.mark.parametrize("name", ["Admin", "API", "Signup", "www", "Well Known"])
def test_a_reserved_word_is_never_a_slug(dana, eu, name):
    account = account_signup_complete(user=dana, company_name=name, region=eu)
    assert account.slug == f"{slug_base(name)}-2"
    assert account.name == name


def test_a_forty_character_slug_that_is_taken_is_shortened_to_fit_its_number(alice):
    base = "a" * 40
    account_create(name="A", slug=base, owner=alice)
    slug = slug_free(name=base)
    assert slug == "a" * 38 + "-2"
    slug_format(slug)


def test_many_taken_slugs_are_skipped_in_batches(alice):
    for n in ["", *[f"-{i}" for i in range(2, 26)]]:
        account_create(name="Acme", slug=f"acme{n}")
    assert slug_free(name="Acme") == "acme-26"


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "Your company needs a name."), ("   \t ", "Your company needs a name."),
     ("x" * 2000, "Use at most 200 characters (it has 2000).")],
)  # fmt: skip
def test_a_blank_or_too_long_name_is_refused_and_nothing_is_created(dana, eu, name, error):
    with pytest.raises(ValidationError) as exc:
        account_signup_complete(user=dana, company_name=name, region=eu)
    assert exc.value.message_dict == {"company_name": [error]}
    assert not Account.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_unknown_region_is_refused_and_nothing_is_created(dana, eu):
    ghost = Region(code="zz", name="Nowhere", people_url="http://x", machine_url="https://x")
    with pytest.raises(ValidationError) as exc:
        account_signup_complete(user=dana, company_name="Initrode", region=ghost)
    assert "region" in exc.value.message_dict
    assert not Account.objects.exists()
    assert not Membership.objects.exists()


def test_a_person_who_already_belongs_to_an_account_gets_no_second_one(alice, acme, eu):
    with pytest.raises(ValidationError) as exc:
        account_signup_complete(user=alice, company_name="Alice's side business", region=eu)
    assert exc.value.code == "already_onboarded"
    assert exc.value.params == {"slug": "acme"}
    assert list(Account.objects.values_list("slug", flat=True)) == ["acme"]


def test_submitting_twice_creates_one_account(dana, eu):
    first = account_signup_complete(user=dana, company_name="Initrode", region=eu)
    with pytest.raises(ValidationError) as exc:
        account_signup_complete(user=dana, company_name="Initrode", region=eu)
    assert exc.value.code == "already_onboarded" and exc.value.params == {"slug": first.slug}
    assert Account.objects.count() == 1


def test_an_unverified_person_cannot_complete_sign_up(eu):
    eve = user_create(email="eve@unverified.test", password="x", email_verified=False)
    with pytest.raises(ValidationError) as exc:
        account_signup_complete(user=eve, company_name="Eve Inc", region=eu)
    assert exc.value.code == "unverified"
    assert not Account.objects.exists()
    # a verified address other than the login email does not count either
    EmailAddress.objects.create(user=eve, email="eve@other.test", verified=True, primary=False)
    with pytest.raises(ValidationError):
        account_signup_complete(user=eve, company_name="Eve Inc", region=eu)


def test_signup_is_pending_only_for_people_without_an_account(alice, bob, acme, dana, eu):
    assert signup_pending(user=dana)
    assert not signup_pending(user=alice)
    # someone whose only membership is being removed (the region has not confirmed) has none
    account_region_add(account=acme, region=eu)
    membership_remove(membership=Membership.objects.get(user=bob))
    assert Membership.objects.get(user=bob).status == "removing"
    assert signup_pending(user=bob)


def test_a_suspended_member_still_belongs_to_their_account(acme, dana):
    membership_add(account=acme, user=dana, status="suspended")
    assert not signup_pending(user=dana)


@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitting_at_once_create_one_account(eu):
    # given the same person submitting from two tabs at the same moment (two connections)
    dana_id = make_user("dana@initrode.test").pk
    barrier, results = threading.Barrier(2), []

    def submit(name: str):
        from accounts.models import User

        try:
            barrier.wait(timeout=10)
            account = account_signup_complete(user=User.objects.get(pk=dana_id), company_name=name,
                                              region=Region.objects.get(code="eu"))  # fmt: skip
            results.append(account.slug)
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("Initrode", "Initrode Labs")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then one wins, the other is told the account exists, and there is exactly one
    assert sorted(results, key=lambda r: r == "already_onboarded") in (
        ["initrode", "already_onboarded"], ["initrode-labs", "already_onboarded"]
    )  # fmt: skip
    assert Account.objects.count() == 1
    assert Membership.objects.filter(user_id=dana_id, role="owner").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_companies_of_the_same_name_signing_up_at_once_get_different_slugs(eu):
    people = [make_user(f"p{n}@same.test").pk for n in range(2)]
    barrier, results, errors = threading.Barrier(2), [], []

    def submit(user_id: int):
        from accounts.models import User

        try:
            barrier.wait(timeout=10)
            account = account_signup_complete(user=User.objects.get(pk=user_id), company_name="Same Name",
                                              region=Region.objects.get(code="eu"))  # fmt: skip
            results.append(account.slug)
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(pk,)) for pk in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(results) == ["same-name", "same-name-2"]
