"""MFA with django-otp inside allauth's login (issue 11): one TOTP device (an authenticator app)
and ten single-use recovery codes (a django-otp StaticDevice) per person.

Contract used by other parts (keep these names and signatures):
- `login_stages() -> list[str]`: dotted paths of the login stages this part adds (the account
  adapter appends them after allauth's own, so MFA is the last stage).
- `mfa_enrolled(*, user) -> bool`: the person has a confirmed TOTP device.

The device rows are the truth for replay and throttling: TOTPDevice.last_t refuses a code of a
time step already used (in any process), and django-otp's throttling (exponential: 1, 2, 4 …
seconds after each consecutive failure) refuses even a correct code while it lasts. Every check
locks the device row, so two processes cannot both accept one code.
"""

import re
import time
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import segno
from allauth.account.internal.flows.login import record_authentication
from allauth.account.stages import LoginStage
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Account, Membership, User

RECOVERY_CODE_COUNT = 10
ISSUER = "Atrium"
DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
# Session key other parts read (contracts11.md): when this session last passed MFA.
SESSION_MFA_AT = "atrium_mfa_at"

_TOTP_RE = re.compile(r"^[0-9]{6}$")
# django-otp's StaticToken.random_token(): 8 characters of lowercase base32.
_RECOVERY_RE = re.compile(r"^[a-z2-7]{8}$")


# --- the contract ---------------------------------------------------------------------------
def login_stages() -> list[str]:
    return ["accounts.mfa.MFAStage"]


def mfa_enrolled(*, user) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


class MFAStage(LoginStage):
    """allauth login stage: a person with a confirmed TOTP device proves a code (or a recovery
    code) at `mfa:authenticate` before the login completes; see views_mfa.mfa_authenticate."""

    key = "atrium_mfa"
    urlname = "mfa:authenticate"

    def handle(self):
        from accounts.sso import federated_mfa_trusted

        user = self.login.user
        if user is None or not mfa_enrolled(user=user):
            return None, True
        # The customer's IdP already asked for a second factor and the connection trusts it:
        # never ask twice.
        if federated_mfa_trusted(self.login):
            return None, True
        return HttpResponseRedirect(reverse(self.urlname)), True


# --- reads ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MFAStatus:
    enrolled: bool
    enrolled_at: datetime | None
    last_used_at: datetime | None
    recovery_codes_left: int
    pending: TOTPDevice | None  # an enrolment begun but not confirmed with a code yet


def mfa_status(*, user: User) -> MFAStatus:
    devices = list(TOTPDevice.objects.filter(user=user).order_by("pk"))
    confirmed = next((d for d in devices if d.confirmed), None)
    pending = next((d for d in devices if not d.confirmed), None)
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count() if confirmed else 0
    return MFAStatus(
        enrolled=confirmed is not None,
        enrolled_at=confirmed.created_at if confirmed else None,
        last_used_at=confirmed.last_used_at if confirmed else None,
        recovery_codes_left=left,
        pending=None if confirmed else pending,
    )


def totp_secret_text(*, device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_uri(*, device: TOTPDevice) -> str:
    """The otpauth:// URI of the Key URI Format (what the QR code holds)."""
    label = quote(f"{ISSUER}:{device.user.email}")
    params = urlencode(
        {
            "secret": b32encode(device.bin_key).decode().rstrip("="),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def totp_qr_svg(*, device: TOTPDevice) -> str:
    """An inline SVG QR code (no image request, nothing from a CDN)."""
    qr = segno.make(totp_uri(device=device), error="m")
    return qr.svg_inline(scale=5, border=2, light="#fff", title="QR code for your authenticator app")


def recovery_code_text(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


# --- checking a code ------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    device: TOTPDevice | StaticDevice | None
    error: str = ""  # a sentence for the person when device is None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None

    @property
    def kind(self) -> str:
        return "recovery_code" if isinstance(self.device, StaticDevice) else "totp"


def code_normalize(value: str) -> str:
    """What the person typed, as a TOTP code or a recovery code: spaces and dashes dropped,
    recovery codes lower-cased. Raises ValidationError when it can be neither."""
    code = re.sub(r"[\s-]", "", value or "").lower()
    if not (_TOTP_RE.match(code) or _RECOVERY_RE.match(code)):
        raise ValidationError(
            "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
            code="format",
        )
    return code


def code_verify(*, user: User, code: str, purpose: str) -> Verification:
    """Check a normalized code against the person's confirmed devices (a 6-digit code against
    the app, anything else against the recovery codes). A wrong code is audited `mfa.failed`
    and counts towards django-otp's throttle; while throttled even a right code is refused."""
    is_totp = bool(_TOTP_RE.match(code))
    model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        # The row lock serializes checks of one device across processes: last_t and the
        # throttle counters are read and written by one check at a time.
        device = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            if is_totp or not mfa_enrolled(user=user):
                return Verification(None, "Two-factor authentication is not set up for you.")
            return Verification(None, "You have no recovery codes left. Use your authenticator app.")
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            _audit_personal(user, "mfa.failed", after={"purpose": purpose, "reason": "throttled"})
            return Verification(None, _throttled_message(locked_until), locked_until)
        if device.verify_token(code):
            return Verification(device)
        _audit_personal(
            user, "mfa.failed",
            after={"purpose": purpose, "reason": "wrong_code", "kind": "totp" if is_totp else "recovery_code",
                   "failures": device.throttling_failure_count},
        )  # fmt: skip
    if is_totp:
        return Verification(None, "That code is not valid (or was already used). Wait for the next one.")
    return Verification(None, "That recovery code is not valid or was already used.")


def _throttled_message(locked_until: datetime | None) -> str:
    if locked_until is None:
        return "Too many wrong codes. Wait a moment and try again."
    seconds = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))
    return f"Too many wrong codes. Try again in {seconds} second{'s' if seconds != 1 else ''}."


def session_mark_verified(*, request, device) -> None:
    """This session passed MFA (login stage, step-up or enrolment): django-otp's verified flag,
    allauth's authentication record, and `atrium_mfa_at` for other parts."""
    from django_otp import login as otp_login

    otp_login(request, device)
    kind = "recovery_codes" if isinstance(device, StaticDevice) else "totp"
    record_authentication(request, request.user, method="mfa", type=kind)
    request.session[SESSION_MFA_AT] = int(time.time())


# --- writes ---------------------------------------------------------------------------------
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A new unconfirmed TOTP device (a fresh secret); an earlier unconfirmed one is replaced.
    Refused when the person is enrolled already (remove first)."""
    with transaction.atomic():
        _person_lock(user)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError("Two-factor authentication is already set up.", code="enrolled")
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code it produced; returns it and the ten recovery
    codes (shown once: only the device keeps them)."""
    with transaction.atomic():
        _person_lock(user)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError("Two-factor authentication is already set up.", code="enrolled")
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ValidationError("Start the set-up again: no pending authenticator was found.", code="none")
        allowed, info = device.verify_is_allowed()
        if not allowed:
            raise ValidationError(_throttled_message((info or {}).get("locked_until")), code="throttled")
        if not _TOTP_RE.match(code) or not device.verify_token(code):
            raise ValidationError(
                "That code does not match. Check the time on your phone and enter the current code.",
                code="wrong_code",
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        _audit_personal(user, "mfa.enrolled", after={"device": "totp", "recovery_codes": len(codes)})
    return device, codes


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new recovery codes; every earlier one stops working."""
    with transaction.atomic():
        _person_lock(user)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError("Set up an authenticator app first.", code="not_enrolled")
        codes = _recovery_codes_replace(user)
        _audit_personal(user, "mfa.recovery_codes_regenerated", after={"recovery_codes": len(codes)})
    return codes


def mfa_remove(*, user: User) -> None:
    """The person's own removal (after re-authentication, checked by the view): the app and
    the recovery codes go together."""
    with transaction.atomic():
        _person_lock(user)
        removed = _devices_delete(user)
        if not removed:
            raise ValidationError("Two-factor authentication is not set up.", code="not_enrolled")
        _audit_personal(user, "mfa.removed", before={"device": "totp"}, after=None)


def member_mfa_reset(*, actor: Membership, membership: Membership) -> None:
    """An owner or admin resets a member's MFA (a lost phone): their app and recovery codes are
    deleted, the reset is audited in the actor's account, and the member is told by mail.
    Same rules as every member change: same account, not themselves, owners only by owners."""
    if actor.account_id != membership.account_id:
        raise PermissionDenied("Not a member of this account.")
    permissions.require(actor, "members.manage")
    if membership.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    if membership.pk == actor.pk:
        raise ValidationError("Reset your own two-factor authentication from your profile.", code="self")
    with transaction.atomic():
        user = _person_lock(membership.user)
        locked = Membership.objects.filter(pk=membership.pk, account_id=actor.account_id).first()
        if user is None or locked is None or locked.is_removing:
            raise ValidationError("This member is being removed; nothing about them can change now.")
        # The devices guard every account of the person: an owner of one account (anyone can
        # make one and invite them) must not strip the second factor of their other accounts.
        if Membership.objects.filter(user_id=user.pk).exclude(account_id=actor.account_id).exists():
            raise ValidationError(
                f"{user.email} also belongs to another account, which their two-factor authentication "
                "protects too: Atrium support resets it for them.",
                code="other_accounts",
            )
        if not _devices_delete(user):
            raise ValidationError(f"{user.email} has no two-factor authentication to reset.", code="none")
        audit_record(
            action="mfa.reset", account=actor.account, actor=actor.user, target_type="member",
            target_id=user.public_id, target_label=user.email, before={"mfa": True}, after={"mfa": False},
        )  # fmt: skip
        account_id, user_id, actor_email = actor.account_id, user.pk, actor.user.email
        transaction.on_commit(
            lambda: send_mfa_reset_notice(user_id=user_id, account_id=account_id, actor_email=actor_email)
        )


def _person_lock(user: User) -> User | None:
    # Only the person's row: MFA changes of one person are serialized, nothing else is touched
    # (the lock order of accounts/locks.py starts with this row, so it cannot deadlock there).
    return User.objects.select_for_update().filter(pk=user.pk).first()


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _devices_delete(user: User) -> bool:
    had = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return had


def _audit_personal(user: User, action: str, *, before=None, after=None) -> None:
    """A person's own MFA event: one row with no account, about them (audit_record's subject
    defaults to the actor), which the audit pages of their accounts show as security events."""
    audit_record(
        action=action, account=None, actor=user, target_type="user", target_id=user.public_id,
        target_label=user.email, before=before, after=after,
    )  # fmt: skip


# --- mail -----------------------------------------------------------------------------------
def send_mfa_reset_notice(*, user_id: int, account_id: int, actor_email: str) -> None:
    """Tell the member their MFA was reset (and by whom), so a reset they did not ask for is
    noticed; templates in accounts/templates/accounts/emails/mfa-reset-*.txt."""
    user = User.objects.filter(pk=user_id).first()
    account = Account.objects.filter(pk=account_id).first()
    if user is None or account is None:
        return
    context = {
        "user": user,
        "account": account,
        "actor_email": actor_email,
        "mfa_url": f"{settings.ATRIUM_ISSUER}{reverse('mfa:index')}",
    }
    subject = render_to_string("accounts/emails/mfa-reset-subject.txt", context).strip()
    body = render_to_string("accounts/emails/mfa-reset-body.txt", context)
    send_mail(subject, body, None, [user.email])
