"""Account security policy: versioned, audited, pushed to every region, enforced (issue 11).

Contract used by other parts (keep these names and signatures):
- `password_validate(*, password: str, user) -> None`: raises django's ValidationError when the
  password breaks the strictest password rules of the accounts `user` belongs to (or, for a
  person not yet saved, Django's defaults). The account adapter calls it from clean_password.
- `sso_only(*, account) -> bool`.
- `effective_policy(*, user) -> EffectivePolicy`: the strictest policy over the person's active
  memberships in open accounts.

The region document (ledger kind `policy`, object key = tenant slug) is `{"tenant", "version",
"mfa_required", "session_lifetime_seconds", "idle_timeout_seconds", "sso_only"}` plus
`mfa_required_from` (when the grace ends); `version` is the policy's own version number, so each
region names the version Atrium's page shows.
"""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import password_validation
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership, User
from accounts.models_security import PASSWORD_MIN_LENGTH_DEFAULT, SecurityPolicy, SecurityPolicyVersion
from accounts.signals import account_region_added
from regions.ledger import ledger_desire
from regions.models import ProvisioningRecord, Region
from regions.selectors import regions_of_account

KIND = ProvisioningRecord.Kind.POLICY
EDITABLE_FIELDS = (
    "mfa_required",
    "mfa_grace_days",
    "session_lifetime_minutes",
    "idle_timeout_minutes",
    "password_min_length",
    "password_check_common",
    "password_check_similarity",
    "password_refuse_numeric",
    "allowed_email_domains",
    "sso_only",
)
# Where the session keeps the time the person signed in (set at login, read by the middleware).
SESSION_LOGIN_AT = "atrium_login_at"
SESSION_LAST_SEEN = "atrium_last_seen"
# The portal reads the effective policy on every page: kept in the session, read again after
# any policy is saved (a generation number in the shared cache) and at least this often (so a
# membership gained or lost shows within it).
EFFECTIVE_REFRESH_SECONDS = 60
SESSION_POLICY = "atrium_policy"
_GENERATION_KEY = "atrium:security_policy:generation"
DOMAIN = re.compile(r"^(?=.{1,253}\Z)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")


# --- reading a policy -----------------------------------------------------------------------------
def policy_of(*, account: Account) -> SecurityPolicy:
    """The account's policy, or an unsaved one holding the defaults."""
    return SecurityPolicy.objects.filter(account=account).first() or SecurityPolicy(account=account)


def policy_document(policy: SecurityPolicy) -> dict:
    """Every editable setting, JSON-safe (a version's document and the audit's before/after)."""
    return {name: getattr(policy, name) for name in EDITABLE_FIELDS}


def region_document(policy: SecurityPolicy, *, tenant: str) -> dict:
    """What a region enforces (the contract's shape), plus `mfa_required_from`: when the grace
    ends (ISO 8601, UTC; null when MFA is not required), so a region enforces MFA from then on
    without waiting for another push (atrium_kit.policy.tenant_policy_document reads it)."""
    grace_ends_at = mfa_grace_ends_at(policy)
    return {
        "tenant": tenant,
        "version": policy.version,
        "mfa_required": policy.mfa_required,
        "mfa_required_from": grace_ends_at.astimezone(UTC).isoformat() if grace_ends_at else None,
        "session_lifetime_seconds": _seconds(policy.session_lifetime_minutes),
        "idle_timeout_seconds": _seconds(policy.idle_timeout_minutes),
        "sso_only": policy.sso_only,
    }


def _seconds(minutes: int | None) -> int | None:
    return minutes * 60 if minutes else None


def mfa_grace_ends_at(policy: SecurityPolicy, *, now: datetime | None = None) -> datetime | None:
    """When people without MFA are locked out under this policy (None: MFA is not required).
    The grace counts from when the requirement was switched on (now, if it is not saved yet)."""
    if not policy.mfa_required:
        return None
    since = policy.mfa_required_since or now or timezone.now()
    return since + timedelta(days=policy.mfa_grace_days)


def sso_only(*, account) -> bool:
    """Whether the account's policy is SSO-only (its verified domains may not use passwords)."""
    return SecurityPolicy.objects.filter(account=account, sso_only=True).exists()


@dataclass(frozen=True)
class EffectivePolicy:
    """The strictest of the policies of the accounts a person is active in."""

    mfa_required: bool = False  # required now: the grace is over
    mfa_grace_ends_at: datetime | None = None  # earliest grace end among the accounts requiring MFA
    session_lifetime: timedelta | None = None
    idle_timeout: timedelta | None = None
    password_min_length: int = PASSWORD_MIN_LENGTH_DEFAULT
    password_check_common: bool = False
    password_check_similarity: bool = False
    password_refuse_numeric: bool = False
    sso_only: bool = False

    @property
    def mfa_pending(self) -> bool:
        """MFA is required, but the grace has not ended yet."""
        return self.mfa_grace_ends_at is not None and not self.mfa_required


def _policies_of(user) -> list[SecurityPolicy]:
    if user is None or getattr(user, "pk", None) is None:
        return []
    return list(
        SecurityPolicy.objects.filter(
            account__memberships__user_id=user.pk,
            account__memberships__status=Membership.Status.ACTIVE,
            account__closed_at__isnull=True,
        )
    )


def _summary(policy: SecurityPolicy) -> dict:
    """What the strictest-of computation needs from one policy, JSON-safe (kept in the session)."""
    grace_ends_at = mfa_grace_ends_at(policy)
    return {
        "mfa_grace_ends_at": grace_ends_at.timestamp() if grace_ends_at else None,
        **{name: getattr(policy, name) for name in _SUMMARY_FIELDS},
    }


_SUMMARY_FIELDS = (
    "session_lifetime_minutes",
    "idle_timeout_minutes",
    "password_min_length",
    "password_check_common",
    "password_check_similarity",
    "password_refuse_numeric",
    "sso_only",
)


def _strictest(summaries: list[dict], now: datetime) -> EffectivePolicy:
    grace_ends = [s["mfa_grace_ends_at"] for s in summaries if s["mfa_grace_ends_at"] is not None]
    lifetimes = [s["session_lifetime_minutes"] for s in summaries if s["session_lifetime_minutes"]]
    idles = [s["idle_timeout_minutes"] for s in summaries if s["idle_timeout_minutes"]]
    earliest = datetime.fromtimestamp(min(grace_ends), tz=UTC) if grace_ends else None
    return EffectivePolicy(
        mfa_required=earliest is not None and earliest <= now,
        mfa_grace_ends_at=earliest,
        session_lifetime=timedelta(minutes=min(lifetimes)) if lifetimes else None,
        idle_timeout=timedelta(minutes=min(idles)) if idles else None,
        password_min_length=max(
            [PASSWORD_MIN_LENGTH_DEFAULT, *(s["password_min_length"] for s in summaries)]
        ),
        password_check_common=any(s["password_check_common"] for s in summaries),
        password_check_similarity=any(s["password_check_similarity"] for s in summaries),
        password_refuse_numeric=any(s["password_refuse_numeric"] for s in summaries),
        sso_only=any(s["sso_only"] for s in summaries),
    )


def effective_policy(*, user) -> EffectivePolicy:
    """The strictest policy over the person's active memberships in open accounts (one query)."""
    return _strictest([_summary(p) for p in _policies_of(user)], timezone.now())


def _user_generation_key(user_id) -> str:
    return f"atrium:security_policy:user:{user_id}"


def _generations(user_id) -> list:
    """The global generation (any policy saved) and the person's own (their memberships
    changed): one cache round trip. A list, as the JSON session stores it."""
    user_key = _user_generation_key(user_id)
    values = cache.get_many([_GENERATION_KEY, user_key])
    return [values.get(_GENERATION_KEY, 0), values.get(user_key)]


def _session_snapshot(user) -> dict:
    return {
        "user": user.pk,
        "generation": _generations(user.pk),
        "at": int(time.time()),
        "policies": [_summary(p) for p in _policies_of(user)],
    }


def effective_policy_for_request(request) -> EffectivePolicy:
    """effective_policy for the middleware, which runs on every page: read at sign-in and kept in
    the session, read again (one query) when any policy was saved since (a generation number in
    the shared cache) or after EFFECTIVE_REFRESH_SECONDS (a membership gained or lost). The MFA
    deadline is judged against the current time on every request."""
    user = request.user
    stored = request.session.get(SESSION_POLICY)
    fresh = (
        isinstance(stored, dict)
        and stored.get("user") == user.pk
        and stored.get("generation") == _generations(user.pk)
        and 0 <= time.time() - stored.get("at", 0) < EFFECTIVE_REFRESH_SECONDS
        and isinstance(stored.get("policies"), list)
    )
    if not fresh:
        stored = request.session[SESSION_POLICY] = _session_snapshot(user)
    return _strictest(stored["policies"], timezone.now())


def _cache_invalidate() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(_GENERATION_KEY, 1, None)


def _user_cache_invalidate(user_id) -> None:
    # A fresh random value, never a counter: a counter key that expired and was set again could
    # repeat the value a session stored. The key needs to outlive only snapshots taken before it
    # was written, and every snapshot is read again after EFFECTIVE_REFRESH_SECONDS anyway.
    cache.set(_user_generation_key(user_id), uuid.uuid4().hex, 2 * EFFECTIVE_REFRESH_SECONDS)


@receiver(post_save, sender=Membership, dispatch_uid="accounts.security_policy.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="accounts.security_policy.membership_deleted")
def _membership_changed(sender, instance: Membership, **kwargs) -> None:
    """A membership gained, reactivated, suspended or removed changes the person's strictest
    policy: their sessions read it again at their next request, so someone who joins an
    MFA-required account is held to it at once (not up to a minute later, when the snapshot
    would have aged out). Now, and once committed (a read meanwhile cached the old rows)."""
    user_id = instance.user_id
    _user_cache_invalidate(user_id)
    transaction.on_commit(lambda: _user_cache_invalidate(user_id))


# --- password rules -------------------------------------------------------------------------------
def password_validate(*, password: str, user) -> None:
    """Django's validators with the strictest rules of the person's accounts (the site-wide
    validators ran already; this adds what an account asks beyond them)."""
    _password_check(password, user, effective_policy(user=user))


def password_validate_for_account(*, password: str, user, account: Account) -> None:
    """password_validate, plus the rules of an account the person is about to join: a new
    identity created by accepting an invitation belongs to nothing yet when it chooses its
    password, so the inviting account's rules would otherwise never apply to it."""
    summaries = [_summary(p) for p in _policies_of(user)]
    joining = SecurityPolicy.objects.filter(account=account).first()
    if joining is not None:
        summaries.append(_summary(joining))
    _password_check(password, user, _strictest(summaries, timezone.now()))


def _password_check(password: str, user, policy: EffectivePolicy) -> None:
    validators = [password_validation.MinimumLengthValidator(min_length=policy.password_min_length)]
    if policy.password_check_common:
        validators.append(password_validation.CommonPasswordValidator())
    if policy.password_check_similarity:
        validators.append(password_validation.UserAttributeSimilarityValidator())
    if policy.password_refuse_numeric:
        validators.append(password_validation.NumericPasswordValidator())
    password_validation.validate_password(password, user, password_validators=validators)


# --- invitations ----------------------------------------------------------------------------------
def allowed_email_domains(*, account: Account) -> list[str]:
    """The domains the account's policy lets invitations go to (empty: any)."""
    domains = (
        SecurityPolicy.objects.filter(account=account).values_list("allowed_email_domains", flat=True).first()
    )
    return list(domains or [])


def invitation_domain_problems(*, email: str, directory) -> list[tuple[str, str]]:
    """The (field, message) accounts/invitations.py reports when the account's policy refuses
    this address. `directory` is that module's per-request read of the account: the domains are
    read once per directory, so a CSV import of many rows costs one query."""
    domains = getattr(directory, "_atrium_allowed_domains", None)
    if domains is None:
        domains = allowed_email_domains(account=directory.account)
        directory._atrium_allowed_domains = domains
    if not domains or email.rsplit("@", 1)[-1].lower() in domains:
        return []
    name = directory.account.name
    return [("email", f"{name} invites only addresses at {', '.join(domains)}; {email} is not one of them.")]


def email_domains_parse(text: str) -> list[str]:
    """Domains typed one per line or comma-separated, lowercased, deduplicated, validated."""
    domains = []
    for raw in re.split(r"[\s,]+", text or ""):
        domain = raw.strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise ValidationError(f"“{raw}” is not an email domain (like example.com).", code="domain")
        if domain not in domains:
            domains.append(domain)
    if len(domains) > 50:
        raise ValidationError("At most 50 domains.", code="domains")
    return domains


# --- the preview: who would be locked out ---------------------------------------------------------
@dataclass(frozen=True)
class LockedOut:
    user: User
    reason: str  # "mfa" | "sso"
    grace_ends_at: datetime | None = None


@dataclass(frozen=True)
class Preview:
    mfa: list[LockedOut]
    sso: list[LockedOut]
    sso_note: str = ""


def security_policy_preview(
    *, account: Account, mfa_required: bool, mfa_grace_days: int, sso_only: bool
) -> Preview:
    """Who the proposed settings would lock out: active members without a confirmed TOTP device
    when MFA is required (with the day their grace ends), and, for SSO-only, members whose email
    domain is not verified for SSO. One query per list, whatever the member count."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    mfa: list[LockedOut] = []
    if mfa_required:
        current = policy_of(account=account)
        since = current.mfa_required_since if current.mfa_required else timezone.now()
        grace_ends_at = since + timedelta(days=mfa_grace_days)
        enrolled = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
        members = (
            Membership.objects.filter(account=account, status=Membership.Status.ACTIVE)
            .annotate(enrolled=Exists(enrolled))
            .filter(enrolled=False)
            .select_related("user")
            .order_by("user__email")
        )
        mfa = [LockedOut(user=m.user, reason="mfa", grace_ends_at=grace_ends_at) for m in members]
    sso, note = ([], "") if not sso_only else _sso_locked_out(account)
    return Preview(mfa=mfa, sso=sso, sso_note=note)


def _sso_locked_out(account: Account) -> tuple[list[LockedOut], str]:
    verified = _verified_sso_domains(account)
    if verified is None:
        return [], "Customer SSO is not set up here yet, so who SSO-only would lock out cannot be listed."
    members = (
        Membership.objects.filter(account=account, status=Membership.Status.ACTIVE)
        .select_related("user")
        .order_by("user__email")
    )
    locked = [
        LockedOut(user=m.user, reason="sso")
        for m in members
        if m.user.email.rsplit("@", 1)[-1].lower() not in verified
    ]
    return locked, ""


def _verified_sso_domains(account: Account) -> set[str] | None:
    """The account's domains verified for SSO (accounts/models_sso.py, the sso part's), or None
    while that part offers no such model."""
    from accounts import models_sso

    model = getattr(models_sso, "DomainClaim", None) or getattr(models_sso, "ClaimedDomain", None)
    if model is None:
        return None
    rows = model.objects.filter(account=account, status="verified").values_list("domain", flat=True)
    return {domain.lower() for domain in rows}


# --- saving ---------------------------------------------------------------------------------------
def _fresh_actor(actor: Membership) -> Membership:
    account_lock(actor.account_id)
    fresh = Membership.objects.select_related("account", "user").filter(pk=actor.pk).first()
    if fresh is None or fresh.account.is_closed:
        raise ValidationError("This account is closed.", code="closed")
    permissions.require(fresh, "security.manage")
    return fresh


@transaction.atomic
def security_policy_save(*, actor: Membership, settings: dict) -> SecurityPolicyVersion | None:
    """Save a new version of the actor's account policy: the version row, an audit row (what
    changed, before → after), and the region document in the ledger for every region the account
    uses. Returns None when nothing changed (no version, no push)."""
    actor = _fresh_actor(actor)
    account = actor.account
    policy = SecurityPolicy.objects.select_for_update().filter(account=account).first()
    policy = policy or SecurityPolicy(account=account)
    before = policy_document(policy)
    unknown = set(settings) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not policy settings: {', '.join(sorted(unknown))}")
    for name, value in settings.items():
        setattr(policy, name, value)
    after = policy_document(policy)
    changed = {name for name in EDITABLE_FIELDS if before[name] != after[name]}
    if not changed:
        return None
    now = timezone.now()
    if policy.mfa_required and not before["mfa_required"]:
        policy.mfa_required_since = now  # the grace starts when the requirement is switched on
    elif not policy.mfa_required:
        policy.mfa_required_since = None
    policy.version += 1
    policy.updated_at = now
    policy.save()
    version = SecurityPolicyVersion.objects.create(
        account=account, number=policy.version, document=after, created_by=actor.user, created_at=now
    )
    audit_record(
        action="security_policy.update", account=account, actor=actor.user, target_type="security_policy",
        target_id=policy.version, target_label=f"version {policy.version}",
        before={name: before[name] for name in sorted(changed)},
        after={name: after[name] for name in sorted(changed)},
    )  # fmt: skip
    _desire(policy, regions_of_account(account_id=account.pk))
    # Now (this request's own reads) and once committed (a read meanwhile cached the old rows).
    _cache_invalidate()
    transaction.on_commit(_cache_invalidate)
    return version


def _desire(policy: SecurityPolicy, regions) -> list[ProvisioningRecord]:
    slug = policy.account.slug
    return ledger_desire(
        kind=KIND, tenant=slug, object_key=slug, regions=regions, desired=region_document(policy, tenant=slug)
    )


@receiver(account_region_added)
def send_policy_to_a_new_region(sender, *, account, region: Region, **kwargs):
    """A region the account starts using enforces its policy too (nothing to send while the
    account keeps the defaults)."""
    policy = SecurityPolicy.objects.filter(account=account).select_related("account").first()
    if policy is not None and policy.version > 0:
        _desire(policy, [region])


@receiver(user_logged_in)
def remember_login_time(sender, request, user, **kwargs):
    """The session lifetime counts from here, and the person's policy is read here once
    (accounts/middleware_security.py), while the login saves the session anyway."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_LAST_SEEN] = now
        request.session[SESSION_POLICY] = _session_snapshot(user)


# --- the page's reads -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionPolicyState:
    region: Region
    desired_version: int | None
    acked_version: int | None
    state: str
    last_error: str


def policy_regions_state(*, account: Account) -> list[RegionPolicyState]:
    """For each region the account uses: the policy version it should enforce and the one it
    acknowledged (ledger state). Two queries."""
    regions = list(regions_of_account(account_id=account.pk))
    rows = {
        r.region_id: r
        for r in ProvisioningRecord.objects.filter(kind=KIND, tenant=account.slug, object_key=account.slug)
    }
    states = []
    for region in regions:
        row = rows.get(region.pk)
        states.append(
            RegionPolicyState(
                region=region,
                desired_version=(row.desired or {}).get("version") if row else None,
                acked_version=(row.acked or {}).get("version") if row and row.acked else None,
                state=row.state if row else "",
                last_error=row.last_error if row else "",
            )
        )
    return states


def policy_versions(*, account: Account, limit: int = 20) -> list[SecurityPolicyVersion]:
    return list(
        SecurityPolicyVersion.objects.filter(account=account)
        .select_related("created_by")
        .order_by("-number")[:limit]
    )
