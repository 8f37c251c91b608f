"""What the regions must hold for a member: accounts renders the SCIM representation and
records it through the regions ledger, in the transaction that changes the member."""

from collections.abc import Iterable

from accounts.models import Membership, User
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account

SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


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
    if regions is None:
        regions = regions_of_account(account_id=membership.account_id)
    absent = removed or membership.is_removing
    return ledger_desire(
        kind=ProvisioningRecord.Kind.USER,
        tenant=membership.account.slug,
        object_key=str(membership.user.public_id),
        regions=regions,
        desired=None if absent else member_scim_resource(membership),
    )


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
