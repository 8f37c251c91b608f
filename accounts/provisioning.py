"""What the regions must hold for a member: accounts renders the SCIM representation and
records it through the regions ledger, in the transaction that changes the member."""

from collections.abc import Iterable

from accounts.models import Group, GroupMember, Membership, User
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account

SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


def member_scim_resource(membership: Membership) -> dict:
    user = membership.user
    return {
        "schemas": [SCIM_USER_SCHEMA],
        "externalId": str(user.public_id),
        "userName": user.email,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.display_name,
        "emails": [{"value": user.email, "primary": True, "type": "work"}],
        "active": membership.is_active and user.is_active,
    }


def member_desire_everywhere(
    membership: Membership, *, removed: bool = False, regions: Iterable[Region] | None = None
) -> list[ProvisioningRecord]:
    """Record the member's representation (None for a removal) in the account's regions.

    A membership being removed always desires absence, whoever calls: nothing may re-create
    it in a region while its deletion is on the way."""
    # Callers pass regions the account uses (a back-fill passes the one just added).
    regions = list(regions_of_account(account_id=membership.account_id) if regions is None else regions)
    absent = removed or membership.is_removing
    key = str(membership.user.public_id)
    if absent:
        return _desire_member(membership, key, regions, None)
    granted = granted_region_ids(membership, {region.pk for region in regions})
    inside = [region for region in regions if region.pk in granted]
    outside = [region for region in regions if region.pk not in granted]
    # Regions outside the member's access must not hold them (a no-op where never sent).
    return _desire_member(membership, key, inside, member_scim_resource(membership)) + _desire_member(
        membership, key, outside, None
    )


def _desire_member(membership: Membership, key: str, regions: list[Region], desired: dict | None):
    if not regions:
        return []
    return ledger_desire(
        kind=ProvisioningRecord.Kind.USER,
        tenant=membership.account.slug,
        object_key=key,
        regions=regions,
        desired=desired,
    )


def granted_region_ids(membership: Membership, used: set[int]) -> set[int]:
    """Which of the account's regions `used` this member is provisioned in: all of them, or
    their chosen subset (read through `regions.all()`, so a prefetch makes it free)."""
    if membership.all_regions:
        return used
    return used & {region.pk for region in membership.regions.all()}


def user_desire_everywhere(user: User, *, removed: bool = False) -> None:
    """The identity changed (active flag, name) or goes away: every open account of theirs
    learns it in every region it uses. Memberships being removed already desire absence."""
    memberships = (
        Membership.objects.filter(user=user, account__closed_at__isnull=True)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("account", "user")
    )
    for membership in memberships:
        membership.user = user  # the caller's (possibly just changed) instance
        member_desire_everywhere(membership, removed=removed)


def member_removal_unconfirmed(membership: Membership) -> int:
    """How many regions have yet to confirm that they no longer hold this member."""
    return (
        ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.USER,
            tenant=membership.account.slug,
            object_key=str(membership.user.public_id),
        )
        .exclude(state=ProvisioningRecord.State.SYNCED, desired__isnull=True)
        .count()
    )


def group_desire_everywhere(
    group: Group, *, removed: bool = False, regions: Iterable[Region] | None = None
) -> list[ProvisioningRecord]:
    """Record the group in every region its account uses. Each region's representation names
    only the members provisioned there (regions.kinds.GroupKind's contract: the group is sent
    after they are synced there; membership changes go as PATCH of `members`).

    A region whose representation would not change gets no new version: adding a member who
    is only in EU sends nothing to US. Callers looping over an account's groups pass its
    regions (read once)."""
    regions = list(regions_of_account(account_id=group.account_id) if regions is None else regions)
    key = str(group.public_id)
    tenant = group.account.slug
    current = dict(
        ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.GROUP, tenant=tenant, object_key=key
        ).values_list("region_id", "desired")
    )
    if removed:
        changed = [region for region in regions if current.get(region.pk) is not None]
        return ledger_desire(
            kind=ProvisioningRecord.Kind.GROUP, tenant=tenant, object_key=key, regions=changed, desired=None
        )
    links = list(
        GroupMember.objects.filter(group=group)
        .exclude(membership__status=Membership.Status.REMOVING)
        .select_related("membership__user")
        .prefetch_related("membership__regions")
        .order_by("membership__user__public_id")
    )
    used = {region.pk for region in regions}
    records = []
    for region in regions:
        desired = {
            "schemas": [SCIM_GROUP_SCHEMA],
            "externalId": key,
            "displayName": group.name,
            "members": [
                {"externalId": str(link.membership.user.public_id)}
                for link in links
                if region.pk in granted_region_ids(link.membership, used)
            ],
        }
        if current.get(region.pk) == desired:
            continue
        records += ledger_desire(
            kind=ProvisioningRecord.Kind.GROUP,
            tenant=tenant,
            object_key=key,
            regions=[region],
            desired=desired,
        )
    return records


def groups_of_member_desire(membership: Membership) -> None:
    """The member's provisioning changed (removed, region access changed): every group they
    are in is re-rendered, so no region's group references a user it does not hold."""
    groups = list(Group.objects.filter(links__membership=membership).select_related("account"))
    if groups:
        regions = list(regions_of_account(account_id=membership.account_id))
        for group in groups:
            group_desire_everywhere(group, regions=regions)
