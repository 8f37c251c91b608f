"""Reads of an account's audit log, for its page and its CSV export."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, AuditEvent, Membership, User
from accounts.security_events import PERSONAL_SECURITY_PREFIXES, SECURITY_ACTION_PREFIXES

PAGE_SIZE = 50
GROUPS = {"security": SECURITY_ACTION_PREFIXES}


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # part of the actor's email
    action: str = ""  # an action (`member.suspend`) or its start (`member`)
    target: str = ""  # part of the target's label, or its exact id or type
    date_from: date | None = None  # inclusive, in the portal's time zone
    date_to: date | None = None  # inclusive
    group: str = ""  # a group of actions (GROUPS): "security"
    member: User | None = None  # a current member: what they did and what concerns them


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _starts_with_any(field: str, prefixes: tuple[str, ...]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{f"{field}__startswith": prefix})
    return condition


def _current_member_ids(account: Account):
    # Members now (active or suspended): someone removed, or not yet joined, is not shown.
    return (
        Membership.objects.filter(account=account)
        .exclude(status=Membership.Status.REMOVING)
        .values("user_id")
    )


def current_member_by_email(*, account: Account, email: str) -> User | None:
    """The person with that email who is a member of the account now, else None (one query)."""
    membership = (
        Membership.objects.filter(account=account, user__email__iexact=email)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def audit_events_of_account(*, account: Account, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The account's own rows, and the personal security events (sign-ins, failures, MFA, with
    account=None) of the people who are its members now: never another person's."""
    personal = (
        Q(account__isnull=True)
        & _starts_with_any("action", PERSONAL_SECURITY_PREFIXES)
        & Q(subject_id__in=_current_member_ids(account))
    )
    events = AuditEvent.objects.filter(Q(account=account) | personal)
    if filters.group:
        events = events.filter(_starts_with_any("action", GROUPS[filters.group]))
    if filters.member is not None:
        user = filters.member
        events = events.filter(
            Q(subject_id=user.pk)
            | Q(actor_id=user.pk)
            | Q(target_type="member", target_id=str(user.public_id))
        )
    if filters.actor:
        events = events.filter(actor_email__icontains=filters.actor.strip())
    if filters.action:
        events = events.filter(action__istartswith=filters.action.strip())
    if filters.target:
        target = filters.target.strip()
        events = events.filter(
            Q(target_label__icontains=target) | Q(target_id=target) | Q(target_type__iexact=target)
        )
    if filters.date_from:
        events = events.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to and filters.date_to < date.max:  # the calendar's last day has no next day
        events = events.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent

    @property
    def changes(self) -> list[Change]:
        """before → after per changed field, in name order (a creation has no before, a
        deletion no after); the CSV keeps the rows' full JSON."""
        before, after = self.event.before or {}, self.event.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return [Change("", _show(self.event.before), _show(self.event.after))]
        fields = sorted(set(before) | set(after))
        return [
            Change(f, _show(before.get(f)), _show(after.get(f)))
            for f in fields
            if f not in before or f not in after or before[f] != after[f]
        ]


def audit_page(*, account: Account, filters: AuditFilters, page_number: str | int | None) -> Page:
    """One page of 50 rows, newest first: two queries (count and rows) at any size."""
    page = Paginator(audit_events_of_account(account=account, filters=filters), PAGE_SIZE).get_page(
        page_number
    )
    page.object_list = [AuditRow(event) for event in page.object_list]
    return page


def audit_actions_of_account(*, account: Account) -> list[str]:
    """The actions that occur in the log (suggestions for the filter)."""
    return list(
        audit_events_of_account(account=account, filters=AuditFilters())
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


CSV_HEADER = [
    "time", "actor_email", "action", "target_type", "target_id", "target", "before", "after", "ip",
    "user_agent",
]  # fmt: skip


def audit_csv_rows(*, account: Account, filters: AuditFilters) -> Iterator[list[str]]:
    """The filtered rows as CSV cells (not yet escaped), read in chunks from a cursor."""
    yield CSV_HEADER
    events = audit_events_of_account(account=account, filters=filters)
    for e in events.iterator(chunk_size=1000):
        yield [
            e.created_at.isoformat(), e.actor_email, e.action, e.target_type, e.target_id, e.target_label,
            _show(e.before), _show(e.after), e.ip or "", e.user_agent,
        ]  # fmt: skip
