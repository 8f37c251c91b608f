"""Every write to identities, accounts and memberships goes through these functions."""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import emails
from accounts.models import Account, Membership, User
from accounts.provisioning import member_desire_everywhere
from regions.models import AccountRegion, Region


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
    membership_add(account=account, user=owner, role=Membership.Role.OWNER)
    return account


@transaction.atomic
def membership_add(*, account: Account, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    membership = Membership(account=account, user=user, role=role)
    membership.full_clean()
    membership.save()
    member_desire_everywhere(membership)
    return membership


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
    elif Membership.objects.filter(account=account, user=user).exists():
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
    user = membership.user
    if Membership.objects.filter(user=user).exclude(account_id=membership.account_id).exists():
        # The identity is global: one account's admin must not rewrite it for other accounts.
        raise ValidationError("This person also belongs to other accounts; only they can change their name.")
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    member_desire_everywhere(membership)
    return membership


def member_suspend(*, actor: Membership, membership: Membership) -> Membership:
    """Suspended here: inactive in every region of this account (their sessions there end)."""
    return _member_status_set(actor, membership, Membership.Status.SUSPENDED)


def member_reactivate(*, actor: Membership, membership: Membership) -> Membership:
    return _member_status_set(actor, membership, Membership.Status.ACTIVE)


@transaction.atomic
def _member_status_set(actor: Membership, membership: Membership, status: str) -> Membership:
    _require_admin_over(actor, membership)
    membership.status = status
    membership.save(update_fields=["status"])
    member_desire_everywhere(membership)
    return membership


@transaction.atomic
def member_remove(*, actor: Membership, membership: Membership) -> None:
    _require_admin_over(actor, membership)
    member_desire_everywhere(membership, removed=True)
    membership.delete()


@transaction.atomic
def account_region_add(*, account: Account, region: Region) -> AccountRegion:
    """The account starts using a region: every member is back-filled there through the ledger."""
    account_region, created = AccountRegion.objects.get_or_create(account=account, region=region)
    if created:
        for membership in Membership.objects.filter(account=account).select_related("user", "account"):
            member_desire_everywhere(membership, regions=[region])
    return account_region


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
