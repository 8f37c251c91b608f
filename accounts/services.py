"""Every write to identities, accounts and memberships goes through these functions.

Lock order, everywhere: the person's User row first (when the change is about a person), then
Account rows (in id order), then memberships. Every service that records what an account's
regions must hold locks the Account row; services that change the account's regions
(account_region_add/remove, account_close) take the same lock, so a member change never reads
the regions before a concurrent region change commits and then writes stale rows. Services
about a person (user_*, membership_add, member_rename) lock the User row first, so the set of
accounts they lock cannot grow under them (membership_add waits on that row), and Django admin,
which saves the User row before calling a service, follows the same order."""

import uuid
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import emails, permissions, signals
from accounts.audit import audit_record
from accounts.groups import group_members_add
from accounts.locks import account_lock, person_lock
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


def user_lock_for_change(*, user: User) -> User | None:
    """For callers that write the User row themselves before a service (Django admin): take
    the locks in the services' order first."""
    return person_lock(user)


def _audit_identity(user: User, action: str, actor: User | None, *, before=None, after=None) -> None:
    """An operator changed an identity: each open account of the person logs it (their admins
    see why a member changed); one row without an account if they belong to none."""
    accounts = list(Account.objects.filter(memberships__user=user, closed_at__isnull=True).distinct())
    for account in accounts or [None]:
        audit_record(
            action=action, account=account, actor=actor, target_type="member", target_id=user.public_id,
            target_label=user.email, before=before, after=after,
        )  # fmt: skip


@transaction.atomic
def user_set_active(*, user: User, active: bool, audit_actor: User | None = None) -> User:
    """Deactivate (or re-activate) an identity: every region of every account of theirs sets
    `active` accordingly, which ends their sessions there."""
    user = person_lock(user) or User.objects.get(pk=user.pk)  # gone: DoesNotExist
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        user_desire_everywhere(user)
        action = "identity.reactivate" if active else "identity.deactivate"
        _audit_identity(user, action, audit_actor, before={"active": not active}, after={"active": active})
    return user


@transaction.atomic
def user_rename(*, user: User, first_name: str, last_name: str, audit_actor: User | None = None) -> User:
    """An operator renames an identity; the name is part of what every region holds.
    `audit_actor`: the operator, when the caller does not log the change itself."""
    user = person_lock(user) or User.objects.get(pk=user.pk)  # gone: DoesNotExist
    before = {"first_name": user.first_name, "last_name": user.last_name}
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    user_desire_everywhere(user)
    after = {"first_name": user.first_name, "last_name": user.last_name}
    if audit_actor is not None and before != after:
        _audit_identity(user, "identity.rename", audit_actor, before=before, after=after)
    return user


@transaction.atomic
def user_delete(*, user: User, audit_actor: User | None = None) -> None:
    """Deprovision the person from every region of every account first, then delete the
    identity. Ledger rows hold no foreign key, so the deletions are still delivered."""
    user = person_lock(user)
    if user is None:
        return
    if audit_actor is not None:  # an operator (the person's own deletion is logged by profile)
        _audit_identity(user, "identity.delete", audit_actor, before={"email": user.email})
    user_desire_everywhere(user, removed=True)
    groups = list(Group.objects.filter(links__membership__user=user).select_related("account").distinct())
    user.delete()
    for group in groups:  # their memberships went with them: every region's group drops them
        group_desire_everywhere(group)


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
    account = account_lock(account.pk)
    account.name = name
    account.full_clean()
    account.save(update_fields=["name"])
    return account


@transaction.atomic
def account_close(*, account: Account, audit_actor: User | None = None) -> Account:
    """Close an account: every member is removed from every region it uses, it stops using
    them, and the row stays (with `closed_at`) so its slug is never given to another account.
    Memberships stay as `removing` until each region confirms, like any removal."""
    account = account_lock(account.pk)
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
        # (no per-member re-render of groups: every group is deleted everywhere just below)
        _membership_mark_removing(membership, regions, rerender_groups=False)
    # Its groups go from every region too, after the removals above re-rendered them (the
    # ledger rows outlive the account-region links dropped below).
    for group in Group.objects.filter(account=account).select_related("account"):
        group_desire_everywhere(group, removed=True, regions=regions)
    for region in regions:  # what other apps provision there for the account goes too
        signals.account_region_removed.send(sender=Account, account=account, region=region)
    AccountRegion.objects.filter(account=account).delete()
    for membership in memberships:
        _membership_delete_if_confirmed(membership)
    if audit_actor is not None:  # an operator (the owner's close is logged by account_settings)
        audit_record(
            action="account.close", account=account, actor=audit_actor, target_type="account",
            target_id=account.pk, target_label=account.slug, before={"closed_at": None},
            after={"closed_at": account.closed_at.isoformat(), "members_deprovisioned": len(memberships)},
        )  # fmt: skip
    return account


@transaction.atomic
def membership_add(
    *,
    account: Account,
    user: User,
    role: str = Membership.Role.MEMBER,
    status: str = Membership.Status.ACTIVE,
    audit_actor: User | None = None,
    regions: list[Region] | None = None,
) -> Membership:
    """`regions`: None for every region the account uses (also those added later), else the
    subset of the account's regions the member is provisioned in."""
    # The person first (see the lock order): the representation is rendered from them, and a
    # concurrent change of theirs must see this membership or be seen by it.
    user = User.objects.select_for_update().get(pk=user.pk)
    account = account_lock(account.pk)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    _refuse_while_removing(account=account, user=user)
    if status not in SETTABLE_STATUSES:
        raise ValidationError({"status": "Choose active or suspended."})
    membership = Membership(account=account, user=user, role=role, status=status, all_regions=regions is None)
    membership.full_clean()
    membership.save()
    if regions is not None:
        used = set(regions_of_account(account_id=account.pk).values_list("pk", flat=True))
        membership.regions.set([region for region in regions if region.pk in used])
    member_desire_everywhere(membership)
    _audit_member("member.add", membership, audit_actor, after={"role": role, "status": status})
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
    _require_in_account(actor, account)
    permissions.require(actor, "members.manage")
    if role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    is_new = user is None
    if is_new:
        user = user_create(email=email, first_name=first_name, last_name=last_name, email_verified=True)
    else:
        _refuse_while_removing(account=account, user=user)
        if Membership.objects.filter(account=account, user=user).exists():
            raise ValidationError({"email": "This person is already a member of this account."})
    membership = membership_add(account=account, user=user, role=role, audit_actor=actor.user)
    if is_new:
        transaction.on_commit(lambda: emails.send_member_welcome(membership_id=membership.pk))
    return membership


@transaction.atomic
def member_rename(
    *, actor: Membership, membership: Membership, first_name: str, last_name: str
) -> Membership:
    _require_admin_over(actor, membership)
    User.objects.select_for_update().filter(pk=membership.user_id).first()  # the person first
    membership = _lock_changeable(membership)
    user = membership.user
    others = Membership.objects.filter(user=user).exclude(account_id=membership.account_id)
    if others.exclude(status=Membership.Status.REMOVING).filter(account__closed_at__isnull=True).exists():
        # The identity is global: one account's admin must not rewrite it for other accounts.
        raise ValidationError("This person also belongs to other accounts; only they can change their name.")
    before = {"first_name": user.first_name, "last_name": user.last_name}
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    member_desire_everywhere(membership)
    after = {"first_name": user.first_name, "last_name": user.last_name}
    _audit_member("member.rename", membership, actor.user, before=before, after=after)
    return membership


@transaction.atomic
def member_suspend(*, actor: Membership, membership: Membership) -> Membership:
    """Suspended here: inactive in every region of this account (their sessions there end)."""
    _require_admin_over(actor, membership)
    return membership_update(
        membership=membership, status=Membership.Status.SUSPENDED, audit_actor=actor.user
    )


@transaction.atomic
def member_reactivate(*, actor: Membership, membership: Membership) -> Membership:
    _require_admin_over(actor, membership)
    return membership_update(membership=membership, status=Membership.Status.ACTIVE, audit_actor=actor.user)


@transaction.atomic
def membership_update(
    *,
    membership: Membership,
    role: str | None = None,
    status: str | None = None,
    audit_actor: User | None = None,
) -> Membership:
    """Change a membership's role or status (operators in admin; admins through member_*).
    The account keeps at least one active owner."""
    membership = _lock_changeable(membership)
    if status is not None and status not in SETTABLE_STATUSES:
        raise ValidationError({"status": "Choose active or suspended; remove a member to remove them."})
    if role is not None and role not in Membership.Role.values:
        raise ValidationError({"role": "Choose a role: " + ", ".join(Membership.Role.values) + "."})
    stays_owner = (role or membership.role) == Membership.Role.OWNER and (
        status or membership.status
    ) == Membership.Status.ACTIVE
    if not stays_owner:
        _refuse_last_owner(membership, "demoted or suspended")
    before = {"role": membership.role, "status": membership.status}
    fields = []
    if role is not None and role != membership.role:
        membership.role, fields = role, [*fields, "role"]
    if status is not None and status != membership.status:
        membership.status, fields = status, [*fields, "status"]
    if fields:
        membership.full_clean()
        membership.save(update_fields=fields)
        member_desire_everywhere(membership)
        after = {"role": membership.role, "status": membership.status}
        action = "member.role_change" if "role" in fields else f"member.{_STATUS_VERBS[membership.status]}"
        _audit_member(action, membership, audit_actor, before=before, after=after)
    return membership


_STATUS_VERBS = {Membership.Status.ACTIVE: "reactivate", Membership.Status.SUSPENDED: "suspend"}


@transaction.atomic
def member_role_change(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """An admin changes a member's role; making or unmaking an owner needs an owner."""
    _require_admin_over(actor, membership)
    if role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    return membership_update(membership=membership, role=role, audit_actor=actor.user)


@transaction.atomic
def member_region_access_set(
    *, actor: Membership, membership: Membership, all_regions: bool, regions: list[Region]
) -> Membership:
    """Which of the account's regions the member is provisioned in: all (also those added
    later) or a subset. Regions left are deprovisioned, regions gained provisioned."""
    _require_admin_over(actor, membership)
    membership = _lock_changeable(membership)
    used = {region.pk: region for region in regions_of_account(account_id=membership.account_id)}
    chosen = {region.pk for region in regions}
    if not all_regions and not chosen <= set(used):
        raise ValidationError({"regions": "Choose among the regions this account uses."})
    before = _region_access(membership)
    membership.all_regions = all_regions
    membership.save(update_fields=["all_regions"])
    membership.regions.set([] if all_regions else [used[pk] for pk in sorted(chosen)])
    after = _region_access(membership)
    if before != after:
        member_desire_everywhere(membership)
        groups_of_member_desire(membership)
        _audit_member("member.region_access", membership, actor.user, before=before, after=after)
    return membership


def _region_access(membership: Membership) -> dict:
    if membership.all_regions:
        return {"regions": "all"}
    return {"regions": sorted(membership.regions.values_list("code", flat=True))}


@transaction.atomic
def ownership_transfer(*, actor: Membership, to: Membership) -> None:
    """The acting owner makes another active member the owner and becomes an admin."""
    _require_in_account(actor, to.account)
    permissions.require(actor, "members.manage_owners")
    if to.pk == actor.pk:
        raise ValidationError("You are already an owner.")
    target = _lock_changeable(to)
    if not target.is_active or not target.user.is_active:
        raise ValidationError(
            f"{target.user.email} cannot sign in now; only an active member can become owner."
        )
    membership_update(membership=target, role=Membership.Role.OWNER, audit_actor=actor.user)
    me = Membership.objects.select_related("user", "account").get(pk=actor.pk)
    membership_update(membership=me, role=Membership.Role.ADMIN, audit_actor=actor.user)
    _audit_member("account.ownership_transfer", target, actor.user, before={"owner": actor.user.email},
                  after={"owner": target.user.email})  # fmt: skip


@transaction.atomic
def member_leave(*, membership: Membership) -> "Removal":
    """A person leaves an account themselves (deprovisioned from its regions); the last owner
    cannot leave (transfer ownership first)."""
    return membership_remove(membership=membership, audit_actor=membership.user)


@dataclass(frozen=True)
class BulkResult:
    done: int
    skipped: list[tuple[Membership, str]]


BULK_ACTIONS = frozenset({"suspend", "reactivate", "remove", "change_role", "add_to_group"})


@transaction.atomic
def members_bulk(
    *,
    actor: Membership,
    memberships: list[Membership],
    action: str,
    role: str | None = None,
    group: Group | None = None,
) -> BulkResult:
    """One action on many members. Each member is done or skipped with the reason (their own
    rules hold: not yourself, owners only by owners, the last owner stays); a skipped one
    leaves nothing half-done."""
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": "Choose suspend, reactivate, remove, change role or add to group."})
    permissions.require(actor, "groups.manage" if action == "add_to_group" else "members.manage")
    if any(m.account_id != actor.account_id for m in memberships):
        raise PermissionDenied("Not a member of this account.")
    if action == "change_role" and role not in Membership.Role.values:
        raise ValidationError({"role": "Choose a role."})
    if action == "add_to_group":
        if group is None or group.account_id != actor.account_id:
            raise ValidationError({"group": "Choose a group of this account."})
        members = [m for m in memberships if m.account_id == actor.account_id and not m.is_removing]
        skipped = [
            (m, "not a member of this account, or being removed") for m in memberships if m not in members
        ]
        group_members_add(group=group, actor=actor, memberships=members)
        return BulkResult(len(members), skipped)
    one = {
        "suspend": lambda m: member_suspend(actor=actor, membership=m),
        "reactivate": lambda m: member_reactivate(actor=actor, membership=m),
        "remove": lambda m: member_remove(actor=actor, membership=m),
        "change_role": lambda m: member_role_change(actor=actor, membership=m, role=role),
    }[action]
    done, skipped = 0, []
    for membership in memberships:
        try:
            with transaction.atomic():
                one(membership)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            skipped.append((membership, reason))
        else:
            done += 1
    return BulkResult(done, skipped)


@dataclass(frozen=True)
class Removal:
    membership: Membership
    # Regions that have yet to confirm the deletion; 0 means removed everywhere already.
    unconfirmed: int


@transaction.atomic
def member_remove(*, actor: Membership, membership: Membership) -> Removal:
    _require_admin_over(actor, membership)
    return membership_remove(membership=membership, audit_actor=actor.user)


@transaction.atomic
def membership_remove(*, membership: Membership, audit_actor: User | None = None) -> Removal:
    """Mark the membership `removing` and record its deletion in every region; the row is
    deleted once every region has confirmed (see membership_removal_confirm), at once when
    there is nothing to confirm. Removing twice is harmless."""
    account_lock(membership.account_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        return Removal(membership, 0)
    if not locked.is_removing:
        _refuse_last_owner(locked, "removed")
        before = {"role": locked.role, "status": locked.status}
        _membership_mark_removing(locked, regions_of_account(account_id=locked.account_id))
        _audit_member("member.remove", locked, audit_actor, before=before, after={"status": "removing"})
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


def _membership_mark_removing(membership: Membership, regions, *, rerender_groups: bool = True) -> None:
    membership.status = Membership.Status.REMOVING
    membership.save(update_fields=["status"])
    member_desire_everywhere(membership, removed=True, regions=regions)
    if rerender_groups:
        # Their groups drop them in every region (a region may not reference a user it deletes).
        groups_of_member_desire(membership)


def _membership_delete_if_confirmed(membership: Membership) -> int:
    unconfirmed = member_removal_unconfirmed(membership)
    if unconfirmed == 0:
        membership.delete()
    return unconfirmed


@transaction.atomic
def account_region_add(*, account: Account, region: Region, audit_actor: User | None = None) -> AccountRegion:
    """The account starts using a region: every member is back-filled there through the ledger."""
    account = account_lock(account.pk)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    account_region, created = AccountRegion.objects.get_or_create(account=account, region=region)
    if created:
        memberships = Membership.objects.filter(account=account).exclude(status=Membership.Status.REMOVING)
        for membership in memberships.select_related("user", "account").prefetch_related("regions"):
            member_desire_everywhere(membership, regions=[region])
        for group in Group.objects.filter(account=account).select_related("account"):
            group_desire_everywhere(group, regions=[region])  # sent once its members are synced there
        signals.account_region_added.send(sender=Account, account=account, region=region)
        audit_record(
            action="account.region_add", account=account, actor=audit_actor, target_type="region",
            target_id=region.code, target_label=region.name, after={"region": region.code},
        )  # fmt: skip
    return account_region


@transaction.atomic
def account_region_remove(*, account_region: AccountRegion, audit_actor: User | None = None) -> int:
    """The account stops using a region: every member's deletion there is recorded first,
    then the link goes. The members page keeps showing that region's badges until the region
    confirmed each deletion. Returns how many deletions were recorded."""
    account_lock(account_region.account_id)
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
    signals.account_region_removed.send(sender=Account, account=locked.account, region=locked.region)
    audit_record(
        action="account.region_remove", account=locked.account, actor=audit_actor, target_type="region",
        target_id=locked.region.code, target_label=locked.region.name, before={"region": locked.region.code},
        after={"members_deprovisioned": recorded},
    )  # fmt: skip
    locked.delete()
    return recorded


def _lock_changeable(membership: Membership) -> Membership:
    """Re-read the membership under a row lock (its account's first: see the lock order above);
    one being removed (or gone) cannot change."""
    account_lock(membership.account_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "account")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None or locked.is_removing:
        raise ValidationError("This member is being removed; nothing about them can change now.")
    return locked


def _require_in_account(actor: Membership, account: Account) -> None:
    if actor.account_id != account.pk:
        raise PermissionDenied("Not a member of this account.")


def _require_admin_over(actor: Membership, membership: Membership) -> None:
    """The actor may manage this member (accounts/permissions.py): same account, not
    themselves, and owners only by owners."""
    _require_in_account(actor, membership.account)
    permissions.require(actor, "members.manage")
    if membership.pk == actor.pk:
        raise ValidationError("You cannot change your own membership here.")
    if membership.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")


def _refuse_last_owner(membership: Membership, what: str) -> None:
    """An open account keeps at least one active owner (the account row is locked by now)."""
    if membership.role != Membership.Role.OWNER or membership.status != Membership.Status.ACTIVE:
        return
    if membership.account.is_closed:
        return
    # Another owner who can sign in: an identity deactivated by staff does not count.
    others = (
        Membership.objects.filter(
            account_id=membership.account_id, role=Membership.Role.OWNER, status=Membership.Status.ACTIVE,
            user__is_active=True,
        )
        .exclude(pk=membership.pk)
        .exists()
    )  # fmt: skip
    if not others:
        raise ValidationError(
            f"{membership.user.email} is the last owner of {membership.account.name} and cannot be {what}; "
            "transfer ownership first.",
            code="last_owner",
        )


def _audit_member(action: str, membership: Membership, actor: User | None, *, before=None, after=None):
    audit_record(
        action=action, account=membership.account, actor=actor, target_type="member",
        target_id=membership.user.public_id, target_label=membership.user.email, before=before, after=after,
    )  # fmt: skip
