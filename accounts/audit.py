"""The audit log's one writer. Services call `audit_record` inside the transaction of the
change, so a change and its audit row commit or roll back together. Who made the request and
from where (IP, user agent) come from the request being served (AuditContextMiddleware), or
are empty for changes made by commands, the worker or tests outside a request.
"""

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounts.models import Account, AuditEvent, User


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str


_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_context", default=None
)


def audit_record(
    *,
    action: str,
    account: Account | None,
    actor: User | None = None,
    target_type: str = "",
    target_id: Any = "",
    target_label: str = "",
    before: Mapping | None = None,
    after: Mapping | None = None,
    subject: User | None = None,
) -> AuditEvent:
    """Write one audit row. `action` is `<noun>.<verb>` (`member.suspend`, `invitation.create`);
    `before`/`after` hold only what changed, as JSON-safe values. `subject` is the person a
    personal row (account=None) concerns; it defaults to the actor there, so the audit pages of
    the person's accounts can show their sign-ins and MFA changes (accounts/selectors_audit.py)."""
    context = _context.get()
    actor = actor if actor is not None and getattr(actor, "pk", None) else None
    if subject is None and account is None:
        subject = actor
    subject = subject if subject is not None and getattr(subject, "pk", None) else None
    return AuditEvent.objects.create(
        account=account,
        actor=actor,
        actor_email=actor.email if actor else "",
        subject=subject,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=str(target_label)[:255],
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        ip=context.ip if context else None,
        user_agent=context.user_agent[:500] if context else "",
    )


class AuditContextMiddleware:
    """Remembers the request's client address and user agent for audit rows written while it
    is served. REMOTE_ADDR is the peer; behind a proxy, set it from the proxy's header there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _context.set(
            RequestContext(
                ip=request.META.get("REMOTE_ADDR") or None,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        )
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)
