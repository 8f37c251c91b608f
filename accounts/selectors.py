"""Reads shaped for pages and the API."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Account, Membership, User
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account


class MembershipUnavailable(PermissionDenied):
    """The caller belongs to this account, but their membership is suspended or being
    removed: they are told so (403) rather than shown a 404 as if it did not exist."""

    def __init__(self, membership: Membership):
        self.membership = membership
        super().__init__(
            f"Your membership of {membership.account.name} is {membership.get_status_display()}."
        )


def membership_for_page(*, user: User, slug: str) -> Membership:
    """The caller's active membership of the open account named by `slug`.

    An account the caller does not belong to (or a closed one) is indistinguishable from a
    missing one (404), so slugs of other customers cannot be probed. Their own suspended or
    removing membership raises MembershipUnavailable (403 with the reason).
    """
    membership = (
        Membership.objects.select_related("account")
        .filter(user=user, account__slug=slug, account__closed_at__isnull=True, user__is_active=True)
        .first()
    )
    if membership is None:
        raise Http404("No such account")
    if not membership.is_active:
        raise MembershipUnavailable(membership)
    return membership


def account_members_list(*, account: Account) -> QuerySet[Membership]:
    """Who belongs to the account; a member being removed already counts nowhere."""
    return (
        Membership.objects.filter(account=account)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("user")
        .order_by("user__email")
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, account__closed_at__isnull=True)
        .select_related("account")
        .order_by("account__name")
    )


@dataclass(frozen=True)
class RegionColumn:
    region: Region
    # The account stopped using this region; its column stays until every deletion there is
    # confirmed, so the page never claims a removal the region has not acknowledged.
    leaving: bool = False


@dataclass(frozen=True)
class RegionSync:
    region: Region
    record: ProvisioningRecord | None
    leaving: bool = False

    @property
    def state(self) -> str:
        return self.record.state if self.record else "not_sent"

    @property
    def is_deletion(self) -> bool:
        return self.record is not None and self.record.is_deletion

    @property
    def label(self) -> str:
        if self.record is None:
            return "—" if self.leaving else "not sent"
        if self.record.is_deletion:
            return "removed" if self.state == ProvisioningRecord.State.SYNCED else f"removing: {self.state}"
        return self.state

    @property
    def retryable(self) -> bool:
        return self.state in (ProvisioningRecord.State.RETRYING, ProvisioningRecord.State.FAILED)


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    syncs: list[RegionSync]


@dataclass(frozen=True)
class MembersOverview:
    columns: list[RegionColumn]
    rows: list[MemberRow]

    @property
    def regions(self) -> list[Region]:
        return [column.region for column in self.columns if not column.leaving]

    @property
    def member_count(self) -> int:
        return sum(1 for row in self.rows if not row.membership.is_removing)

    @property
    def syncing(self) -> bool:
        """A region has yet to confirm a change (the page keeps polling while this holds)."""
        waiting = {ProvisioningRecord.State.PENDING, ProvisioningRecord.State.RETRYING}
        return any(sync.state in waiting for row in self.rows for sync in row.syncs)


def account_members_with_sync(*, account: Account) -> MembersOverview:
    """Members (those being removed included) with one sync state per region the account uses
    or is leaving: three queries, whatever the size."""
    members = list(Membership.objects.filter(account=account).select_related("user").order_by("user__email"))
    regions = list(regions_of_account(account_id=account.pk))
    records = ProvisioningRecord.objects.filter(
        kind=ProvisioningRecord.Kind.USER,
        tenant=account.slug,
        object_key__in=[str(m.user.public_id) for m in members],
    ).select_related("region")
    by_key = {(r.object_key, r.region_id): r for r in records}
    used = {region.pk for region in regions}
    leaving = {
        r.region_id: r.region
        for r in by_key.values()
        if r.region_id not in used and r.is_deletion and r.state != ProvisioningRecord.State.SYNCED
    }
    columns = [RegionColumn(region) for region in regions] + [
        RegionColumn(region, leaving=True) for region in sorted(leaving.values(), key=lambda r: r.code)
    ]
    rows = [
        MemberRow(
            m,
            [
                RegionSync(c.region, by_key.get((str(m.user.public_id), c.region.pk)), c.leaving)
                for c in columns
            ],
        )
        for m in members
    ]
    return MembersOverview(columns, rows)


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
