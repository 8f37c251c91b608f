"""Reads shaped for pages and the API."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Account, Membership, User
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account


def membership_for_page(*, user: User, slug: str) -> Membership:
    """The caller's membership of the account named by `slug`.

    Another account's page is indistinguishable from a missing one (404), so slugs of
    other customers cannot be probed.
    """
    membership = (
        Membership.objects.select_related("account")
        .filter(user=user, account__slug=slug, user__is_active=True, status=Membership.Status.ACTIVE)
        .first()
    )
    if membership is None:
        raise Http404("No such account")
    return membership


def account_members_list(*, account: Account) -> QuerySet[Membership]:
    return Membership.objects.filter(account=account).select_related("user").order_by("user__email")


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("account").order_by("account__name")


@dataclass(frozen=True)
class RegionSync:
    region: Region
    record: ProvisioningRecord | None

    @property
    def state(self) -> str:
        return self.record.state if self.record else "not_sent"


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    syncs: list[RegionSync]


@dataclass(frozen=True)
class MembersOverview:
    regions: list[Region]
    rows: list[MemberRow]

    @property
    def syncing(self) -> bool:
        """A region has yet to confirm a change (the page keeps polling while this holds)."""
        waiting = {ProvisioningRecord.State.PENDING, ProvisioningRecord.State.RETRYING}
        return any(sync.state in waiting for row in self.rows for sync in row.syncs)


def account_members_with_sync(*, account: Account) -> MembersOverview:
    """Members with one sync state per region of the account: four queries, whatever the size."""
    members = list(account_members_list(account=account))
    regions = list(regions_of_account(account_id=account.pk))
    records = ProvisioningRecord.objects.filter(
        kind=ProvisioningRecord.Kind.USER,
        tenant=account.slug,
        object_key__in=[str(m.user.public_id) for m in members],
    )
    by_key = {(r.object_key, r.region_id): r for r in records}
    rows = [
        MemberRow(
            m, [RegionSync(region, by_key.get((str(m.user.public_id), region.pk))) for region in regions]
        )
        for m in members
    ]
    return MembersOverview(regions, rows)


def member_of_account(*, account: Account, membership_id: int) -> Membership:
    """A membership of this account, or 404 (another account's is indistinguishable)."""
    membership = (
        Membership.objects.select_related("user", "account").filter(pk=membership_id, account=account).first()
    )
    if membership is None:
        raise Http404("No such member")
    return membership


def sync_record_of_account(*, account: Account, record_id: int) -> ProvisioningRecord:
    record = ProvisioningRecord.objects.filter(pk=record_id, tenant=account.slug).first()
    if record is None:
        raise Http404("No such sync record")
    return record
