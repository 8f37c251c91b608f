"""The row locks every write about accounts and people takes, in one order (see the lock order
in accounts/services.py): the person's User row first, then Account rows in id order, then
memberships and the rest. Services of every app take them from here, so the order is written
once."""

from accounts.models import Account, Membership, User


def account_lock(account_id: int) -> Account:
    """The account row, locked until the transaction ends."""
    return Account.objects.select_for_update().get(pk=account_id)


def person_lock(user: User) -> User | None:
    """Lock the person (None if gone), then every account they belong to, in id order. While
    the person is locked no membership of theirs can be added (membership_add locks them too)."""
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        return None
    account_ids = Membership.objects.filter(user_id=user.pk).values_list("account_id", flat=True)
    list(Account.objects.select_for_update().filter(pk__in=list(account_ids)).order_by("pk"))
    return locked
