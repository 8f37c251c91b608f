"""Every write to identities, accounts and memberships goes through these functions."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import Account, Membership, User


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email_verified: bool = False,
) -> User:
    """Create the global identity and its primary allauth email (the source of the `email` claim)."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


@transaction.atomic
def account_create(*, name: str, slug: str, owner: User) -> Account:
    account = Account(name=name, slug=slug)
    account.full_clean()
    account.save()
    Membership.objects.create(account=account, user=owner, role=Membership.Role.OWNER)
    return account


def membership_add(*, account: Account, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    membership = Membership(account=account, user=user, role=role)
    membership.full_clean()
    membership.save()
    return membership
