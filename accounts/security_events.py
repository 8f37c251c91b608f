"""Security events in the audit log: sign-ins, failures, lockouts, sign-outs and token grants to
machine clients (issue 11). MFA changes are written by accounts/mfa.py (`mfa.*`).

A sign-in concerns a person, not one account, so these rows have `account=None` and name the
person as `subject`; the audit page of every account the person belongs to *now* shows them
(accounts/selectors_audit.py). IP and user agent come from AuditContextMiddleware.

Receivers are connected in AccountsConfig.ready (importing this module). Each writes one row and
never breaks the flow it watches: a failed insert is logged, the person still signs in.
"""

import json
import logging

from allauth.account import signals as allauth_signals
from allauth.account.authentication import get_authentication_records
from allauth.core.internal.ratelimit import handler429 as allauth_handler429
from django.contrib.auth import signals as auth_signals
from django.db import connection, transaction
from django.dispatch import receiver

from accounts import ratelimits
from accounts.audit import audit_record
from accounts.middleware import token_endpoint_path
from accounts.models import User

logger = logging.getLogger(__name__)

# Action prefixes of the audit page's "security" group (also account rows: mfa.reset, sso.*).
SECURITY_ACTION_PREFIXES = ("auth.", "mfa.", "token.", "session.", "sso.", "security_policy.")
# Personal rows (account=None) an account's audit page shows for its current members.
PERSONAL_SECURITY_PREFIXES = ("auth.", "mfa.", "session.")

# One lockout row per address and limit per window: refused requests must not flood the log.
LOCKOUT_ROW_WINDOW = 60
LOCKOUT_ROWS_PER_IP = 5

# allauth's authentication record methods → our names.
_METHODS = {"password": "password", "socialaccount": "sso", "code": "code", "mfa": "mfa"}


def _safe(write) -> None:
    # An audit insert that fails (a broken database, a bug) must not fail a sign-in or a grant:
    # the event is logged instead. Inside a transaction a savepoint keeps that failure from
    # breaking the caller's transaction; outside one the insert commits on its own (cheapest).
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                write()
        else:
            write()
    except Exception:
        logger.exception("could not write a security event")


def _login_method(request, user, sociallogin) -> str:
    if sociallogin is not None:
        return "sso"
    records = get_authentication_records(request, user) if user is not None else []
    first = next((r for r in records if r.get("method") in {"password", "socialaccount", "code"}), None)
    first = first or (records[0] if records else None)  # e.g. a login by email confirmation
    method = str(first.get("method", "")) if isinstance(first, dict) else ""
    return _METHODS.get(method, method) or "unknown"


def _mfa_passed(request) -> bool:
    """Whether this session passed MFA at sign-in: Atrium's code (django-otp verified the
    session, or the MFA stage stamped `atrium_mfa_at`), or an IdP's MFA the connection trusts."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = request.session
    federated = session.get("atrium_federated") or {}
    return bool(
        session.get(DEVICE_ID_SESSION_KEY)
        or session.get("atrium_mfa_at")
        or (isinstance(federated, dict) and federated.get("mfa"))
    )


@receiver(allauth_signals.user_logged_in, dispatch_uid="accounts.security_events.login")
def login_recorded(sender, request, user, sociallogin=None, **kwargs) -> None:
    after = {"method": _login_method(request, user, sociallogin), "mfa": _mfa_passed(request)}
    if sociallogin is not None:
        after["provider"] = getattr(sociallogin.account, "provider", "")
    _personal_event("auth.login", user, after=after)


@receiver(auth_signals.user_logged_out, dispatch_uid="accounts.security_events.logout")
def logout_recorded(sender, request, user, **kwargs) -> None:
    if user is None or not getattr(user, "pk", None):
        return
    _personal_event("auth.logout", user)


def _personal_event(action: str, user, after: dict | None = None) -> None:
    """A row about the person themselves (no account; `subject` names them), never failing the
    sign-in or sign-out it records."""
    _safe(
        lambda: audit_record(
            action=action,
            account=None,
            actor=user,
            subject=user,
            target_type="user",
            target_id=user.public_id,
            target_label=user.email,
            after=after,
        )  # fmt: skip
    )


def _attempted_login(credentials: dict) -> str:
    # Django cleanses the password out of `credentials`; only the name typed is kept.
    value = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    return str(value).strip()[:254]


def _person(login: str) -> User | None:
    if not login:
        return None
    return User.objects.filter(email__iexact=login).first()


@receiver(auth_signals.user_login_failed, dispatch_uid="accounts.security_events.login_failed")
def login_failed_recorded(sender, credentials, request=None, **kwargs) -> None:
    login = _attempted_login(credentials)

    def write() -> None:
        person = _person(login)
        audit_record(
            action="auth.login_failed", account=None, subject=person, target_type="user",
            target_id=person.public_id if person else "", target_label=login,
        )  # fmt: skip

    _safe(write)


def _worth_a_row(*, limit: str, ip: str, login: str) -> bool:
    # The first refusal per (limit, address, email) in a window; at most a few per limit and address,
    # so one client cycling through made-up emails cannot fill the log.
    if ratelimits.add(f"lockout-row-{limit}", f"{ip}|{login.lower()}", window=LOCKOUT_ROW_WINDOW) != 1:
        return False
    return ratelimits.add(f"lockout-row-ip-{limit}", ip, window=LOCKOUT_ROW_WINDOW) <= LOCKOUT_ROWS_PER_IP


def lockout_record(*, request, limit: str, login: str = "") -> None:
    """allauth's rate limit refused a sign-in (or a sign-up, a password reset): one row per
    address, limit and minute, naming the email tried when there was one."""
    ip = request.META.get("REMOTE_ADDR", "") if request is not None else ""

    def write() -> None:
        if not _worth_a_row(limit=limit, ip=ip, login=login):
            return
        person = _person(login)
        audit_record(
            action="auth.lockout", account=None, subject=person, target_type="user",
            target_id=person.public_id if person else "", target_label=login, after={"limit": limit},
        )  # fmt: skip

    _safe(write)


_LIMITED_VIEWS = {
    "account_login": "login",
    "account_signup": "signup",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
}


def handler429(request, *args, **kwargs):
    """allauth answers a refused rate limit through `<ROOT_URLCONF>.handler429`: record the
    lockout, then answer as allauth does (429 and its page)."""
    match = getattr(request, "resolver_match", None)
    limit = _LIMITED_VIEWS.get(match.url_name if match else "", "")
    if limit:
        login = request.POST.get("login") or request.POST.get("email") or ""
        lockout_record(request=request, limit=limit, login=str(login)[:254])
    return allauth_handler429(request)


class TokenGrantAuditMiddleware:
    """One audit row per client-credentials grant the token endpoint issues (`token.client_
    credentials`: client id, scopes granted, audience). After AuditContextMiddleware, so the row
    has the caller's IP and user agent. Other requests pay one string comparison."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or request.path != token_endpoint_path():
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code == 200 and request.POST.get("grant_type") == "client_credentials":
            _safe(lambda: _grant_record(request, response))
        return response


def _grant_record(request, response) -> None:
    from accounts.middleware import _claimed_client_id

    # A 200 means the client authenticated (TokenEndpointGuardMiddleware refuses two methods), so
    # the client it names is the one that got the token.
    client_id = _claimed_client_id(request)[:64]
    try:
        scopes = str(json.loads(response.content).get("scope", "")).split()
    except (ValueError, AttributeError):
        scopes = request.POST.get("scope", "").split()
    audit_record(
        action="token.client_credentials", account=None, target_type="oidc_client", target_id=client_id,
        target_label=client_id, after={"scopes": scopes, "audience": request.POST.getlist("resource")},
    )  # fmt: skip
