"""A person's own identity: their name, their email (verified by a signed link), their data
(export) and the identity itself (deletion). Every change reaches every region of every open
account of theirs through the ledger, in the transaction of the change.

Audit rows: one per open account the person belongs to (so each account's log says why its
regions changed), with `account=None` when they belong to none. Actor and target are the person.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails_profile, ratelimits, services
from accounts.audit import audit_record
from accounts.locks import person_lock
from accounts.models import Account, AuditEvent, GroupMember, Membership, User
from accounts.provisioning import user_desire_everywhere

EMAIL_CHANGE_SALT = "atrium.profile.email-change"
# A day, as allauth's email confirmation; override with ATRIUM_EMAIL_CHANGE_MAX_AGE (seconds).
EMAIL_CHANGE_MAX_AGE = 24 * 3600
# Each request mails an address the person typed: a few an hour are plenty, more is abuse.
EMAIL_CHANGE_REQUESTS_PER_HOUR = 5


def _audit_accounts(user: User) -> list[Account | None]:
    """The open accounts whose log records a change of this person (None: no account)."""
    belongs = Membership.objects.filter(user=user).exclude(status=Membership.Status.REMOVING)
    accounts = list(
        Account.objects.filter(pk__in=belongs.values("account_id"), closed_at__isnull=True).order_by("pk")
    )
    return accounts or [None]


def _audit_person(user: User, action: str, *, before: Mapping, after: Mapping | None) -> None:
    for account in _audit_accounts(user):
        audit_record(
            action=action, account=account, actor=user, target_type="user", target_id=user.public_id,
            target_label=user.email, before=before, after=after,
        )  # fmt: skip


# --- name ---------------------------------------------------------------------------------


@transaction.atomic
def profile_update_names(*, user: User, first_name: str, last_name: str) -> User:
    """The person renames themself; every region of every account learns the new name."""
    locked = person_lock(user) or User.objects.get(pk=user.pk)
    before = {"first_name": locked.first_name, "last_name": locked.last_name}
    after = {"first_name": first_name.strip(), "last_name": last_name.strip()}
    if before == after:
        return locked
    renamed = services.user_rename(user=locked, first_name=first_name, last_name=last_name)
    _audit_person(renamed, "profile.update", before=before, after=after)
    return renamed


# --- email --------------------------------------------------------------------------------


def _normalize(email: str) -> str:
    email = email.strip().lower()
    validate_email(email)
    return email


def _email_taken(email: str, *, by_other_than: User) -> bool:
    return (
        User.objects.filter(email__iexact=email).exclude(pk=by_other_than.pk).exists()
        or EmailAddress.objects.filter(email__iexact=email).exclude(user_id=by_other_than.pk).exists()
    )


TAKEN = "Another Atrium identity uses this address; choose another one."


def email_change_request(*, user: User, new_email: str) -> str:
    """Mail a signed, expiring link to the new address; nothing changes until it is opened.
    Returns the normalized address."""
    new_email = _normalize(new_email)
    if new_email == user.email.lower():
        raise ValidationError(
            {"new_email": ValidationError("This is already your email address.", code="same")}
        )
    if _email_taken(new_email, by_other_than=user):
        raise ValidationError({"new_email": ValidationError(TAKEN, code="taken")})
    if settings.ATRIUM_RATE_LIMITS_ENABLED and (
        ratelimits.add("profile-email-change", str(user.public_id), window=3600)
        > EMAIL_CHANGE_REQUESTS_PER_HOUR
    ):
        raise ValidationError("Too many email change requests; try again in an hour.", code="throttled")
    token = signing.dumps(
        {"u": str(user.public_id), "from": user.email, "to": new_email, "at": timezone.now().timestamp()},
        salt=EMAIL_CHANGE_SALT,
    )
    emails_profile.send_email_change_link(
        user=user, new_email=new_email, token=token, valid_hours=max(1, _max_age() // 3600)
    )
    return new_email


@dataclass(frozen=True)
class EmailChange:
    user: User
    old_email: str
    new_email: str
    issued_at: datetime


def _max_age() -> int:
    return getattr(settings, "ATRIUM_EMAIL_CHANGE_MAX_AGE", EMAIL_CHANGE_MAX_AGE)


def email_change_check(*, user: User, token: str) -> EmailChange:
    """What the link would change, or a ValidationError whose code says why it cannot:
    `invalid` (tampered), `expired`, `wrong_user`, `used` (used, or the email changed since
    it was sent), `taken` (the address went to another identity meanwhile)."""
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=_max_age())
    except signing.SignatureExpired:
        raise ValidationError(
            "This link has expired. Ask for a new one on your profile page.", code="expired"
        ) from None
    except signing.BadSignature:
        raise ValidationError(
            "This link is not valid. Copy the whole link from the mail.", code="invalid"
        ) from None
    try:
        public_id, old, new = str(payload["u"]), str(payload["from"]), str(payload["to"])
        issued_at = datetime.fromtimestamp(float(payload["at"]), tz=UTC)
    except (KeyError, TypeError, ValueError):
        raise ValidationError("This link is not valid.", code="invalid") from None
    if public_id != str(user.public_id):
        raise ValidationError(
            "This link changes the email of another Atrium identity; sign in as that person first.",
            code="wrong_user",
        )
    changed_since = AuditEvent.objects.filter(
        action="profile.email_change", target_type="user", target_id=public_id, created_at__gte=issued_at
    ).exists()
    if changed_since or user.email.lower() != old.lower():
        raise ValidationError(
            "This link was already used, or your email address changed since it was sent.", code="used"
        )
    if _email_taken(new, by_other_than=user):
        raise ValidationError(TAKEN, code="taken")
    return EmailChange(user=user, old_email=user.email, new_email=new, issued_at=issued_at)


@transaction.atomic
def email_change_confirm(*, user: User, token: str) -> User:
    """The person opened the link: their login, allauth's primary address and every region's
    `userName`/`emails` become the new address. Single use."""
    locked = person_lock(user)
    if locked is None:
        raise ValidationError("This identity no longer exists.", code="invalid")
    change = email_change_check(user=locked, token=token)
    try:
        with transaction.atomic():  # the unique constraints settle a race for the address
            locked.email = change.new_email
            locked.save(update_fields=["email"])
            addresses = EmailAddress.objects.filter(user=locked)
            addresses.filter(primary=False, email__iexact=change.new_email).delete()
            if not addresses.filter(primary=True).update(email=change.new_email, verified=True):
                EmailAddress.objects.create(user=locked, email=change.new_email, primary=True, verified=True)
    except IntegrityError:
        raise ValidationError(TAKEN, code="taken") from None
    user_desire_everywhere(locked)
    _audit_person(
        locked, "profile.email_change", before={"email": change.old_email}, after={"email": change.new_email}
    )
    old, public_id = change.old_email, locked.public_id
    transaction.on_commit(
        lambda: emails_profile.send_email_changed_notice(old_email=old, public_id=public_id)
    )
    user.email = locked.email
    return locked


# --- privacy ------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def profile_data_export(*, user: User) -> dict:
    """Everything Atrium holds about the person, as JSON-safe data (a read; nothing changes).
    Business data lives in the regions and is not Atrium's to export."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("account").prefetch_related("regions")
    )
    links = GroupMember.objects.filter(membership__user=user).select_related("group__account")
    events = (
        AuditEvent.objects.filter(actor_id=user.pk).select_related("account").order_by("created_at", "id")
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "identity": {
            "public_id": str(user.public_id),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_active": user.is_active,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "emails": [
            {"email": a.email, "primary": a.primary, "verified": a.verified}
            for a in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
        ],
        "memberships": [
            {
                "account": m.account.name,
                "account_slug": m.account.slug,
                "account_closed": m.account.is_closed,
                "role": m.role,
                "status": m.status,
                "since": _iso(m.created_at),
                "regions": "all" if m.all_regions else sorted(r.code for r in m.regions.all()),
            }
            for m in sorted(memberships, key=lambda m: m.account.slug)
        ],
        "groups": [
            {"account_slug": link.group.account.slug, "group": link.group.name, "since": _iso(link.added_at)}
            for link in sorted(links, key=lambda link: (link.group.account.slug, link.group.name))
        ],
        "audit_events_as_actor": [
            {
                "at": _iso(e.created_at),
                "account_slug": e.account.slug if e.account else None,
                "action": e.action,
                "target_type": e.target_type,
                # What they did to someone else is that person's data, not theirs: only the
                # kind of change is exported, the target and its values only when it is them.
                **(
                    {"target_id": e.target_id, "target": e.target_label, "before": e.before, "after": e.after}
                    if e.target_id == str(user.public_id)
                    else {}
                ),
                "ip": e.ip,
                "user_agent": e.user_agent,
            }
            for e in events
        ],
    }


def accounts_only_owned_by(user: User) -> list[Account]:
    """Open accounts in which this person is the last active owner (deleting them would leave
    the account without one)."""
    owned = Membership.objects.filter(
        user=user,
        role=Membership.Role.OWNER,
        status=Membership.Status.ACTIVE,
        account__closed_at__isnull=True,
    ).values("account_id")
    co_owned = (
        Membership.objects.filter(
            account_id__in=owned,
            role=Membership.Role.OWNER,
            status=Membership.Status.ACTIVE,
            user__is_active=True,
        )
        .exclude(user=user)
        .values("account_id")
    )
    return list(Account.objects.filter(pk__in=owned).exclude(pk__in=co_owned).order_by("name"))


@transaction.atomic
def identity_delete(*, user: User) -> None:
    """Delete the person's Atrium identity: removed from every region of every account (and
    from every group there). Refused while they are the last active owner of an open account;
    the audit log keeps the rows they wrote (with their email), and one saying they left."""
    locked = person_lock(user)
    if locked is None:
        return
    sole = accounts_only_owned_by(locked)
    if sole:
        names = ", ".join(account.name for account in sole)
        raise ValidationError(
            f"You are the last owner of {names}. Make someone else an owner there, or close the "
            "account, before deleting your identity.",
            code="last_owner",
        )
    _audit_person(locked, "profile.delete", before={"email": locked.email}, after=None)
    # (user_delete also re-renders the person's groups, so no region's group references them)
    services.user_delete(user=locked)
