"""Reads for the directory API on Atrium's machine port (portal/urls_machine.py): a region's
services read the users and groups of their tenants.

A region sees a tenant only while the account is open and uses that region, and of its members
only those provisioned there: the members accounts/provisioning.py sends to that region
(`granted_region_ids`, written here as SQL so pages are cut by the database). Suspended members
(and deactivated identities) are provisioned with `active: false`, so they are listed with
`active: false` too; members without access to the region and members being removed are not
listed. A fixed number of queries per page, whatever the account's size.
"""

import base64
import binascii
import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q

from accounts.models import Account, Group, GroupMember, Membership
from regions.models import Region

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
_CURSOR_PREFIX = b"u1:"


class DirectoryNotFound(Exception):
    """No such tenant here: it does not exist, is closed, or does not use the calling region
    (one answer for all, so a region cannot learn which tenants exist elsewhere)."""


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class UsersPage:
    users: list[dict]
    next_cursor: str | None


def directory_account(*, region: Region, slug: str) -> Account:
    account = (
        Account.objects.filter(slug=slug, closed_at__isnull=True, account_regions__region=region)
        .only("pk", "slug", "name")
        .first()
    )
    if account is None:
        raise DirectoryNotFound(slug)
    return account


def _provisioned_in(region: Region, prefix: str = "") -> Q:
    """Memberships provisioned in `region` (of an account that uses it): the SQL form of
    accounts.provisioning.granted_region_ids, minus members being removed."""
    chosen = Membership.regions.through.objects.filter(membership_id=OuterRef(f"{prefix}pk"), region=region)
    return ~Q(**{f"{prefix}status": Membership.Status.REMOVING}) & (
        Q(**{f"{prefix}all_regions": True}) | Exists(chosen)
    )


def cursor_encode(public_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(_CURSOR_PREFIX + public_id.hex.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> uuid.UUID:
    """The last user id of the previous page. Keyset pagination on the immutable public id:
    members added or removed between pages never shift the others (no repeats, no gaps)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("The cursor is malformed.") from exc
    if not raw.startswith(_CURSOR_PREFIX) or len(raw) != len(_CURSOR_PREFIX) + 32:
        raise InvalidCursor("The cursor is malformed.")
    try:
        return uuid.UUID(hex=raw[len(_CURSOR_PREFIX) :].decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("The cursor is malformed.") from exc


def directory_users(
    *, account: Account, region: Region, after: uuid.UUID | None = None, limit: int = DEFAULT_LIMIT
) -> UsersPage:
    """One page of the members provisioned in `region`, by public id; two queries."""
    memberships = (
        Membership.objects.filter(_provisioned_in(region), account=account)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "group_links",
                queryset=GroupMember.objects.select_related("group")
                .only("membership_id", "group__public_id")
                .order_by("group__public_id"),
            )
        )
        .order_by("user__public_id")
    )
    if after is not None:
        memberships = memberships.filter(user__public_id__gt=after)
    page = list(memberships[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    users = [
        {
            "id": str(m.user.public_id),
            "email": m.user.email,
            "display_name": m.user.display_name,
            "role": m.role,
            # What the region holds (accounts.provisioning.member_scim_resource's `active`).
            "active": m.is_active and m.user.is_active,
            "groups": [str(link.group.public_id) for link in m.group_links.all()],
        }
        for m in page
    ]
    return UsersPage(users=users, next_cursor=cursor_encode(page[-1].user.public_id) if more else None)


def directory_groups(*, account: Account, region: Region) -> list[dict]:
    """Every group of the account, naming only the members provisioned in `region` (what the
    region's own copy of the group holds); two queries."""
    links = (
        GroupMember.objects.filter(_provisioned_in(region, "membership__"))
        .select_related("membership__user")
        .only("group_id", "membership__user__public_id")
        .order_by("membership__user__public_id")
    )
    groups = Group.objects.filter(account=account).prefetch_related(Prefetch("links", queryset=links))
    return [
        {
            "id": str(group.public_id),
            "name": group.name,
            "members": [str(link.membership.user.public_id) for link in group.links.all()],
        }
        for group in groups.order_by("name", "public_id")
    ]
