"""Every write to identities, accounts and memberships goes through these functions.

Lock order: every service that records what an account's regions must hold locks the Account
row first (then the user, then memberships). Services that change the account's regions
(account_region_add/remove, account_close) take the same lock, so a member change never reads
the regions before a concurrent region change commits and then writes stale rows: a member
added, suspended or removed while a region is being added or removed lands in exactly the
regions the account uses when both have committed."""

import uuid
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import emails
from accounts.models import Account, Group, Membership, User
from accounts.provisioning import (
    group_desire_everywhere,
    groups_of_member_desire,
    member_desire_everywhere,
    member_removal_unconfirmed,
    user_desire_everywhere,
)
from regions.ledger import ledger_desire
from regions.models import AccountRegion, ProvisioningRecord, Region
from regions.selectors import regions_of_account


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


def _lock_accounts_of(user: User) -> User | None:
    """Lock the accounts the person belongs to (in id order), then the person (None if gone)."""
    account_ids = Membership.objects.filter(user_id=user.pk).values_list("account_id", flat=True)
    list(Account.objects.select_for_update().filter(pk__in=list(account_ids)).order_by("pk"))
    return User.objects.select_for_update().filter(pk=user.pk).first()


def _lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


@transaction.atomic
def user_set_active(*, user: User, active: bool) -> User:
    """Deactivate (or re-activate) an identity: every region of every account of theirs sets
    `active` accordingly, which ends their sessions there."""
    user = _lock_accounts_of(user) or User.objects.get(pk=user.pk)  # gone: DoesNotExist
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        user_desire_everywhere(user)
    return user


@transaction.atomic
def user_rename(*, user: User, first_name: str, last_name: str) -> User:
    """An operator renames an identity; the name is part of what every region holds."""
    user = _lock_accounts_of(user) or User.objects.get(pk=user.pk)  # gone: DoesNotExist
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    user_desire_everywhere(user)
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Deprovision the person from every region of every account first, then delete the
    identity. Ledger rows hold no foreign key, so the deletions are still delivered."""
    user = _lock_accounts_of(user)
    if user is None:
        return
    user_desire_everywhere(user, removed=True)
    user.delete()


@transaction.atomic
def account_create(*, name: str, slug: str, owner: User | None = None) -> Account:
    account = Account(name=name, slug=slug)
    account.full_clean()
    account.save()
    if owner is not None:
        membership_add(account=account, user=owner, role=Membership.Role.OWNER)
    return account


@transaction.atomic
def account_rename(*, account: Account, name: str) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.name = name
    account.full_clean()
    account.save(update_fields=["name"])
    return account


@transaction.atomic
def account_close(*, account: Account) -> Account:
    """Close an account: every member is removed from every region it uses, it stops using
    them, and the row stays (with `closed_at`) so its slug is never given to another account.
    Memberships stay as `removing` until each region confirms, like any removal."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.is_closed:
        return account
    account.closed_at = timezone.now()
    account.save(update_fields=["closed_at"])
    regions = list(regions_of_account(account_id=account.pk))
    memberships = list(
        Membership.objects.select_for_update(of=("self",)).filter(account=account).select_related("user")
    )
    for membership in memberships:
        membership.account = account
        _membership_mark_removing(membership, regions)
    AccountRegion.objects.filter(account=account).delete()
    for membership in memberships:
        _membership_delete_if_confirmed(membership)
    return account


@transaction.atomic
def membership_add(
    *,
    account: Account,
    user: User,
    role: str = Membership.Role.MEMBER,
    status: str = Membership.Status.ACTIVE,
) -> Membership:
    account = _lock_account(account.pk)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    # The representation is rendered from the person: wait for a concurrent change of theirs.
    user = User.objects.select_for_update().get(pk=user.pk)
    _refuse_while_removing(account=account, user=user)
    if status not in SETTABLE_STATUSES:
        raise ValidationError({"status": "Choose active or suspended."})
    membership = Membership(account=account, user=user, role=role, status=status)
    membership.full_clean()
    membership.save()
    member_desire_everywhere(membership)
    return membership


SETTABLE_STATUSES = frozenset({Membership.Status.ACTIVE, Membership.Status.SUSPENDED})


def _refuse_while_removing(*, account: Account, user: User) -> None:
    """Re-adding a person whose removal the regions have not confirmed yet is refused: the
    membership row still exists until then, and reviving it mid-deletion would race it."""
    if Membership.objects.filter(account=account, user=user, status=Membership.Status.REMOVING).exists():
        raise ValidationError(
            {
                "email": f"{user.email} is still being removed from {account.name}'s regions; "
                "try again when the removal is confirmed (their row leaves the members table)."
            },
            code="removing",
        )


@transaction.atomic
def member_add(
    *, account: Account, actor: Membership, email: str, first_name: str, last_name: str, role: str
) -> Membership:
    """An admin adds a person: a new identity gets a verified email and the set-password mail;
    an existing one (e.g. a member of another account) just gains this membership."""
    _require_admin(actor)
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can add another owner.")
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    is_new = user is None
    if is_new:
        user = user_create(email=email, first_name=first_name, last_name=last_name, email_verified=True)
    else:
        _refuse_while_removing(account=account, user=user)
        if Membership.objects.filter(account=account, user=user).exists():
            raise ValidationError({"email": "This person is already a member of this account."})
    membership = membership_add(account=account, user=user, role=role)
    if is_new:
        transaction.on_commit(lambda: emails.send_member_welcome(membership_id=membership.pk))
    return membership


@transaction.atomic
def member_rename(
    *, actor: Membership, membership: Membership, first_name: str, last_name: str
) -> Membership:
    _require_admin_over(actor, membership)
    membership = _lock_changeable(membership)
    user = membership.user
    others = Membership.objects.filter(user=user).exclude(account_id=membership.account_id)
    if others.exclude(status=Membership.Status.REMOVING).filter(account__closed_at__isnull=True).exists():
        # The identity is global: one account's admin must not rewrite it for other accounts.
        raise ValidationError("This person also belongs to other accounts; only they can change their name.")
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    member_desire_everywhere(membership)
    return membership


@transaction.atomic
def member_suspend(*, actor: Membership, membership: Membership) -> Membership:
    """Suspended here: inactive in every region of this account (their sessions there end)."""
    _require_admin_over(actor, membership)
    return membership_update(membership=membership, status=Membership.Status.SUSPENDED)


@transaction.atomic
def member_reactivate(*, actor: Membership, membership: Membership) -> Membership:
    _require_admin_over(actor, membership)
    return membership_update(membership=membership, status=Membership.Status.ACTIVE)


@transaction.atomic
def membership_update(
    *, membership: Membership, role: str | None = None, status: str | None = None
) -> Membership:
    """Change a membership's role or status (operators in admin; admins through member_*)."""
    membership = _lock_changeable(membership)
    if status is not None and status not in SETTABLE_STATUSES:
        raise ValidationError({"status": "Choose active or suspended; remove a member to remove them."})
    fields = []
    if role is not None and role != membership.role:
        membership.role, fields = role, [*fields, "role"]
    if status is not None and status != membership.status:
        membership.status, fields = status, [*fields, "status"]
    if fields:
        membership.full_clean()
        membership.save(update_fields=fields)
        member_desire_everywhere(membership)
    return membership


@dataclass(frozen=True)
class Removal:
    membership: Membership
    # Regions that have yet to confirm the deletion; 0 means removed everywhere already.
    unconfirmed: int


@transaction.atomic
def member_remove(*, actor: Membership, membership: Membership) -> Removal:
    _require_admin_over(actor, membership)
    return membership_remove(membership=membership)


@transaction.atomic
def membership_remove(*, membership: Membership) -> Removal:
    """Mark the membership `removing` and record its deletion in every region; the row is
    deleted once every region has confirmed (see membership_removal_confirm), at once when
    there is nothing to confirm. Removing twice is harmless."""
    _lock_account(membership.account_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        return Removal(membership, 0)
    if not locked.is_removing:
        _membership_mark_removing(locked, regions_of_account(account_id=locked.account_id))
    return Removal(locked, _membership_delete_if_confirmed(locked))


@transaction.atomic
def membership_removal_confirm(*, tenant: str, object_key: str) -> bool:
    """A region confirmed a deletion: delete the `removing` membership of that person in that
    account once no region has anything left to confirm. Idempotent, and safe when two
    workers confirm two regions at once (the membership row is locked; the later one sees
    both confirmations)."""
    try:
        public_id = uuid.UUID(object_key)
    except ValueError:
        return False
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .filter(account__slug=tenant, user__public_id=public_id, status=Membership.Status.REMOVING)
        .first()
    )
    if membership is None:
        return False
    return _membership_delete_if_confirmed(membership) == 0


def membership_removals_sweep(*, limit: int = 500) -> int:
    """Finish removals every region has confirmed but whose confirmation signal was lost (a
    worker killed between acknowledging and signalling). Meant for a periodic task."""
    removing = (
        Membership.objects.filter(status=Membership.Status.REMOVING)
        .select_related("user", "account")
        .order_by("pk")[:limit]
    )
    finished = 0
    for membership in removing:
        if membership_removal_confirm(
            tenant=membership.account.slug, object_key=str(membership.user.public_id)
        ):
            finished += 1
    return finished


def _membership_mark_removing(membership: Membership, regions) -> None:
    membership.status = Membership.Status.REMOVING
    membership.save(update_fields=["status"])
    member_desire_everywhere(membership, removed=True, regions=regions)
    # Their groups drop them in every region (a region may not reference a user it deletes).
    groups_of_member_desire(membership)


def _membership_delete_if_confirmed(membership: Membership) -> int:
    unconfirmed = member_removal_unconfirmed(membership)
    if unconfirmed == 0:
        membership.delete()
    return unconfirmed


@transaction.atomic
def account_region_add(*, account: Account, region: Region) -> AccountRegion:
    """The account starts using a region: every member is back-filled there through the ledger."""
    account = _lock_account(account.pk)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    account_region, created = AccountRegion.objects.get_or_create(account=account, region=region)
    if created:
        memberships = Membership.objects.filter(account=account).exclude(status=Membership.Status.REMOVING)
        for membership in memberships.select_related("user", "account").prefetch_related("regions"):
            member_desire_everywhere(membership, regions=[region])
        for group in Group.objects.filter(account=account).select_related("account"):
            group_desire_everywhere(group)  # sent there once its members are synced there
    return account_region


@transaction.atomic
def account_region_remove(*, account_region: AccountRegion) -> int:
    """The account stops using a region: every member's deletion there is recorded first,
    then the link goes. The members page keeps showing that region's badges until the region
    confirmed each deletion. Returns how many deletions were recorded."""
    _lock_account(account_region.account_id)
    locked = AccountRegion.objects.select_for_update().filter(pk=account_region.pk).first()
    if locked is None:
        return 0
    memberships = Membership.objects.filter(account_id=locked.account_id).select_related("user", "account")
    recorded = 0
    for membership in memberships:
        recorded += len(member_desire_everywhere(membership, removed=True, regions=[locked.region]))
    for group in Group.objects.filter(account_id=locked.account_id).select_related("account"):
        ledger_desire(
            kind=ProvisioningRecord.Kind.GROUP, tenant=group.account.slug, object_key=str(group.public_id),
            regions=[locked.region], desired=None,
        )  # fmt: skip
    locked.delete()
    return recorded


def _lock_changeable(membership: Membership) -> Membership:
    """Re-read the membership under a row lock (its account's first: see the lock order above);
    one being removed (or gone) cannot change."""
    _lock_account(membership.account_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None or locked.is_removing:
        raise ValidationError("This member is being removed; nothing about them can change now.")
    return locked


def _require_admin(actor: Membership) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only owners and admins manage members.")


def _require_admin_over(actor: Membership, membership: Membership) -> None:
    _require_admin(actor)
    if membership.account_id != actor.account_id:
        raise PermissionDenied("Not a member of this account.")
    if membership.pk == actor.pk:
        raise ValidationError("You cannot change your own membership here.")
    if membership.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can change an owner.")
