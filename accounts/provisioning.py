"""What the regions must hold for a member: accounts renders the SCIM representation and
records it through the regions ledger, in the transaction that changes the member."""

from accounts.models import Membership
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord
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


def member_desire_everywhere(membership: Membership, *, removed: bool = False, regions=None) -> None:
    if regions is None:
        regions = regions_of_account(account_id=membership.account_id)
    ledger_desire(
        kind=ProvisioningRecord.Kind.USER,
        tenant=membership.account.slug,
        object_key=str(membership.user.public_id),
        regions=regions,
        desired=None if removed else member_scim_resource(membership),
    )
