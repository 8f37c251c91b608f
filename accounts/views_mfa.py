"""/accounts/mfa/ (namespace `mfa`): a person's own two-factor authentication — status, TOTP
enrolment (QR code and the secret as text), recovery codes, removal after re-authentication —,
the MFA step of allauth's login (`authenticate`, the login stage of accounts/mfa.py), step-up
for a signed-in session (`verify`), and an admin's reset of a member's MFA (under /a/<slug>/).

Thin: each view parses input and calls accounts/mfa.py. Every `next` is kept only when it is a
local path of this site (never an open redirect)."""

from functools import wraps

from allauth.account.decorators import reauthentication_required
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import mfa, permissions, selectors
from accounts.forms_mfa import CodeForm, EnrolConfirmForm
from accounts.models import Membership
from accounts.views import account_page


def _safe_next(request, value: str | None) -> str:
    """`value` if it is a path on this site, else ''. Only local paths: '/…' but not '//…'."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return ""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return ""
    return value


def _next_of(request) -> str:
    data = request.POST if request.method == "POST" else request.GET
    return _safe_next(request, data.get("next"))


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _needs_code(request, *, enrolled: bool) -> bool:
    """Regenerating recovery codes and removing MFA are proved with a current code, not the
    password alone, by a person without a password and by a session that never passed MFA (one
    signed in before MFA was turned on): whoever holds such a session knows at most the
    password, and new recovery codes (or no MFA) would let them past the MFA step for good."""
    user = request.user
    if not user.has_usable_password():
        return True
    is_verified = getattr(user, "is_verified", None)
    return enrolled and not (callable(is_verified) and is_verified())


# --- status and enrolment -------------------------------------------------------------------
@login_required
@require_safe
def mfa_index(request):
    status = mfa.mfa_status(user=request.user)
    context = {
        "status": status,
        "next": _next_of(request),
        "needs_code": _needs_code(request, enrolled=status.enrolled),
    }
    return render(request, "accounts/mfa/index.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """GET: the pending app's QR code, its secret and the confirmation form. POST `start`: a
    new pending app (fresh secret). POST `code`: confirm it; the recovery codes are shown once."""
    next_url = _next_of(request)
    if request.method == "POST" and "start" in request.POST:
        try:
            mfa.totp_enrolment_start(user=request.user)
        except ValidationError as exc:
            messages.info(request, exc.messages[0])
            return redirect(_with_next(reverse("mfa:index"), next_url))
        return redirect(_with_next(reverse("mfa:enrol"), next_url))
    status = mfa.mfa_status(user=request.user)
    if status.enrolled:
        messages.info(request, "Two-factor authentication is already set up.")
        return redirect(_with_next(reverse("mfa:index"), next_url))
    if status.pending is None:
        return redirect(_with_next(reverse("mfa:index"), next_url))
    form = EnrolConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = mfa.totp_enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            # The person just proved a code: this session passed MFA (the authorize step that
            # sent them here to enrol needs no second code).
            mfa.session_mark_verified(request=request, device=device)
            return _recovery_codes_page(request, codes, first_time=True, next_url=next_url)
    context = {
        "device": status.pending,
        "qr_svg": mfa.totp_qr_svg(device=status.pending),
        "secret": mfa.totp_secret_text(device=status.pending),
        "form": form,
        "next": next_url,
    }
    return render(request, "accounts/mfa/enrol.html", context, status=400 if form.errors else 200)


def _recovery_codes_page(request, codes: list[str], *, first_time: bool, next_url: str = ""):
    context = {
        "codes": [mfa.recovery_code_text(code) for code in codes],
        "first_time": first_time,
        "next": next_url,
    }
    response = render(request, "accounts/mfa/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@reauthentication_required
def mfa_recovery_codes(request):
    """Ten new recovery codes, after re-authentication (they let anyone past MFA); a person
    without a password proves a current code instead."""
    if _needs_code(request, enrolled=mfa.mfa_enrolled(user=request.user)):
        form = CodeForm(request.POST)
        verification = (
            mfa.code_verify(user=request.user, code=form.cleaned_data["code"], purpose="regenerate")
            if form.is_valid()
            else None
        )
        if verification is None or not verification.ok:
            error = verification.error if verification else form.errors["code"][0]
            messages.error(request, error)
            return redirect("mfa:index")
    try:
        codes = mfa.recovery_codes_regenerate(user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("mfa:index")
    return _recovery_codes_page(request, codes, first_time=False)


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def mfa_remove(request):
    """GET: what removing means. POST (after allauth's re-authentication by password; a person
    without a password proves a current code instead): the app and recovery codes go."""
    user = request.user
    status = mfa.mfa_status(user=user)
    if not status.enrolled:
        return redirect("mfa:index")
    needs_code = _needs_code(request, enrolled=status.enrolled)
    form = CodeForm(request.POST if request.method == "POST" else None) if needs_code else None
    if request.method == "POST" and (form is None or form.is_valid()):
        if form is not None:
            verification = mfa.code_verify(user=user, code=form.cleaned_data["code"], purpose="remove")
            if not verification.ok:
                form.add_error("code", verification.error)
        if form is None or not form.errors:
            try:
                mfa.mfa_remove(user=user)
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
            else:
                messages.success(
                    request, "Two-factor authentication removed; its recovery codes no longer work."
                )
            return redirect("mfa:index")
    status_code = 400 if form is not None and form.errors else 200
    return render(request, "accounts/mfa/remove.html", {"form": form, "status": status}, status=status_code)


# --- proving a code: at login (login stage) and later (step-up) -----------------------------
def _login_stage_view(view):
    """The pending allauth login at our stage, or back to the login page (a signed-in person
    goes to step-up instead: nothing to finish)."""

    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("mfa:verify")
        stage = LoginStageController.enter(request, mfa.MFAStage.key)
        if stage is None or stage.login.user is None:
            return redirect("account_login")
        return view(request, stage, *args, **kwargs)

    return wrapped


@_login_stage_view
@require_http_methods(["GET", "POST"])
def mfa_authenticate(request, stage):
    user = stage.login.user
    if not mfa.mfa_enrolled(user=user):
        # Reset by an admin (or removed) since the password step: a fresh login would not
        # ask for a code either.
        return stage.exit()
    if request.method == "POST" and "cancel" in request.POST:
        return stage.abort()  # forget the pending login: back to an empty login page
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        verification = mfa.code_verify(user=user, code=form.cleaned_data["code"], purpose="login")
        if verification.ok:
            # django-otp's user_logged_in receiver marks the session verified from this
            # attribute once allauth has logged the person in (the user is anonymous until then).
            user.otp_device = verification.device
            response = stage.exit()
            if request.user.is_authenticated and request.user.pk == user.pk:
                mfa.session_mark_verified(request=request, device=verification.device)
            return response
        form.add_error("code", verification.error)
    context = {"form": form, "email": user.email}
    return render(request, "accounts/mfa/authenticate.html", context, status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """Step-up: a signed-in person proves a code again; then back to `next` (a local path)."""
    next_url = _next_of(request)
    if not mfa.mfa_enrolled(user=request.user):
        messages.info(request, "Set up two-factor authentication first.")
        return redirect(_with_next(reverse("mfa:index"), next_url))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        verification = mfa.code_verify(user=request.user, code=form.cleaned_data["code"], purpose="step_up")
        if verification.ok:
            mfa.session_mark_verified(request=request, device=verification.device)
            return HttpResponseRedirect(next_url or reverse("dashboard"))
        form.add_error("code", verification.error)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/mfa/verify.html", context, status=400 if form.errors else 200)


# --- an admin resets a member's MFA (lost phone) --------------------------------------------
@account_page
@require_http_methods(["GET", "POST"])
def member_mfa_reset(request, slug: str, membership_id: int):
    """GET: who and what. POST: reset. Another account's member is a 404 before any permission
    is judged; a role that may not manage members (or an owner, for a non-owner) is a 403."""
    actor = selectors.membership_for_page(user=request.user, slug=slug)
    target = selectors.member_of_account(account=actor.account, membership_id=membership_id)
    permissions.require(actor, "members.manage")
    if target.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    errors: list[str] = []
    if request.method == "POST":
        try:
            mfa.member_mfa_reset(actor=actor, membership=target)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request, f"Two-factor authentication of {target.user.email} reset; they were told by mail."
            )
            return redirect("accounts:members", slug=actor.account.slug)
    context = {
        "account": actor.account,
        "membership": actor,
        "target": target,
        "enrolled": mfa.mfa_enrolled(user=target.user),
        "errors": errors,
    }
    return render(request, "accounts/mfa/member_reset.html", context, status=400 if errors else 200)
