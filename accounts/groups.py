"""Account groups ("Backup operators"): every write, each in its own transaction, checked
against the permission table, audited, and recorded in the provisioning ledger (the kind
`group`, regions/kinds.py) so each region's `/scim/v2/<tenant>/Groups` follows; and the reads
the groups pages need (a constant number of queries whatever the number of groups or members).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Group, GroupMember, Membership
from accounts.provisioning import group_desire_everywhere
from accounts.selectors import RegionSync
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account

NAME_MAX = 150
DESCRIPTION_MAX = 500


def _lock_group(group: Group, account: Account) -> Group:
    """The group re-read under its row lock (after the account's); one deleted meanwhile is
    refused as bad input, never a database error at commit."""
    locked = Group.objects.select_for_update().filter(pk=group.pk, account=account).first()
    if locked is None:
        raise ValidationError("This group no longer exists.", code="gone")
    locked.account = account
    return locked


def _actor_user(actor: Membership | None):
    return actor.user if actor is not None else None


def _check(actor: Membership | None, account: Account) -> None:
    """`actor` None: an operator or a command acting for the account (no role to check)."""
    if actor is None:
        return
    if actor.account_id != account.pk:
        raise permissions.PermissionDenied("Not a member of this account.")
    permissions.require(actor, "groups.manage")


def _check_open(account: Account) -> None:
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A group needs a name."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"Group names are at most {NAME_MAX} characters."})
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError({"description": f"Descriptions are at most {DESCRIPTION_MAX} characters."})
    return description


def _refuse_taken(account: Account, name: str, *, exclude_pk: int | None = None) -> None:
    others = Group.objects.filter(account=account, name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError({"name": f"{account.name} already has a group named {name}."})


@transaction.atomic
def group_create(*, account: Account, actor: Membership | None, name: str, description: str = "") -> Group:
    account = account_lock(account.pk)
    _check(actor, account)
    _check_open(account)
    name, description = _clean_name(name), _clean_description(description)
    _refuse_taken(account, name)
    try:
        with transaction.atomic():
            group = Group.objects.create(account=account, name=name, description=description)
    except IntegrityError as exc:  # a concurrent create with the same name
        raise ValidationError({"name": f"{account.name} already has a group named {name}."}) from exc
    audit_record(
        action="group.create", account=account, actor=_actor_user(actor), target_type="group",
        target_id=group.public_id, target_label=group.name,
        after={"name": group.name, "description": group.description},
    )  # fmt: skip
    group_desire_everywhere(group)
    return group


@transaction.atomic
def group_update(
    *, group: Group, actor: Membership | None, name: str, description: str | None = None
) -> Group:
    """Rename and/or re-describe. Only a rename reaches the regions (they hold no description)."""
    account = account_lock(group.account_id)
    _check(actor, account)
    _check_open(account)
    group = _lock_group(group, account)
    name = _clean_name(name)
    _refuse_taken(account, name, exclude_pk=group.pk)
    before = {"name": group.name, "description": group.description}
    group.name = name
    if description is not None:
        group.description = _clean_description(description)
    after = {"name": group.name, "description": group.description}
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return group
    try:
        with transaction.atomic():
            group.save(update_fields=["name", "description"])
    except IntegrityError as exc:  # a concurrent rename to the same name
        raise ValidationError({"name": f"{account.name} already has a group named {name}."}) from exc
    audit_record(
        action="group.update", account=account, actor=_actor_user(actor), target_type="group",
        target_id=group.public_id, target_label=group.name,
        before={key: before[key] for key in changed}, after={key: after[key] for key in changed},
    )  # fmt: skip
    if "name" in changed:
        group_desire_everywhere(group)
    return group


@transaction.atomic
def group_delete(*, group: Group, actor: Membership | None) -> None:
    account = account_lock(group.account_id)
    _check(actor, account)
    group = Group.objects.select_for_update().filter(pk=group.pk, account=account).first()
    if group is None:
        return
    group.account = account
    members = GroupMember.objects.filter(group=group).count()
    # The ledger rows keep no foreign key: the deletions are delivered after the row is gone.
    group_desire_everywhere(group, removed=True)
    audit_record(
        action="group.delete", account=account, actor=_actor_user(actor), target_type="group",
        target_id=group.public_id, target_label=group.name,
        before={"name": group.name, "description": group.description, "member_count": members},
    )  # fmt: skip
    group.delete()


@transaction.atomic
def group_members_add(*, group: Group, actor: Membership | None, memberships: list[Membership]) -> int:
    """Add members (of the group's account; being removed ones are refused); returns how many
    were new. One ledger change per region, whatever the number added."""
    account = account_lock(group.account_id)
    _check(actor, account)
    _check_open(account)
    group = _lock_group(group, account)
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
    """Remove members from the group (not from the account); those not in it are ignored."""
    account = account_lock(group.account_id)
    _check(actor, account)
    group = _lock_group(group, account)
    links = GroupMember.objects.filter(group=group, membership__in=[m.pk for m in memberships])
    emails = sorted(links.values_list("membership__user__email", flat=True))
    removed, _ = links.delete()
    if removed:
        audit_record(
            action="group.members_remove", account=account, actor=_actor_user(actor), target_type="group",
            target_id=group.public_id, target_label=group.name, before={"members": emails},
        )  # fmt: skip
        group_desire_everywhere(group)
    return removed


# --- reads (selectors) ---------------------------------------------------------------------------
_COUNTED = ~Q(links__membership__status=Membership.Status.REMOVING)


def groups_of_account(*, account: Account) -> QuerySet[Group]:
    """The account's groups by name, each with `member_count` (members being removed count
    nowhere): one query, whatever the numbers."""
    return (
        Group.objects.filter(account=account)
        .annotate(member_count=Count("links", filter=_COUNTED))
        .order_by(Lower("name"), "pk")
    )


def group_of_account(*, account: Account, group_id: int) -> Group:
    """A group of this account, or 404 (another account's is indistinguishable)."""
    group = (
        Group.objects.filter(pk=group_id, account=account)
        .annotate(member_count=Count("links", filter=_COUNTED))
        .select_related("account")
        .first()
    )
    if group is None:
        raise Http404("No such group")
    return group


def group_members(*, group: Group) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group_links__group=group)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("user")
        .order_by("user__email", "pk")
    )


def _matching(memberships: QuerySet[Membership], query: str) -> QuerySet[Membership]:
    """Every word of `query` in the email, first or last name ("bob brown", "acme.test")."""
    for word in query.split()[:5]:
        memberships = memberships.filter(
            Q(user__email__icontains=word)
            | Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
        )
    return memberships


def group_member_candidates(*, group: Group, query: str = "", limit: int = 50) -> list[Membership]:
    """Members of the account who could join the group (not in it, not being removed), found
    by email or name; at most `limit` (the picker asks for a narrower search beyond)."""
    candidates = (
        Membership.objects.filter(account_id=group.account_id)
        .exclude(status=Membership.Status.REMOVING)
        .exclude(group_links__group=group)
        .select_related("user")
        .order_by("user__email", "pk")
    )
    return list(_matching(candidates, query.strip())[: limit + 1])


def group_addable_members(*, group: Group) -> QuerySet[Membership]:
    """What the add form accepts: any member of the group's account not being removed."""
    return Membership.objects.filter(account_id=group.account_id).exclude(status=Membership.Status.REMOVING)


@dataclass(frozen=True)
class GroupRow:
    group: Group
    syncs: list[RegionSync]


def group_rows_with_sync(*, account: Account, groups: list[Group], regions: list[Region]) -> list[GroupRow]:
    """One sync state per region the account uses for each group: one query for all of them."""
    records = ProvisioningRecord.objects.filter(
        kind=ProvisioningRecord.Kind.GROUP,
        tenant=account.slug,
        object_key__in=[str(g.public_id) for g in groups],
        region__in=regions,
    )
    by_key = {(r.object_key, r.region_id): r for r in records}
    return [
        GroupRow(g, [RegionSync(region, by_key.get((str(g.public_id), region.pk))) for region in regions])
        for g in groups
    ]


def group_syncs(*, group: Group) -> list[RegionSync]:
    """The group's ledger row per region the account uses, and per region it is still being
    deleted from (a region the account stopped using, until that region confirms)."""
    regions = list(regions_of_account(account_id=group.account_id))
    used = {region.pk for region in regions}
    records = {
        r.region_id: r
        for r in ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.GROUP, tenant=group.account.slug, object_key=str(group.public_id)
        ).select_related("region")
    }
    leaving = sorted(
        (
            r.region
            for r in records.values()
            if r.region_id not in used and r.is_deletion and r.state != ProvisioningRecord.State.SYNCED
        ),
        key=lambda region: region.code,
    )
    return [RegionSync(region, records.get(region.pk)) for region in regions] + [
        RegionSync(region, records[region.pk], leaving=True) for region in leaving
    ]
