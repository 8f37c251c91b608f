"""Connected apps of an account (`/a/<slug>/apps/`): every member sees the apps they may open
(the launcher); owners and admins ("apps.manage") enable registered apps for the company, choose
who may open each, and disable them. Thin: reads through accounts.connected_apps' selectors,
writes through its services; a change is confirmed by a form (GET shows it, POST does it)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts import connected_apps, permissions, selectors
from accounts.forms_apps import AppAudienceForm
from accounts.models import AppEnablement, Membership
from accounts.views import account_page


def _context(membership: Membership, **extra) -> dict:
    return {
        "account": membership.account,
        "membership": membership,
        "perms": permissions.allowed_actions(membership),
        **extra,
    }


def _manager(request, slug: str) -> Membership:
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "apps.manage")
    return membership


def _apply(form, call) -> bool:
    """Run a service; its ValidationError becomes the form's error."""
    try:
        call()
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return False
    return True


@account_page
@require_safe
def apps(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    perms = permissions.allowed_actions(membership)
    rows = connected_apps.app_rows_of_account(account=membership.account) if "apps.manage" in perms else []
    context = _context(membership, apps=connected_apps.apps_launchable(membership=membership), rows=rows)
    return render(request, "accounts/apps.html", context)


@account_page
@require_http_methods(["GET", "POST"])
def app_enable(request, slug: str, app_id: int):
    actor = _manager(request, slug)
    app = connected_apps.connected_app_get(app_id=app_id)
    form = AppAudienceForm(request.POST or None, account=actor.account)
    if request.method == "POST" and form.is_valid():
        done = _apply(form, lambda: connected_apps.app_enable(
            account=actor.account, app=app, actor=actor,
            audience=form.cleaned_data["audience"], groups=form.cleaned_data["groups"],
        ))  # fmt: skip
        if done:
            messages.success(request, f"{app.name} is enabled for {actor.account.name}.")
            return redirect("accounts:apps", slug=slug)
    status = 400 if request.method == "POST" else 200
    context = _context(actor, app=app, form=form, enablement=None)
    return render(request, "accounts/apps_audience.html", context, status=status)


def _enablement(request, slug: str, enablement_id: int) -> tuple[Membership, AppEnablement]:
    # Another account's enablement is a 404 before the role is judged (nothing to probe).
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    enablement = connected_apps.enablement_of_account(account=membership.account, enablement_id=enablement_id)
    permissions.require(membership, "apps.manage")
    return membership, enablement


@account_page
@require_http_methods(["GET", "POST"])
def app_audience(request, slug: str, enablement_id: int):
    actor, enablement = _enablement(request, slug, enablement_id)
    initial = {"audience": enablement.audience, "groups": list(enablement.groups.all())}
    form = AppAudienceForm(request.POST or None, account=actor.account, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = _apply(form, lambda: connected_apps.app_audience_set(
            enablement=enablement, actor=actor,
            audience=form.cleaned_data["audience"], groups=form.cleaned_data["groups"],
        ))  # fmt: skip
        if done:
            messages.success(request, f"Who may open {enablement.app.name} is saved.")
            return redirect("accounts:apps", slug=slug)
    status = 400 if request.method == "POST" else 200
    context = _context(actor, app=enablement.app, form=form, enablement=enablement)
    return render(request, "accounts/apps_audience.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def app_disable(request, slug: str, enablement_id: int):
    actor, enablement = _enablement(request, slug, enablement_id)
    if request.method == "POST":
        try:
            connected_apps.app_disable(enablement=enablement, actor=actor)
        except ValidationError as exc:  # disabled meanwhile by someone else
            messages.info(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{enablement.app.name} is disabled for {actor.account.name}.")
        return redirect("accounts:apps", slug=slug)
    return render(request, "accounts/apps_disable.html", _context(actor, enablement=enablement))
