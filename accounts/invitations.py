"""Invitations: an admin invites one person (or many, from a CSV file) to an account with a role,
region access and groups; the invitee accepts through a signed, single-use, expiring link.

The link carries `<public id>.<key>` signed with a salt of its own: a tampered link fails the
signature before any lookup, and only the SHA-256 of the key is stored (`key_hash`), so neither
a database reader nor a guesser can accept an invitation. Resending draws a new key, so every
earlier link stops working. Services re-check the actor's permission (accounts/permissions.py),
take the account's row lock first (the lock order of accounts/services.py), audit inside their
transaction, and send mail on commit.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts import invitations_csv, permissions, security_policy, services
from accounts.audit import audit_record
from accounts.emails_invitations import send_invitations
from accounts.groups import group_members_add
from accounts.invitations_csv import InvitationImportError, RowError
from accounts.locks import account_lock
from accounts.models import Account, Group, Invitation, Membership, User
from regions.models import Region
from regions.selectors import regions_of_account

SIGNING_SALT = "accounts.invitations.link"
ROLE_CHOICES = dict(Membership.Role.choices)


def invitation_days() -> int:
    return getattr(settings, "ATRIUM_INVITATION_DAYS", 7)


# --- the link ---------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNING_SALT)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_link(public_id: uuid.UUID) -> tuple[str, str]:
    """A fresh key and the signed token carrying it: (token, key hash)."""
    key = secrets.token_urlsafe(32)
    return _signer().sign(f"{public_id.hex}.{key}"), _key_hash(key)


class InvitationUnusable(Exception):
    """The link cannot be used; `reason` says why (the invite page words it)."""

    class Reason(StrEnum):
        EXPIRED = "expired"
        REVOKED = "revoked"
        USED = "used"
        INVALID = "invalid"  # unsigned, tampered, unknown, or replaced by a resend
        CLOSED = "closed"

    def __init__(self, reason: "InvitationUnusable.Reason", invitation: Invitation | None = None):
        self.reason = reason
        # Set only once the link is proven ours (signature and key), never for INVALID.
        self.invitation = invitation
        super().__init__(f"This invitation cannot be used: {reason}.")


class InvitationSignInRequired(Exception):
    """An identity with the invited address exists: its owner accepts signed in with it."""

    def __init__(self, invitation: Invitation):
        self.invitation = invitation
        super().__init__(f"Sign in as {invitation.email} to accept.")


class InvitationForAnotherAddress(PermissionDenied):
    """The person signed in is not the one invited; the invitation stays untouched."""

    def __init__(self, invitation: Invitation, user: User):
        self.invitation = invitation
        self.user = user
        super().__init__(f"This invitation is for {invitation.email}, not {user.email}.")


def invitation_for_token(*, token: str) -> Invitation:
    """The pending invitation a link names, or InvitationUnusable with the reason."""
    try:
        value = _signer().unsign(token or "")
        public_hex, key = value.split(".", 1)
        public_id = uuid.UUID(hex=public_hex)
    except (signing.BadSignature, ValueError) as exc:
        raise InvitationUnusable(InvitationUnusable.Reason.INVALID) from exc
    invitation = (
        Invitation.objects.select_related("account", "invited_by").filter(public_id=public_id).first()
    )
    if invitation is None or not hmac.compare_digest(invitation.key_hash, _key_hash(key)):
        raise InvitationUnusable(InvitationUnusable.Reason.INVALID)
    _raise_if_unusable(invitation)
    return invitation


def _raise_if_unusable(invitation: Invitation) -> None:
    Reason = InvitationUnusable.Reason
    if invitation.account.is_closed:
        raise InvitationUnusable(Reason.CLOSED, invitation)
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationUnusable(Reason.REVOKED, invitation)
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationUnusable(Reason.USED, invitation)
    if invitation.is_expired:
        raise InvitationUnusable(Reason.EXPIRED, invitation)
    if invitation.role == Membership.Role.OWNER and not _inviter_still_owner(invitation):
        # An owner invitation carries its inviter's ownership: once they are no longer an
        # active owner (demoted, suspended, gone), it could only restore what was taken away.
        raise InvitationUnusable(Reason.REVOKED, invitation)


def _inviter_still_owner(invitation: Invitation) -> bool:
    return Membership.objects.filter(
        account_id=invitation.account_id, user_id=invitation.invited_by_id, role=Membership.Role.OWNER,
        status=Membership.Status.ACTIVE, user__is_active=True,
    ).exists()  # fmt: skip


def identity_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


# --- what an invitation may hold ----------------------------------------------------------------


@dataclass
class _Draft:
    email: str
    first_name: str = ""
    last_name: str = ""
    role: str = Membership.Role.MEMBER
    regions: list[Region] | None = None  # None: every region the account uses, also later ones
    groups: list[Group] = field(default_factory=list)


@dataclass
class _Directory:
    """What the checks need to know about the account, read once per request."""

    account: Account
    regions: dict[str, Region]  # by code
    groups: dict[str, Group]  # by lowercased name
    member_status: dict[str, str]  # lowercased email -> membership status
    pending: dict[str, Invitation]  # lowercased email -> pending invitation

    @classmethod
    def load(cls, account: Account, emails: Iterable[str]) -> "_Directory":
        emails = sorted({e.lower() for e in emails if e})
        members = (
            Membership.objects.filter(account=account)
            .annotate(lower_email=Lower("user__email"))
            .filter(lower_email__in=emails)
            .values_list("lower_email", "status")
        )
        pending = (
            Invitation.objects.filter(account=account, status=Invitation.Status.PENDING)
            .annotate(lower_email=Lower("email"))
            .filter(lower_email__in=emails)
        )
        return cls(
            account=account,
            regions={r.code: r for r in regions_of_account(account_id=account.pk)},
            groups={g.name.lower(): g for g in Group.objects.filter(account=account)},
            member_status=dict(members),
            pending={i.lower_email: i for i in pending},
        )


def _problems(draft: _Draft, directory: _Directory, actor: Membership | None) -> list[tuple[str, str]]:
    """Every reason this draft cannot be sent, as (field, message)."""
    account = directory.account
    problems: list[tuple[str, str]] = []
    try:
        validate_email(draft.email)
    except ValidationError:
        message = f"“{draft.email}” is not a valid email address." if draft.email else "The email is missing."
        problems.append(("email", message))
    else:
        if len(draft.email) > 254:
            problems.append(("email", "Email addresses are at most 254 characters."))
        problems += _email_problems(draft.email, directory)
        problems += security_policy.invitation_domain_problems(email=draft.email, directory=directory)
    for name, value in (("first_name", draft.first_name), ("last_name", draft.last_name)):
        if len(value) > 150:
            problems.append((name, "Names are at most 150 characters."))
    if draft.role not in ROLE_CHOICES:
        roles = ", ".join(ROLE_CHOICES)
        problems.append(("role", f"“{draft.role}” is not a role; use one of {roles}."))
    elif draft.role == Membership.Role.OWNER and not _may_handle_owners(actor):
        problems.append(("role", "Only an owner can invite an owner."))
    used = {r.pk for r in directory.regions.values()}
    for region in draft.regions or []:
        if region.pk not in used:
            problems.append(("regions", f"{account.name} does not use region {region.code}."))
    ours = {g.pk for g in directory.groups.values()}
    for group in draft.groups:
        if group.pk not in ours:
            problems.append(("groups", f"{account.name} has no group “{group.name}”."))
    return problems


def _email_problems(email: str, directory: _Directory, *, pending: bool = True) -> list[tuple[str, str]]:
    name = directory.account.name
    status = directory.member_status.get(email)
    if status == Membership.Status.REMOVING:
        return [
            (
                "email",
                f"{email} is still being removed from {name}'s regions; invite them again once "
                "the removal is confirmed (their row leaves the members page).",
            )
        ]
    if status == Membership.Status.SUSPENDED:
        return [("email", f"{email} is already a member of {name} (suspended); reactivate them instead.")]
    if status is not None:
        return [("email", f"{email} is already a member of {name}.")]
    invitation = directory.pending.get(email) if pending else None
    if invitation is not None:
        if invitation.is_expired:
            return [("email", f"{email}'s invitation has expired; resend it instead of inviting again.")]
        return [("email", f"{email} already has a pending invitation; resend it instead.")]
    return []


def _clean_draft(draft: _Draft) -> _Draft:
    draft.email = (draft.email or "").strip().lower()
    draft.first_name = (draft.first_name or "").strip()
    draft.last_name = (draft.last_name or "").strip()
    return draft


# --- writing ------------------------------------------------------------------------------------


def _fresh_actor(actor: Membership | None, account: Account, action: str) -> Membership | None:
    """The actor's membership as it is now (a role changed a second ago counts), checked.
    None is an operator or a command acting for the account."""
    if actor is None:
        return None
    current = Membership.objects.select_related("user").filter(pk=actor.pk, account=account).first()
    if current is None:
        raise PermissionDenied("Not a member of this account.")
    permissions.require(current, action)
    return current


def _may_handle_owners(actor: Membership | None) -> bool:
    return actor is None or permissions.can(actor, "members.manage_owners")


def _refuse_if_closed(account: Account) -> None:
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")


def _summary(invitation: Invitation, draft: _Draft) -> dict:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "regions": "all" if draft.regions is None else sorted(r.code for r in draft.regions),
        "groups": sorted(g.name for g in draft.groups),
        "expires_at": invitation.expires_at.isoformat(),
    }


def _create_many(
    *, account: Account, actor: Membership | None, drafts: list[_Draft], via: str
) -> list[Invitation]:
    """Insert the (already checked) drafts, audit each, and send their mail on commit."""
    now = timezone.now()
    expires_at = now + timedelta(days=invitation_days())
    inviter = actor.user if actor else None
    invitations, tokens = [], []
    for draft in drafts:
        invitation = Invitation(
            account=account, email=draft.email, first_name=draft.first_name, last_name=draft.last_name,
            role=draft.role, all_regions=draft.regions is None, invited_by=inviter, expires_at=expires_at,
            created_at=now, last_sent_at=now, send_count=1,
        )  # fmt: skip
        token, invitation.key_hash = _new_link(invitation.public_id)
        invitations.append(invitation)
        tokens.append(token)
    try:
        with transaction.atomic():
            Invitation.objects.bulk_create(invitations, batch_size=500)
    except IntegrityError as exc:  # a concurrent invitation of the same person
        raise ValidationError("Someone invited one of these people meanwhile; try again.") from exc
    Invitation.regions.through.objects.bulk_create(
        [
            Invitation.regions.through(invitation_id=invitation.pk, region_id=region.pk)
            for invitation, draft in zip(invitations, drafts, strict=True)
            for region in draft.regions or []
        ],
        batch_size=1000,
    )
    Invitation.groups.through.objects.bulk_create(
        [
            Invitation.groups.through(invitation_id=invitation.pk, group_id=group.pk)
            for invitation, draft in zip(invitations, drafts, strict=True)
            for group in draft.groups
        ],
        batch_size=1000,
    )
    for invitation, draft, token in zip(invitations, drafts, tokens, strict=True):
        invitation.link_token = token  # only on the instance returned here; never stored
        audit_record(
            action="invitation.create", account=account, actor=inviter, target_type="invitation",
            target_id=invitation.public_id, target_label=invitation.email,
            after={**_summary(invitation, draft), "via": via},
        )  # fmt: skip
    items = [(invitation.pk, token) for invitation, token in zip(invitations, tokens, strict=True)]
    # robust: a mail outage must not turn the committed invitations into an error page (resend).
    transaction.on_commit(lambda: send_invitations(items=items), robust=True)
    return invitations


@transaction.atomic
def invitation_create(
    *,
    account: Account,
    actor: Membership | None,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Membership.Role.MEMBER,
    regions: Iterable[Region] | None = None,
    groups: Iterable[Group] | None = None,
) -> Invitation:
    """Invite one person. `regions` None gives access to every region the account uses (also
    those it adds later); a list gives exactly those. Problems raise one ValidationError keyed
    by field."""
    account = account_lock(account.pk)
    actor = _fresh_actor(actor, account, "members.invite")
    _refuse_if_closed(account)
    draft = _clean_draft(
        _Draft(
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            regions=None if regions is None else list(regions),
            groups=list(groups or []),
        )
    )
    if draft.role == Membership.Role.OWNER and actor is not None:
        permissions.require(actor, "members.manage_owners")
    problems = _problems(draft, _Directory.load(account, [draft.email]), actor)
    if problems:
        errors: dict[str, list[str]] = {}
        for name, message in problems:
            errors.setdefault(name, []).append(message)
        raise ValidationError(errors)
    return _create_many(account=account, actor=actor, drafts=[draft], via="form")[0]


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: Membership | None) -> Invitation:
    """A new key and a new expiry, mailed again: every earlier link of it stops working."""
    account = account_lock(invitation.account_id)
    actor = _fresh_actor(actor, account, "members.invite")
    _refuse_if_closed(account)
    invitation = _lock_pending(invitation, actor)
    # Its own pending row is no reason to refuse; having joined meanwhile is.
    problems = _email_problems(invitation.email, _Directory.load(account, [invitation.email]), pending=False)
    if problems:
        raise ValidationError(problems[0][1])
    before = {"expires_at": invitation.expires_at.isoformat(), "send_count": invitation.send_count}
    now = timezone.now()
    token, invitation.key_hash = _new_link(invitation.public_id)
    invitation.expires_at = now + timedelta(days=invitation_days())
    invitation.last_sent_at = now
    invitation.send_count += 1
    invitation.save(update_fields=["key_hash", "expires_at", "last_sent_at", "send_count"])
    audit_record(
        action="invitation.resend", account=account, actor=actor.user if actor else None,
        target_type="invitation", target_id=invitation.public_id, target_label=invitation.email,
        before=before,
        after={"expires_at": invitation.expires_at.isoformat(), "send_count": invitation.send_count},
    )  # fmt: skip
    items = [(invitation.pk, token)]
    transaction.on_commit(lambda: send_invitations(items=items), robust=True)
    invitation.link_token = token
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Membership | None) -> Invitation:
    account = account_lock(invitation.account_id)
    actor = _fresh_actor(actor, account, "members.invite")
    invitation = _lock_pending(invitation, actor)
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    audit_record(
        action="invitation.revoke", account=account, actor=actor.user if actor else None,
        target_type="invitation", target_id=invitation.public_id, target_label=invitation.email,
        before={"status": Invitation.Status.PENDING}, after={"status": Invitation.Status.REVOKED},
    )  # fmt: skip
    return invitation


def _lock_pending(invitation: Invitation, actor: Membership | None) -> Invitation:
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(pk=invitation.pk, account_id=invitation.account_id)
        .first()
    )
    if locked is None:
        raise Http404("No such invitation")
    if locked.status != Invitation.Status.PENDING:
        raise ValidationError(
            f"The invitation of {locked.email} was already {locked.get_status_display().lower()}."
        )
    if locked.role == Membership.Role.OWNER and not _may_handle_owners(actor):
        raise PermissionDenied("Only an owner can resend or revoke an owner's invitation.")
    return locked


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Accept a link. `user` is the person signed in (who must be the one invited); without
    one, a new identity is created with `password` (validated) and a verified email, unless
    an identity with that email exists (InvitationSignInRequired: they sign in first)."""
    found = invitation_for_token(token=token)
    if user is not None:  # the person before the account (accounts.services' lock order)
        User.objects.select_for_update().filter(pk=user.pk).first()
    account = account_lock(found.account_id)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("account", "invited_by")
        .get(pk=found.pk)
    )
    if invitation.key_hash != found.key_hash:  # resent while we waited for the lock
        raise InvitationUnusable(InvitationUnusable.Reason.INVALID)
    _raise_if_unusable(invitation)  # accepted or revoked while we waited: `used`, `revoked`
    if user is not None:
        if user.email.lower() != invitation.email.lower():
            raise InvitationForAnotherAddress(invitation, user)
    elif identity_exists(email=invitation.email):
        raise InvitationSignInRequired(invitation)
    else:
        user = _identity_create(invitation, password, first_name, last_name)
    membership = Membership.objects.filter(account=account, user=user).first()
    joined = membership is None or membership.is_removing
    if joined:
        # membership_add refuses a person still being removed (a form error naming why).
        membership = _membership_grant(account, user, invitation)
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    audit_record(
        action="invitation.accept", account=account, actor=user, target_type="invitation",
        target_id=invitation.public_id, target_label=invitation.email,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.ACCEPTED, "membership": membership.pk, "role": membership.role,
               "already_member": not joined},
    )  # fmt: skip
    return membership


def _identity_create(invitation: Invitation, password: str | None, first_name: str, last_name: str) -> User:
    first_name = (first_name or invitation.first_name).strip()[:150]
    last_name = (last_name or invitation.last_name).strip()[:150]
    candidate = User(email=invitation.email.lower(), first_name=first_name, last_name=last_name)
    if not password:
        raise ValidationError({"password": "Choose a password."})
    try:
        validate_password(password, user=candidate)
        # The inviting account's password rules too (issue 11): the new identity belongs to no
        # account yet, so its own strictest-of policy holds none of them.
        security_policy.password_validate_for_account(
            password=password, user=candidate, account=invitation.account
        )
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    try:
        with transaction.atomic():
            # The link reached this address: the email is verified by accepting.
            return services.user_create(
                email=candidate.email, password=password, first_name=first_name, last_name=last_name,
                email_verified=True,
            )  # fmt: skip
    except IntegrityError as exc:  # signed up a moment ago
        raise InvitationSignInRequired(invitation) from exc


def _membership_grant(account: Account, user: User, invitation: Invitation) -> Membership:
    regions = None if invitation.all_regions else list(invitation.regions.all())
    membership = services.membership_add(account=account, user=user, role=invitation.role, regions=regions)
    for group in invitation.groups.filter(account=account).order_by("pk"):
        group_members_add(group=group, actor=None, memberships=[membership])
    return membership


# --- CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    invitations: list[Invitation]

    @property
    def count(self) -> int:
        return len(self.invitations)


@transaction.atomic
def invitations_import_csv(*, account: Account, actor: Membership | None, file) -> ImportResult:
    """Invite everyone in a CSV file (columns email, name or first_name/last_name, role,
    regions, groups; see accounts/invitations_csv.py). Any bad row fails the whole file:
    InvitationImportError reports every problem with its line number, and nothing is imported."""
    account = account_lock(account.pk)
    actor = _fresh_actor(actor, account, "members.invite")
    _refuse_if_closed(account)
    parsed = invitations_csv.parse(invitations_csv.read_text(file))
    directory = _Directory.load(account, [row.email for row in parsed.rows])
    errors = list(parsed.errors)
    first_line: dict[str, int] = {}
    drafts = []
    for row in parsed.rows:
        problems = list(row.problems)
        draft = _clean_draft(
            _Draft(
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                role=row.role,
                regions=_resolve_regions(row.region_codes, directory, problems),
                groups=_resolve_groups(row.group_names, directory, problems),
            )
        )
        problems += [message for _, message in _problems(draft, directory, actor)]
        if draft.email and draft.email in first_line:
            problems.append(f"{draft.email} is also on line {first_line[draft.email]}.")
        first_line.setdefault(draft.email, row.line)
        if problems:
            errors.append(RowError(row.line, draft.email, tuple(problems)))
        drafts.append(draft)
    if not errors and not drafts:
        errors.append(RowError(0, "", ("The file has a header but no rows.",)))
    if errors:
        raise InvitationImportError(sorted(errors, key=lambda e: e.line))
    return ImportResult(_create_many(account=account, actor=actor, drafts=drafts, via="csv"))


def _resolve_regions(
    codes: list[str] | None, directory: _Directory, problems: list[str]
) -> list[Region] | None:
    if codes is None:
        return None
    regions = []
    for code in dict.fromkeys(codes):
        region = directory.regions.get(code)
        if region is None:
            uses = ", ".join(directory.regions) or "none"
            problems.append(f"{directory.account.name} does not use region “{code}” (it uses: {uses}).")
        else:
            regions.append(region)
    return regions


def _resolve_groups(names: list[str], directory: _Directory, problems: list[str]) -> list[Group]:
    groups = []
    for name in dict.fromkeys(names):
        group = directory.groups.get(name.lower())
        if group is None:
            problems.append(f"{directory.account.name} has no group “{name}”.")
        elif group not in groups:
            groups.append(group)
    return groups


# --- selectors ----------------------------------------------------------------------------------

STATUS_FILTERS = ("pending", "expired", "accepted", "revoked")


def invitations_of_account(
    *, account: Account, status: str | None = None, search: str = ""
) -> QuerySet[Invitation]:
    """The account's invitations, newest first; `status` one of STATUS_FILTERS (None: all).
    Pending means not expired; expired ones are still pending rows past their expiry."""
    invitations = (
        Invitation.objects.filter(account=account)
        .select_related("invited_by", "accepted_by")
        .prefetch_related(
            Prefetch("regions", queryset=Region.objects.order_by("code")),
            Prefetch("groups", queryset=Group.objects.order_by("name")),
        )
        .order_by("-created_at", "-pk")
    )
    now = timezone.now()
    if status == "pending":
        invitations = invitations.filter(status=Invitation.Status.PENDING, expires_at__gt=now)
    elif status == "expired":
        invitations = invitations.filter(status=Invitation.Status.PENDING, expires_at__lte=now)
    elif status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        invitations = invitations.filter(status=status)
    elif status is not None:
        raise ValueError(f"Unknown invitation status {status!r}")
    if search:
        invitations = invitations.filter(
            Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search)
        )
    return invitations


def invitation_counts(*, account: Account) -> dict[str, int]:
    """How many invitations of each STATUS_FILTERS kind the account has: one query."""
    now = timezone.now()
    pending = Q(status=Invitation.Status.PENDING)
    return Invitation.objects.filter(account=account).aggregate(
        pending=Count("pk", filter=pending & Q(expires_at__gt=now)),
        expired=Count("pk", filter=pending & Q(expires_at__lte=now)),
        accepted=Count("pk", filter=Q(status=Invitation.Status.ACCEPTED)),
        revoked=Count("pk", filter=Q(status=Invitation.Status.REVOKED)),
    )


def invitation_of_account(*, account: Account, invitation_id: int) -> Invitation:
    """An invitation of this account, or 404 (another account's is indistinguishable)."""
    invitation = (
        Invitation.objects.filter(pk=invitation_id, account=account).select_related("account").first()
    )
    if invitation is None:
        raise Http404("No such invitation")
    return invitation
