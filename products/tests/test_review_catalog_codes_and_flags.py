"""The product code validator against codes that would break a URL or a region's document, as
staff type them in Django admin; and the sales flag against addresses that say nothing about a
company (unverified, free-mail) on the starting side."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import Membership, User
from accounts.services import account_create
from accounts.tests.test_services_concurrency import run_open_transaction
from conftest import make_user
from products.models import Product, TrialSalesFlag
from products.services import product_create
from products.trials import trial_start

BAD_CODES = [
    "trial-policy",
    "trial-requests",
    "backup\n",
    "Backup",
    "a" * 41,
    "-x",
    "x-",
    "a b",
    "ü",
    "a\x00b",
    "",
]


@pytest.mark.parametrize("code", BAD_CODES)
def test_a_code_that_cannot_name_a_product_everywhere_is_refused(db, code):
    with pytest.raises(ValidationError):
        product_create(code=code, name="Bad", regions=[])
    assert not Product.objects.exists()


# (The admin's form strips "backup\n" to a good code; a NUL byte is the portal's 400.)
@pytest.mark.parametrize("code", [code for code in BAD_CODES if code != "backup\n"])
def test_the_admin_add_form_answers_a_bad_code_with_a_form_error(client, db, code):
    staff = User.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(staff)
    response = client.post(
        reverse("admin:products_product_add"),
        {"code": code, "name": "Bad", "trial_days": "0", "availability-TOTAL_FORMS": "0",
         "availability-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code in (200, 400)  # the form again with the error, or the NUL refusal
    assert not Product.objects.exists()


def _account(slug: str, owner_email: str):
    account = account_create(name=slug.title(), slug=slug, owner=make_user(owner_email))
    return account, Membership.objects.get(account=account, role="owner")


@pytest.fixture
def labs_tried_backup(backup, regions):
    labs, owner = _account("labs", "zoe@acme.test")
    trial_start(account=labs, product=backup, regions=[regions["eu"]], actor=owner)
    return labs


def test_an_unverified_starter_and_owner_raise_no_flag(backup, regions, labs_tried_backup):
    other, owner = _account("other", "yan@acme.test")
    EmailAddress.objects.filter(email="yan@acme.test").update(verified=False)
    trial_start(account=other, product=backup, regions=[regions["eu"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


def test_a_free_mail_starter_of_an_account_whose_owner_is_unverified_raises_no_flag(backup, regions):
    first, first_owner = _account("first", "sam@gmail.com")
    trial_start(account=first, product=backup, regions=[regions["eu"]], actor=first_owner)
    second, second_owner = _account("second", "pat@GMAIL.COM")
    trial_start(account=second, product=backup, regions=[regions["eu"]], actor=second_owner)
    assert not TrialSalesFlag.objects.exists()


def test_a_domain_that_merely_ends_like_the_company_is_no_match(backup, regions, labs_tried_backup):
    other, owner = _account("other", "yan@notacme.test")
    trial_start(account=other, product=backup, regions=[regions["eu"]], actor=owner)
    assert not TrialSalesFlag.objects.exists()


# --- two accounts of one company starting the same trial at once (real row locks) -------------


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_accounts_of_one_domain_starting_at_once_the_later_is_flagged(backup, regions):
    first, first_owner = _account("first", "ann@acme.test")
    second, second_owner = _account("second", "ben@acme.test")
    proceed, ready, errors = threading.Event(), threading.Event(), []
    # given: the first trial written but not yet committed
    holder = run_open_transaction(
        lambda: trial_start(account=first, product=backup, regions=[regions["eu"]], actor=first_owner),
        proceed, ready, errors,
    )  # fmt: skip
    assert ready.wait(30)

    def start_second():
        try:
            trial_start(account=second, product=backup, regions=[regions["eu"]], actor=second_owner)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    # when: the second starts meanwhile; the first commits once the second is done or waits on it
    later = threading.Thread(target=start_second)
    later.start()
    for _ in range(600):
        if not later.is_alive() or _lock_waiters():
            break
        later.join(0.05)
    proceed.set()
    holder.join(30)
    later.join(30)
    # then: both trials run, and the later one is the lead it is
    assert errors == []
    assert [(f.account.slug, f.other_account.slug) for f in TrialSalesFlag.objects.all()] == [
        ("second", "first")
    ]
