"""A person's portal sessions and the `sid` their ID tokens carry (issue 11).

Contract used by other parts (keep these names and signatures):
- `session_sid(request) -> str`: the OpenID Connect session id of this portal session (the
  `sid` claim), stable for the session's life, new after each login (the session key cycles).

A portal session is a Django session row (the database engine: deleting the row is what makes
the cookie stop working) plus a `UserSession` row for the person to see and revoke. Ending a
session here also ends the region sessions opened from it: OpenID Connect Back-Channel Logout
1.0 through the ledger (kind `logout`, regions/kinds.py), one row per region the person is
provisioned in, so a region that is down gets the logout when it returns. A logout names the
person (`sub`) and, for one session, its `sid`; "everywhere" names only `sub`.
"""

import time
import uuid
from datetime import timedelta
from importlib import import_module

from allauth.idp.oidc.models import Token
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Membership, User, UserSession
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord

SID_KEY = "atrium_sid"
# When this session last wrote its `last_seen_at` (epoch seconds), so a request costs no write
# unless a minute has passed.
SEEN_KEY = "atrium_seen_at"
TOUCH_INTERVAL_S = 60
# The object key of an "everywhere" logout (no sid): one row per person and region.
EVERYWHERE = "all"
ENDED_KEPT_FOR = timedelta(days=30)


def session_sid(request) -> str:
    sid = request.session.get(SID_KEY)
    if not sid:
        sid = request.session[SID_KEY] = uuid.uuid4().hex
    return sid


# --- devices ----------------------------------------------------------------------------------
# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari". A handful of
# substrings name what people use; a parser library would earn its place only for a long tail.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "httpx"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """ "Firefox on Linux" from a User-Agent header; "Unknown device" when nothing matches."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


# --- reads ------------------------------------------------------------------------------------
DB_SESSION_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}


def user_sessions_active(*, user: User) -> list[UserSession]:
    """The person's open portal sessions, most recently seen first (one query). A session whose
    Django session expired (or was deleted behind our back) is not open any more."""
    rows = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if settings.SESSION_ENGINE in DB_SESSION_ENGINES:
        live = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())
        rows = rows.filter(Exists(live))
    return list(rows)


def user_session_get(*, user: User, session_id: int) -> UserSession:
    """One of the person's own open sessions; another person's (or an ended one) is a 404."""
    session = UserSession.objects.filter(pk=session_id, user=user, ended_at__isnull=True).first()
    if session is None:
        raise Http404("No such session of yours")
    return session


# --- writes -----------------------------------------------------------------------------------
def _client(request) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")[:500]


@transaction.atomic
def user_session_start(*, request, user: User) -> UserSession:
    """At login (the session key has just cycled): the session's row and a fresh `sid`. The
    same person signing in again inside a live session (re-authentication) keeps that session
    and its sid, so the region sessions tied to it still end when it does."""
    if request.session.session_key is None:
        request.session.save()
    key = request.session.session_key
    ip, user_agent = _client(request)
    now = timezone.now()
    sid = request.session.get(SID_KEY)
    current = UserSession.objects.filter(user=user, sid=sid, ended_at__isnull=True).first() if sid else None
    request.session[SEEN_KEY] = int(time.time())
    if current is not None:
        current.session_key, current.last_seen_at, current.ip, current.user_agent = key, now, ip, user_agent
        current.save(update_fields=["session_key", "last_seen_at", "ip", "user_agent"])
        return current
    sid = request.session[SID_KEY] = uuid.uuid4().hex
    # Ended sessions are history the page does not show; a month of it is plenty.
    UserSession.objects.filter(user=user, ended_at__lt=now - ENDED_KEPT_FOR).delete()
    return UserSession.objects.create(
        user=user, session_key=key, sid=sid, created_at=now, last_seen_at=now, ip=ip, user_agent=user_agent
    )


def user_session_touch(*, request) -> None:
    """Last seen (and from where), written at most once a minute per session. A session that
    predates session tracking gets its row here."""
    now = time.time()
    if now - request.session.get(SEEN_KEY, 0) < TOUCH_INTERVAL_S or request.session.session_key is None:
        return
    ip, user_agent = _client(request)
    key, user = request.session.session_key, request.user
    seen = timezone.now()
    updated = UserSession.objects.filter(user=user, session_key=key, ended_at__isnull=True).update(
        last_seen_at=seen, ip=ip, user_agent=user_agent
    )
    if not updated:
        UserSession.objects.create(
            user=user, session_key=key, sid=session_sid(request), created_at=seen, last_seen_at=seen,
            ip=ip, user_agent=user_agent,
        )  # fmt: skip
    request.session[SEEN_KEY] = int(now)


@transaction.atomic
def user_session_end(*, request, user: User) -> None:
    """At logout (the session is flushed right after): its row ends, and so do the region
    sessions opened from it."""
    key, sid = request.session.session_key, request.session.get(SID_KEY)
    if key:
        UserSession.objects.filter(user=user, session_key=key, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    if sid:
        logout_desire(user=user, sid=sid)


@transaction.atomic
def user_session_revoke(*, user: User, session_id: int) -> UserSession:
    """End one of the person's own sessions (another person's id is a 404): the cookie stops
    working and the regions end the sessions opened from it."""
    session = (
        UserSession.objects.select_for_update()
        .filter(pk=session_id, user=user, ended_at__isnull=True)
        .first()
    )
    if session is None:
        raise Http404("No such session of yours")
    _sessions_end([session])
    logout_desire(user=user, sid=session.sid)
    return session


@transaction.atomic
def user_sessions_revoke_others(*, user: User, keep_session_key: str | None) -> int:
    """ "Sign out everywhere else": every session of the person but this one ends."""
    others = list(
        UserSession.objects.select_for_update()
        .filter(user=user, ended_at__isnull=True)
        .exclude(session_key=keep_session_key or "")
    )
    _sessions_end(others)
    for session in others:
        logout_desire(user=user, sid=session.sid)
    return len(others)


@transaction.atomic
def member_sign_out_everywhere(*, actor: Membership, membership: Membership) -> dict:
    """An admin ends every session of a member: portal sessions, refresh (and access) tokens of
    every client, and every region's sessions (a logout naming only `sub`). Audited."""
    if actor.account_id != membership.account_id:
        raise Http404("No such member")
    permissions.require(actor, "members.sign_out")
    if membership.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    if membership.pk == actor.pk:
        raise ValidationError("Sign yourself out on your own sessions page instead.")
    user = membership.user
    sessions = list(UserSession.objects.select_for_update().filter(user=user, ended_at__isnull=True))
    _sessions_end(sessions)
    tokens, _ = Token.objects.filter(
        user=user, type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]
    ).delete()
    regions = logout_desire(user=user, sid=None)
    result = {"sessions": len(sessions), "tokens": tokens, "regions": regions}
    audit_record(
        action="member.sign_out", account=membership.account, actor=actor.user, target_type="member",
        target_id=user.public_id, target_label=user.email, after=result,
    )  # fmt: skip
    return result


def _sessions_end(sessions: list[UserSession]) -> None:
    """Delete the Django sessions (the cookie stops working at once) and mark the rows ended."""
    if not sessions:
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in sessions:
        store(session_key=session.session_key).delete()
    UserSession.objects.filter(pk__in=[s.pk for s in sessions]).update(ended_at=timezone.now())


def logout_desire(*, user: User, sid: str | None) -> int:
    """Record a back-channel logout for every region the person is provisioned in (in the
    caller's transaction; the worker mints and posts the logout token). `sid` None: every
    session of theirs there. Returns the number of regions."""
    reached = (
        ProvisioningRecord.objects.filter(
            kind=ProvisioningRecord.Kind.USER, object_key=str(user.public_id), acked_version__gt=0
        )
        # A confirmed removal there already ended those sessions (SCIM).
        .exclude(desired__isnull=True, state=ProvisioningRecord.State.SYNCED)
        .select_related("region")
        .order_by("region_id", "tenant")
    )
    # One logout per region (the token's audience is the region, not a tenant); the row is
    # filed under the first of the person's tenants there.
    by_region = {}
    for record in reached:
        by_region.setdefault(record.region_id, record)
    desired = {"sub": str(user.public_id)} | ({"sid": sid} if sid else {})
    for record in by_region.values():
        ledger_desire(
            kind=ProvisioningRecord.Kind.LOGOUT,
            tenant=record.tenant,
            object_key=f"{user.public_id}:{sid or EVERYWHERE}",
            regions=[record.region],
            desired=desired,
        )
    return len(by_region)


# --- signals (connected when AccountsConfig.ready imports this module) -------------------------
@receiver(user_logged_in, dispatch_uid="accounts.sessions.login")
def _on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_start(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts.sessions.logout")
def _on_logout(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and user is not None:
        user_session_end(request=request, user=user)
