"""Reads shaped for pages and the API."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import Account, AuditEvent, Group, GroupMember, Invitation, Membership, User
from regions.models import AccountRegion, ProvisioningRecord, Region


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

    @property
    def syncing(self) -> bool:
        return any(sync.state in _WAITING for sync in self.syncs)


_WAITING = frozenset({ProvisioningRecord.State.PENDING, ProvisioningRecord.State.RETRYING})


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


# --- the members page ------------------------------------------------------------------------
# Every read below costs a fixed number of queries, whatever the number of members: the page
# reads one page of members, then the ledger rows of exactly those members.
MEMBERS_PER_PAGE = 50
SORTS = ("email", "name", "role", "status", "joined")


@dataclass(frozen=True)
class MemberQuery:
    """What the members page shows: search words, filters and sort, as parsed from its query
    string (accounts.forms.MemberFilterForm drops unknown values before they get here)."""

    q: str = ""
    role: str = ""
    status: str = ""
    sync: str = ""  # members with at least one region in this ledger state
    group: int | None = None
    sort: str = "email"  # one of SORTS, "-" in front for descending

    def params(self) -> dict[str, str]:
        """The query string of this view (defaults left out), for page links and redirects."""
        values = {"q": self.q, "role": self.role, "status": self.status, "sync": self.sync}
        values |= {"group": "" if self.group is None else str(self.group)}
        values |= {"sort": "" if self.sort == "email" else self.sort}
        return {key: value for key, value in values.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.role or self.status or self.sync or self.group is not None)


class LedgerKeyAsUUID(Func):
    """The ledger's `object_key` of a user (their public UUID as text) as a UUID column value,
    so members can be matched by the public-id index. PostgreSQL casts (evaluated only on the
    selected rows, all user keys); SQLite (the demo) stores UUIDs as 32 hex digits."""

    output_field = UUIDField()
    template = "CAST(%(expressions)s AS uuid)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="REPLACE(%(expressions)s, '-', '')", **extra_context
        )


_ROLE_RANK = Case(
    *[When(role=role, then=Value(rank)) for rank, role in enumerate(Membership.Role.values)],
    output_field=IntegerField(),
)
_STATUS_RANK = Case(
    *[When(status=status, then=Value(rank)) for rank, status in enumerate(Membership.Status.values)],
    output_field=IntegerField(),
)
_SORT_KEYS = {
    "email": [F("user__email")],
    "name": [Lower("user__last_name"), Lower("user__first_name"), F("user__email")],
    "role": [_ROLE_RANK, F("user__email")],
    "status": [_STATUS_RANK, F("user__email")],
    "joined": [F("created_at")],
}


def _ordering(sort: str) -> list:
    descending = sort.startswith("-")
    keys = _SORT_KEYS.get(sort.lstrip("-"), _SORT_KEYS["email"]) + [F("pk")]
    return [key.desc() if descending else key.asc() for key in keys]


def _member_condition(*, account: Account, query: MemberQuery, directory: bool) -> Q:
    """Which of the account's members the query selects. Search: every word in the email,
    first or last name ("bob brown", "acme.test"). The directory (what plain members see)
    holds active members only and filters by name and role alone."""
    condition = Q()
    if directory:
        condition &= Q(status=Membership.Status.ACTIVE)
    elif query.status:
        condition &= Q(status=query.status)
    if query.role:
        condition &= Q(role=query.role)
    for word in query.q.split()[:5]:
        condition &= (
            Q(user__email__icontains=word)
            | Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
        )
    if not directory and query.group is not None:
        links = GroupMember.objects.filter(
            group_id=query.group, group__account=account, membership=OuterRef("pk")
        )
        condition &= Q(Exists(links))
    if not directory and query.sync:
        keys = ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.USER, tenant=account.slug, state=query.sync
        ).values(public_id=LedgerKeyAsUUID("object_key"))
        condition &= Q(user__public_id__in=keys)
    return condition


def members_filtered(
    *, account: Account, query: MemberQuery, directory: bool = False
) -> QuerySet[Membership]:
    """The account's members the query selects, in its order."""
    condition = _member_condition(account=account, query=query, directory=directory)
    return (
        Membership.objects.filter(account=account)
        .filter(condition)
        .select_related("user")
        .order_by(*_ordering(query.sort))
    )


def member_columns(*, account: Account, codes: list[str] | None = None) -> list[RegionColumn]:
    """One column per region the account uses, then one per region it stopped using whose
    deletions are not all confirmed yet: one query. With `codes`, exactly those regions
    (a page's live refresh keeps the columns it shows, also one whose last deletion landed)."""
    used = AccountRegion.objects.filter(account=account, region=OuterRef("pk"))
    regions = Region.objects.annotate(used=Exists(used)).order_by("code")
    if codes is not None:
        regions = regions.filter(code__in=codes)
    else:
        leaving = ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.USER,
            tenant=account.slug,
            region=OuterRef("pk"),
            desired__isnull=True,
        ).exclude(state=ProvisioningRecord.State.SYNCED)
        regions = regions.filter(Q(used=True) | Exists(leaving))
    regions = list(regions)
    return [RegionColumn(r) for r in regions if r.used] + [
        RegionColumn(r, leaving=True) for r in regions if not r.used
    ]


def member_rows(
    *, account: Account, memberships: list[Membership], columns: list[RegionColumn]
) -> list[MemberRow]:
    """Each membership with its ledger row per column: one query for all of them."""
    records = ProvisioningRecord.objects.filter(
        kind=ProvisioningRecord.Kind.USER,
        tenant=account.slug,
        object_key__in=[str(m.user.public_id) for m in memberships],
        region__in=[column.region for column in columns],
    )
    by_key = {(r.object_key, r.region_id): r for r in records} if memberships and columns else {}
    return [
        MemberRow(
            m,
            [
                RegionSync(c.region, by_key.get((str(m.user.public_id), c.region.pk)), c.leaving)
                for c in columns
            ],
        )
        for m in memberships
    ]


@dataclass(frozen=True)
class MemberCounts:
    active: int
    suspended: int
    removing: int

    @property
    def members(self) -> int:
        """Members being removed already count nowhere."""
        return self.active + self.suspended


@dataclass(frozen=True)
class MembersPage:
    page: Page
    rows: list[MemberRow]
    columns: list[RegionColumn]
    counts: MemberCounts

    @property
    def syncing(self) -> bool:
        """A region has yet to confirm a change to a member shown (the badges refresh while so)."""
        return any(row.syncing for row in self.rows)


class _CountedPaginator(Paginator):
    """A paginator told its count (read in the same query as the page's status counts)."""

    def __init__(self, object_list, per_page: int, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def members_page(
    *,
    account: Account,
    query: MemberQuery,
    page_number,
    directory: bool = False,
    per_page: int = MEMBERS_PER_PAGE,
) -> MembersPage:
    """One page of the members the query selects: the counts (matching, and by status), the
    page, and outside the directory the columns and the ledger rows of the members shown —
    four queries, whatever the size. A page number that is not one is page 1; one past the
    end is the last page."""
    condition = _member_condition(account=account, query=query, directory=directory)
    members = Membership.objects.filter(account=account)
    stats = members.aggregate(
        matching=Count("pk", filter=condition) if condition else Count("pk"),
        **{status: Count("pk", filter=Q(status=status)) for status in Membership.Status.values},
    )
    listed = members.filter(condition).select_related("user").order_by(*_ordering(query.sort))
    paginator = _CountedPaginator(listed, per_page, count=stats.pop("matching"))
    page = paginator.get_page(page_number)
    page.object_list = memberships = list(page.object_list)
    counts = MemberCounts(**stats)
    if directory:
        return MembersPage(page, [MemberRow(m, []) for m in memberships], [], counts)
    columns = member_columns(account=account)
    rows = member_rows(account=account, memberships=memberships, columns=columns)
    return MembersPage(page, rows, columns, counts)


@dataclass(frozen=True)
class MemberBadges:
    rows: list[MemberRow]
    columns: list[RegionColumn]
    # Ids asked for that are no member of this account (any more): a removal confirmed by
    # every region deletes the membership. Another account's ids land here too, unread.
    gone: list[int]

    @property
    def syncing(self) -> bool:
        return any(row.syncing for row in self.rows)


def member_badges(*, account: Account, membership_ids: list[int], region_codes: list[str]) -> MemberBadges:
    """The sync state of the members a page shows, in the regions it shows, for its live
    refresh: three queries. Only this account's ledger rows are read."""
    memberships = list(
        Membership.objects.filter(account=account, pk__in=membership_ids)
        .select_related("user")
        .order_by("pk")
    )
    columns = member_columns(account=account, codes=region_codes)
    found = {m.pk for m in memberships}
    return MemberBadges(
        member_rows(account=account, memberships=memberships, columns=columns),
        columns,
        [pk for pk in membership_ids if pk not in found],
    )


def members_of_account_by_ids(*, account: Account, membership_ids: list[int]) -> list[Membership]:
    """These memberships of the account, by email; 404 when any is not one of them (another
    account's ids are indistinguishable from missing ones)."""
    memberships = list(
        Membership.objects.filter(account=account, pk__in=membership_ids)
        .select_related("user", "account")
        .order_by("user__email", "pk")
    )
    if len(memberships) != len(set(membership_ids)):
        raise Http404("No such member")
    return memberships


def group_choices_of_account(*, account: Account) -> list[tuple[int, str]]:
    """(id, name) of the account's groups, for filters and bulk actions: one query."""
    return list(Group.objects.filter(account=account).order_by(Lower("name"), "pk").values_list("pk", "name"))


# --- the account home -----------------------------------------------------------------------
@dataclass(frozen=True)
class AccountOverview:
    active: int
    suspended: int
    removing: int
    groups: int
    invitations_pending: int

    @property
    def members(self) -> int:
        return self.active + self.suspended


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) of `queryset` (already filtered by OuterRef) as a subquery."""
    # COUNT as a plain function, not an aggregate: no GROUP BY, one row even when nothing matches.
    counted = queryset.order_by().values(n=Func(F("pk"), function="COUNT"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def account_overview(*, account: Account) -> AccountOverview:
    """What the account home counts: one query, whatever the numbers."""
    members = Membership.objects.filter(account=OuterRef("pk"))
    counts = (
        Account.objects.filter(pk=account.pk)
        .values("pk")
        .annotate(
            **{status: _count(members.filter(status=status)) for status in Membership.Status.values},
            groups=_count(Group.objects.filter(account=OuterRef("pk"))),
            invitations_pending=_count(
                Invitation.objects.filter(
                    account=OuterRef("pk"), status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
                )
            ),
        )
        .get()
    )
    counts.pop("pk")
    return AccountOverview(**counts)


def account_recent_changes(*, account: Account, limit: int = 10) -> list[AuditEvent]:
    """The latest entries of the account's audit log: one query."""
    return list(AuditEvent.objects.filter(account=account).order_by("-created_at", "-id")[:limit])
