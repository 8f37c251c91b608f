"""/profile/sessions/: a person's own portal sessions (revoke one, or every other one); and an
admin's "sign out everywhere" on a member (/a/<slug>/members/<id>/sign-out/). Thin: each view
calls one service of accounts/sessions.py."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions, selectors, sessions
from accounts.models import Membership
from accounts.views import _back, _members_url, account_page


@login_required
@require_GET
def sessions_index(request):
    rows = [
        {
            "session": s,
            "device": sessions.device_label(s.user_agent),
            "current": s.session_key == request.session.session_key,
        }
        for s in sessions.user_sessions_active(user=request.user)
    ]
    return render(request, "accounts/sessions/index.html", {"rows": rows})


@login_required
@require_POST
def session_revoke(request, session_id: int):
    chosen = sessions.user_session_get(user=request.user, session_id=session_id)
    if chosen.session_key == request.session.session_key:
        # Revoking this very session is signing out (the logout receivers end it everywhere).
        logout(request)
        return redirect("account_login")
    revoked = sessions.user_session_revoke(user=request.user, session_id=chosen.pk)
    messages.success(request, f"Signed out {sessions.device_label(revoked.user_agent)}.")
    return redirect("sessions:index")


@login_required
@require_POST
def sessions_revoke_others(request):
    ended = sessions.user_sessions_revoke_others(
        user=request.user, keep_session_key=request.session.session_key
    )
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("sessions:index")


@account_page
@require_http_methods(["GET", "POST"])
def member_sign_out(request, slug: str, membership_id: int):
    """GET: the confirmation naming the person. POST: end every session of theirs."""
    actor = selectors.membership_for_page(user=request.user, slug=slug)
    target = selectors.member_of_account(account=actor.account, membership_id=membership_id)
    permissions.require(actor, "members.sign_out")
    if target.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    back = _back(request)
    errors: list[str] = []
    if request.method == "POST":
        try:
            sessions.member_sign_out_everywhere(actor=actor, membership=target)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"{target.user.email} is signed out everywhere.")
            return redirect(_members_url(actor.account.slug, back))
    context = {
        "account": actor.account, "membership": actor, "target": target, "errors": errors, "back": back,
        "cancel_url": _members_url(actor.account.slug, back),
    }  # fmt: skip
    return render(request, "accounts/sessions/member_sign_out.html", context, status=400 if errors else 200)
