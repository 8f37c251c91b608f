"""Reads of an account's audit log, for its page and its CSV export."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # part of the actor's email
    action: str = ""  # an action (`member.suspend`) or its start (`member`)
    target: str = ""  # part of the target's label, or its exact id or type
    date_from: date | None = None  # inclusive, in the portal's time zone
    date_to: date | None = None  # inclusive


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_of_account(*, account: Account, filters: AuditFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(account=account)
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
        AuditEvent.objects.filter(account=account)
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
