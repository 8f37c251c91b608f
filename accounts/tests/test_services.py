import pytest
from allauth.account.models import EmailAddress

from accounts.models import Membership
from accounts.services import account_create, user_create

pytestmark = pytest.mark.django_db


def test_user_create_records_a_primary_email_for_the_oidc_email_claim():
    user = user_create(email="Eve@Example.TEST", password="x-long-password-1", email_verified=True)
    address = EmailAddress.objects.get(user=user)
    assert user.email == "eve@example.test"
    assert address.email == "eve@example.test" and address.primary and address.verified
    assert user.check_password("x-long-password-1")


def test_account_create_makes_the_creator_its_owner(alice):
    account = account_create(name="Initech", slug="initech", owner=alice)
    membership = Membership.objects.get(account=account)
    assert membership.user == alice
    assert membership.role == Membership.Role.OWNER
