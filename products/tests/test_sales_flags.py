"""The sales flag: a trial from an account whose owner's (or starter's) verified email domain is
that of a person in another account that already had a trial of the same product is recorded
for sales, never refused; free-mail domains are not flagged."""

import pytest
from allauth.account.models import EmailAddress
from django.test import override_settings

from accounts.models import Membership
from accounts.services import account_create, account_region_add, membership_add
from conftest import make_user
from products.models import TrialSalesFlag
from products.sales_flags import trial_sales_flags_for_sales
from products.services import entitlement_set
from products.trials import trial_start


def _account(name: str, slug: str, owner_email: str):
    account = account_create(name=name, slug=slug, owner=make_user(owner_email))
    return account, Membership.objects.get(account=account, role="owner")


@pytest.fixture
def labs_tried_backup(backup, regions):
    """Acme Labs, another account of the acme.test people, had a Backup trial already."""
    labs, owner = _account("Acme Labs", "acme-labs", "zoe@acme.test")
    trial_start(account=labs, product=backup, regions=[regions["eu"]], actor=owner)
    return labs


def test_a_second_account_of_one_domain_is_flagged_and_still_gets_its_trial(
    acme, owner, backup, regions, labs_tried_backup
):
    # when
    entitlements = trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)

    # then: not blocked
    assert [(e.region.code, e.status) for e in entitlements] == [("us", "trial")]
    flag = TrialSalesFlag.objects.get()
    assert (flag.account, flag.product, flag.email_domain, flag.other_account) == (
        acme, backup, "acme.test", labs_tried_backup
    )  # fmt: skip


def test_the_first_account_of_a_domain_is_not_flagged(acme, owner, backup, regions):
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_a_trial_of_another_product_is_not_flagged(acme, owner, posture, regions, labs_tried_backup):
    trial_start(account=acme, product=posture, regions=[regions["eu"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_free_mail_domains_are_not_flagged(backup, regions):
    first, first_owner = _account("Sam's shop", "sams-shop", "sam@gmail.com")
    trial_start(account=first, product=backup, regions=[regions["eu"]], actor=first_owner)
    second, second_owner = _account("Pat's shop", "pats-shop", "pat@gmail.com")
    entitlements = trial_start(account=second, product=backup, regions=[regions["eu"]], actor=second_owner)
    assert len(entitlements) == 1
    assert not TrialSalesFlag.objects.exists()


@override_settings(ATRIUM_FREE_MAIL_DOMAINS=["acme.test"])
def test_the_free_mail_list_comes_from_settings(acme, owner, backup, regions, labs_tried_backup):
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_the_starters_domain_counts_too(backup, regions):
    # Initech's owner uses a personal address; its admin who starts the trial does not.
    other, other_owner = _account("Initrode", "initrode", "ivy@initech.test")
    trial_start(account=other, product=backup, regions=[regions["eu"]], actor=other_owner)
    initech, _ = _account("Initech", "initech", "boss@gmail.com")
    admin = membership_add(account=initech, user=make_user("peter@initech.test"), role="admin")
    trial_start(account=initech, product=backup, regions=[regions["eu"]], actor=admin)
    assert [(f.account.slug, f.email_domain, f.other_account.slug) for f in TrialSalesFlag.objects.all()] == [
        ("initech", "initech.test", "initrode")
    ]


def test_an_unverified_email_is_not_a_domain_match(acme, owner, backup, regions, labs_tried_backup):
    EmailAddress.objects.filter(email="zoe@acme.test").update(verified=False)
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_an_expired_trial_of_the_other_account_still_counts(acme, owner, backup, regions):
    labs, _ = _account("Acme Labs", "acme-labs", "zoe@acme.test")
    account_region_add(account=labs, region=regions["eu"])
    entitlement_set(account=labs, product=backup, region=regions["eu"], status="expired")
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    assert TrialSalesFlag.objects.get().other_account == labs


def test_an_account_that_bought_without_a_trial_does_not_count(acme, owner, backup, regions):
    labs, _ = _account("Acme Labs", "acme-labs", "zoe@acme.test")
    account_region_add(account=labs, region=regions["eu"])
    entitlement_set(account=labs, product=backup, region=regions["eu"], status="active")
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_sales_read_the_flags_newest_first_in_one_query(
    acme, owner, backup, posture, regions, labs_tried_backup, django_assert_num_queries
):
    labs_owner = Membership.objects.get(account=labs_tried_backup, role="owner")
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    trial_start(account=acme, product=posture, regions=[regions["us"]], actor=owner)
    trial_start(account=labs_tried_backup, product=posture, regions=[regions["eu"]], actor=labs_owner)
    with django_assert_num_queries(1):
        rows = [(f.account.slug, f.product.code, f.other_account.slug) for f in trial_sales_flags_for_sales()]
    assert rows == [("acme-labs", "posture", "acme"), ("acme", "backup", "acme-labs")]
