"""Account groups ("Backup operators"): every write, each in its own transaction, checked
against the permission table, audited, and recorded in the provisioning ledger (the kind
`group`, regions/kinds.py) so each region's `/scim/v2/<tenant>/Groups` follows."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Account, Group, GroupMember, Membership
from accounts.provisioning import group_desire_everywhere


def _lock_account(account_id: int) -> Account:
    # Same lock order as accounts.services: the account row first.
    return Account.objects.select_for_update().get(pk=account_id)


def _actor_user(actor: Membership | None):
    return actor.user if actor is not None else None


def _check(actor: Membership | None, account: Account) -> None:
    """`actor` None: an operator or a command acting for the account (no role to check)."""
    if actor is None:
        return
    if actor.account_id != account.pk:
        raise permissions.PermissionDenied("Not a member of this account.")
    permissions.require(actor, "groups.manage")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A group needs a name."})
    if len(name) > 150:
        raise ValidationError({"name": "Group names are at most 150 characters."})
    return name


@transaction.atomic
def group_create(*, account: Account, actor: Membership | None, name: str, description: str = "") -> Group:
    account = _lock_account(account.pk)
    _check(actor, account)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    name = _clean_name(name)
    if Group.objects.filter(account=account, name__iexact=name).exists():
        raise ValidationError({"name": f"{account.name} already has a group named {name}."})
    try:
        with transaction.atomic():
            group = Group.objects.create(account=account, name=name, description=description.strip()[:500])
    except IntegrityError as exc:  # a concurrent create with the same name
        raise ValidationError({"name": f"{account.name} already has a group named {name}."}) from exc
    audit_record(
        action="group.create", account=account, actor=_actor_user(actor), target_type="group",
        target_id=group.public_id, target_label=group.name, after={"name": group.name},
    )  # fmt: skip
    group_desire_everywhere(group)
    return group


@transaction.atomic
def group_update(
    *, group: Group, actor: Membership | None, name: str, description: str | None = None
) -> Group:
    account = _lock_account(group.account_id)
    _check(actor, account)
    group = Group.objects.select_for_update().get(pk=group.pk)
    name = _clean_name(name)
    if Group.objects.filter(account=account, name__iexact=name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": f"{account.name} already has a group named {name}."})
    before = {"name": group.name, "description": group.description}
    group.name = name
    if description is not None:
        group.description = description.strip()[:500]
    group.save(update_fields=["name", "description"])
    after = {"name": group.name, "description": group.description}
    if before != after:
        audit_record(
            action="group.update", account=account, actor=_actor_user(actor), target_type="group",
            target_id=group.public_id, target_label=group.name, before=before, after=after,
        )  # fmt: skip
        group_desire_everywhere(group)
    return group


@transaction.atomic
def group_delete(*, group: Group, actor: Membership | None) -> None:
    account = _lock_account(group.account_id)
    _check(actor, account)
    group = Group.objects.select_for_update().filter(pk=group.pk).first()
    if group is None:
        return
    # The ledger rows keep no foreign key: the deletions are delivered after the row is gone.
    group_desire_everywhere(group, removed=True)
    audit_record(
        action="group.delete", account=account, actor=_actor_user(actor), target_type="group",
        target_id=group.public_id, target_label=group.name, before={"name": group.name},
    )  # fmt: skip
    group.delete()


@transaction.atomic
def group_members_add(*, group: Group, actor: Membership | None, memberships: list[Membership]) -> int:
    """Add members (of the group's account; being removed ones are refused); returns how many
    were new. One ledger change per region, whatever the number added."""
    account = _lock_account(group.account_id)
    _check(actor, account)
    ids = {m.pk for m in memberships}
    valid = Membership.objects.filter(pk__in=ids, account=account).exclude(status=Membership.Status.REMOVING)
    found = {m.pk: m for m in valid.select_related("user")}
    if set(found) != ids:
        raise ValidationError("Only members of this account who are not being removed can join its groups.")
    present = set(
        GroupMember.objects.filter(group=group, membership_id__in=ids).values_list("membership_id", flat=True)
    )
    new = [found[pk] for pk in sorted(ids - present)]
    GroupMember.objects.bulk_create(
        [GroupMember(group=group, membership=m) for m in new], ignore_conflicts=True
    )
    if new:
        audit_record(
            action="group.members_add", account=account, actor=_actor_user(actor), target_type="group",
            target_id=group.public_id, target_label=group.name,
            after={"members": [m.user.email for m in new]},
        )  # fmt: skip
        group_desire_everywhere(group)
    return len(new)


@transaction.atomic
def group_members_remove(*, group: Group, actor: Membership | None, memberships: list[Membership]) -> int:
    account = _lock_account(group.account_id)
    _check(actor, account)
    links = GroupMember.objects.filter(group=group, membership__in=[m.pk for m in memberships])
    emails = list(links.values_list("membership__user__email", flat=True))
    removed, _ = links.delete()
    if removed:
        audit_record(
            action="group.members_remove", account=account, actor=_actor_user(actor), target_type="group",
            target_id=group.public_id, target_label=group.name, before={"members": emails},
        )  # fmt: skip
        group_desire_everywhere(group)
    return removed


def groups_of_account(*, account: Account) -> QuerySet[Group]:
    return Group.objects.filter(account=account).order_by("name")


def group_of_account(*, account: Account, group_id: int) -> Group:
    """A group of this account, or 404 (another account's is indistinguishable)."""
    group = Group.objects.filter(pk=group_id, account=account).select_related("account").first()
    if group is None:
        raise Http404("No such group")
    return group
