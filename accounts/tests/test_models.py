import uuid

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account
from accounts.services import account_create

pytestmark = pytest.mark.django_db


def test_every_user_gets_an_immutable_public_uuid(alice):
    assert isinstance(alice.public_id, uuid.UUID)
    alice.first_name = "Alicia"
    alice.save()
    alice.refresh_from_db()
    assert alice.public_id == alice.public_id


@pytest.mark.parametrize("slug", ["admin", "api", "scim", "static", "www"])
def test_reserved_slugs_are_refused(alice, slug):
    with pytest.raises(ValidationError) as exc:
        account_create(name="X", slug=slug, owner=alice)
    assert "reserved" in str(exc.value)


@pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "ac_me", "a" * 41, ""])
def test_malformed_slugs_are_refused(alice, slug):
    with pytest.raises(ValidationError):
        account_create(name="X", slug=slug, owner=alice)


def test_a_slug_cannot_change(acme):
    acme.slug = "acme-two"
    with pytest.raises(ValidationError):
        acme.save()
    assert Account.objects.get(pk=acme.pk).slug == "acme"


def test_emails_are_unique_ignoring_case(alice):
    from django.db import IntegrityError

    from accounts.models import User

    with pytest.raises(IntegrityError):
        User.objects.create(email="ALICE@acme.test")
