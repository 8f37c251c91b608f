"""Reads shaped for pages and the API."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Account, Membership, User


def membership_for_page(*, user: User, slug: str) -> Membership:
    """The caller's membership of the account named by `slug`.

    Another account's page is indistinguishable from a missing one (404), so slugs of
    other customers cannot be probed.
    """
    membership = (
        Membership.objects.select_related("account")
        .filter(user=user, account__slug=slug, user__is_active=True)
        .first()
    )
    if membership is None:
        raise Http404("No such account")
    return membership


def account_members_list(*, account: Account) -> QuerySet[Membership]:
    return Membership.objects.filter(account=account).select_related("user").order_by("user__email")


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("account").order_by("account__name")
