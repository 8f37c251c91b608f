"""Argon2id at 7 MiB, t=5, p=1 (accounts/hashers.py) first in PASSWORD_HASHERS, and older PBKDF2
hashes upgraded to it at the next login through allauth's login form. The test run's fast hasher
is replaced here by the production list."""

import argon2
import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from accounts.hashers import Argon2idPasswordHasher
from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    return settings


def test_a_new_hash_is_argon2id_with_7_mib_5_iterations_and_1_lane(production_hashers):
    encoded = make_password("s3cret-Pass-2026")
    assert encoded.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    params = argon2.extract_parameters(encoded.removeprefix("argon2"))
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (
        argon2.Type.ID, 7168, 5, 1,
    )  # fmt: skip
    assert check_password("s3cret-Pass-2026", encoded) and not check_password("other", encoded)


def test_a_hash_with_other_argon2_parameters_must_be_updated(production_hashers):
    hasher = Argon2idPasswordHasher()
    stronger_default = make_password("pw-2026-long", hasher="argon2")  # our subclass, same name
    assert not hasher.must_update(stronger_default)

    class Django(Argon2idPasswordHasher):
        time_cost, memory_cost, parallelism = 2, 102400, 8

    assert hasher.must_update(Django().encode("pw-2026-long", Django().salt()))


def test_a_pbkdf2_users_hash_becomes_argon2id_after_signing_in_through_the_login_form(
    client, alice, production_hashers
):
    # given alice's password was hashed with PBKDF2 (before Argon2id)
    User.objects.filter(pk=alice.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert identify_hasher(User.objects.get(pk=alice.pk).password).algorithm == "pbkdf2_sha256"
    # when she signs in through allauth's form
    response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    # then her stored hash is Argon2id with our parameters, and still her password
    stored = User.objects.get(pk=alice.pk).password
    assert stored.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$")
    assert check_password(PASSWORD, stored)
    client.logout()
    again = client.post("/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD})
    assert again.status_code == 302


def test_a_wrong_password_does_not_upgrade_the_hash(client, alice, production_hashers):
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=alice.pk).update(password=old)
    response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": "wrong-pass-2026"})
    assert response.status_code == 200
    assert User.objects.get(pk=alice.pk).password == old
