"""Invitation pages: the account's list with invite, CSV import, resend and revoke
(/a/<slug>/invitations/), and the invitee's link (/invite/<token>/). Thin: each calls one
service or selector of accounts/invitations.py."""

from urllib.parse import urlencode

from allauth.account.utils import perform_login
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, permissions, selectors
from accounts.forms_invitations import (
    InvitationForm,
    InvitationImportForm,
    InvitationStatusFilter,
    InviteAcceptForm,
    add_service_errors,
)
from accounts.invitations import (
    InvitationForAnotherAddress,
    InvitationImportError,
    InvitationSignInRequired,
    InvitationUnusable,
)
from accounts.invitations_csv import EXAMPLE_HEADER
from accounts.models import Invitation, Membership
from accounts.views import account_page
from regions.selectors import regions_of_account

PAGE_SIZE = 50


# --- the account's invitations ----------------------------------------------------------------


def _member(request, slug: str, action: str) -> Membership:
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, action)
    return membership


def _invite_form(membership: Membership, data=None) -> InvitationForm:
    return InvitationForm(
        data,
        account=membership.account,
        can_invite_owner=permissions.can(membership, "members.manage_owners"),
    )


@account_page
def invitations_page(request, slug: str):
    membership = _member(request, slug, "members.view_admin")
    return _page(request, membership)


def _page(
    request, membership: Membership, *, invite_form=None, import_form=None, import_errors=None, status=200
):
    account = membership.account
    filters = InvitationStatusFilter(request.GET)
    shown = filters.shown
    listed = invitations.invitations_of_account(
        account=account, status=None if shown == "all" else shown, search=filters.search
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    perms = permissions.allowed_actions(membership)
    context = {
        "account": account,
        "membership": membership,
        "perms": perms,
        "can_invite": "members.invite" in perms,
        "can_manage_owners": "members.manage_owners" in perms,
        "counts": invitations.invitation_counts(account=account),
        "shown": shown,
        "search": filters.search,
        "page": page,
        "account_regions": list(regions_of_account(account_id=account.pk)),
        "invite_form": invite_form or _invite_form(membership),
        "import_form": import_form or InvitationImportForm(),
        "import_errors": import_errors,
        "csv_header": EXAMPLE_HEADER,
        "days": invitations.invitation_days(),
    }
    return render(request, "accounts/invitations.html", context, status=status)


@account_page
@require_POST
def invitation_create(request, slug: str):
    actor = _member(request, slug, "members.invite")
    form = _invite_form(actor, request.POST)
    if form.is_valid():
        try:
            invitation = invitations.invitation_create(
                account=actor.account, actor=actor, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("accounts:invitations", slug=slug)
    return _page(request, actor, invite_form=form, status=400)


@account_page
@require_POST
def invitations_import(request, slug: str):
    actor = _member(request, slug, "members.invite")
    form = InvitationImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = invitations.invitations_import_csv(
                account=actor.account, actor=actor, file=form.cleaned_data["file"]
            )
        except InvitationImportError as exc:
            return _page(request, actor, import_form=form, import_errors=exc.rows, status=400)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            people = "invitation" if result.count == 1 else "invitations"
            messages.success(request, f"{result.count} {people} sent; nothing else changed.")
            return redirect("accounts:invitations", slug=slug)
    return _page(request, actor, import_form=form, status=400)


def _invitation_action(request, slug: str, invitation_id: int, service, done: str):
    # Role first (403), then the object of this account only (another's: 404).
    actor = _member(request, slug, "members.invite")
    invitation = invitations.invitation_of_account(account=actor.account, invitation_id=invitation_id)
    try:
        service(invitation=invitation, actor=actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done.format(email=invitation.email))
    url = reverse("accounts:invitations", kwargs={"slug": slug})
    back = request.POST.get("status", "")
    if back in (*invitations.STATUS_FILTERS, "all"):
        url += "?" + urlencode({"status": back})
    return redirect(url)


@account_page
@require_POST
def invitation_resend(request, slug: str, invitation_id: int):
    return _invitation_action(
        request, slug, invitation_id, invitations.invitation_resend,
        "Invitation sent again to {email}; the earlier link no longer works.",
    )  # fmt: skip


@account_page
@require_POST
def invitation_revoke(request, slug: str, invitation_id: int):
    return _invitation_action(
        request, slug, invitation_id, invitations.invitation_revoke,
        "Invitation of {email} revoked; its link no longer works.",
    )  # fmt: skip


# --- the invitee's link -----------------------------------------------------------------------

UNUSABLE_STATUS = {InvitationUnusable.Reason.INVALID: 404}


def _unusable(request, exc: InvitationUnusable):
    context = {"reason": str(exc.reason), "invitation": exc.invitation}
    status = UNUSABLE_STATUS.get(exc.reason, 410)
    return render(request, "accounts/invite_unusable.html", context, status=status)


def _login_url(next_path: str) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': next_path})}"


def _sso_only_address(email: str) -> bool:
    from accounts import sso

    return sso.password_login_refused(email=email) is not None


def _for_another_address(request, invitation: Invitation):
    context = {"invitation": invitation}
    return render(request, "accounts/invite_wrong_account.html", context, status=403)


@never_cache
@require_http_methods(["GET", "POST"])
def invite(request, token: str):
    try:
        invitation = invitations.invitation_for_token(token=token)
    except InvitationUnusable as exc:
        return _unusable(request, exc)
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.email.lower() != invitation.email.lower():
        return _for_another_address(request, invitation)
    has_login = user is not None or invitations.identity_exists(email=invitation.email)
    if not has_login and _sso_only_address(invitation.email):
        # SSO-only (issue 11): no password identity for an address of the account's verified
        # domains; the invitee signs in through their IdP (created just in time), then accepts.
        return redirect(_login_url(request.path))
    form = None
    if not has_login:
        initial = {"first_name": invitation.first_name, "last_name": invitation.last_name}
        form = InviteAcceptForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if user is None and has_login:
            return redirect(_login_url(request.path))
        if form is not None and not form.is_valid():
            return _accept_page(request, invitation, form, has_login, status=400)
        return _accept(request, token, invitation, user, form, has_login)
    return _accept_page(request, invitation, form, has_login)


def _accept(request, token: str, invitation: Invitation, user, form, has_login: bool):
    data = form.cleaned_data if form is not None else {}
    try:
        membership = invitations.invitation_accept(
            token=token, user=user, password=data.get("password"),
            first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
        )  # fmt: skip
    except InvitationUnusable as exc:
        return _unusable(request, exc)
    except InvitationSignInRequired:
        return redirect(_login_url(request.path))
    except InvitationForAnotherAddress:
        return _for_another_address(request, invitation)
    except ValidationError as exc:  # a weak password; a person still being removed
        if form is None:
            return _accept_page(request, invitation, None, has_login, status=400, errors=exc.messages)
        add_service_errors(form, exc)
        return _accept_page(request, invitation, form, has_login, status=400)
    account = membership.account
    messages.success(request, f"Welcome to {account.name}.")
    home = reverse("accounts:home", kwargs={"slug": account.slug})
    if user is None:
        # A new identity signs in through allauth, so its login stages (MFA) and signals apply.
        return perform_login(
            request, membership.user, redirect_url=home, signup=True, email=membership.user.email
        )
    return redirect(home)


def _accept_page(request, invitation, form, has_login: bool, *, status: int = 200, errors=()):
    context = {
        "invitation": invitation,
        "account": invitation.account,
        "inviter": invitation.invited_by,
        "regions": list(invitation.regions.order_by("code")) if not invitation.all_regions else None,
        "groups": list(invitation.groups.order_by("name")),
        "form": form,
        "errors": list(errors),
        "has_login": has_login,
        "login_url": _login_url(request.path),
    }
    return render(request, "accounts/invite_accept.html", context, status=status)
