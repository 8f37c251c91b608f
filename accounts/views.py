from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import MemberAddForm, MemberRenameForm
from accounts.models import Membership
from regions import selectors as region_selectors
from regions.ledger import ledger_retry


def account_page(view):
    """Signed-in members only; one whose membership is suspended or being removed is told so."""

    @login_required
    @wraps(view)
    def wrapped(request, slug: str, *args, **kwargs):
        try:
            return view(request, slug, *args, **kwargs)
        except selectors.MembershipUnavailable as exc:
            membership = exc.membership
            context = {"account": membership.account, "membership": membership}
            return render(request, "accounts/membership_unavailable.html", context, status=403)

    return wrapped


@account_page
def account_home(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    account = membership.account
    context = {
        "account": account,
        "membership": membership,
        "members": list(selectors.account_members_list(account=account)),
        "regions": list(region_selectors.regions_of_account(account_id=account.pk)),
    }
    return render(request, "accounts/home.html", context)


@account_page
def members(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    return _members_page(request, membership, MemberAddForm())


def _members_page(request, membership: Membership, add_form: MemberAddForm, status: int = 200):
    overview = selectors.account_members_with_sync(account=membership.account)
    context = {
        "account": membership.account,
        "membership": membership,
        "columns": overview.columns,
        "rows": overview.rows,
        "member_count": overview.member_count,
        "syncing": overview.syncing,
        "add_form": add_form,
    }
    # htmx polls the table alone while a change is on its way
    template = (
        "accounts/_members_table.html" if request.headers.get("HX-Request") else "accounts/members.html"
    )
    return render(request, template, context, status=status)


def _admin(request, slug: str) -> Membership:
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    if not membership.is_admin:
        raise PermissionDenied("Only owners and admins manage members.")
    return membership


@account_page
@require_POST
def member_add(request, slug: str):
    actor = _admin(request, slug)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.member_add(account=actor.account, actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{added.user.email} added; a set-password mail is on its way.")
            return redirect("accounts:members", slug=slug)
    return _members_page(request, actor, form, status=400)


def _member_action(request, slug: str, membership_id: int, action, done: str, **kwargs):
    actor = _admin(request, slug)
    target = selectors.member_of_account(account=actor.account, membership_id=membership_id)
    try:
        result = action(actor=actor, membership=target, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done(result) if callable(done) else done.format(email=target.user.email))
    return redirect("accounts:members", slug=slug)


@account_page
@require_POST
def member_rename(request, slug: str, membership_id: int):
    # Another account's member is a 404 before any input is judged (nothing to probe).
    actor = _admin(request, slug)
    selectors.member_of_account(account=actor.account, membership_id=membership_id)
    form = MemberRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Names are at most 150 characters.")
        return redirect("accounts:members", slug=slug)
    return _member_action(
        request, slug, membership_id, services.member_rename, "{email} renamed.", **form.cleaned_data
    )


@account_page
@require_POST
def member_suspend(request, slug: str, membership_id: int):
    return _member_action(
        request, slug, membership_id, services.member_suspend, "{email} suspended everywhere."
    )


@account_page
@require_POST
def member_reactivate(request, slug: str, membership_id: int):
    return _member_action(request, slug, membership_id, services.member_reactivate, "{email} reactivated.")


@account_page
@require_POST
def member_remove(request, slug: str, membership_id: int):
    return _member_action(request, slug, membership_id, services.member_remove, _removal_message)


def _removal_message(removal: services.Removal) -> str:
    # "Removed everywhere" only once every region confirmed; until then the row stays, badged.
    email = removal.membership.user.email
    if removal.unconfirmed == 0:
        return f"{email} removed."
    regions = "region" if removal.unconfirmed == 1 else "regions"
    return (
        f"Removing {email} from {removal.unconfirmed} {regions}… their row leaves the table once confirmed."
    )


@account_page
@require_POST
def sync_retry(request, slug: str, record_id: int):
    actor = _admin(request, slug)
    record = selectors.sync_record_of_account(account=actor.account, record_id=record_id)
    ledger_retry(record=record)
    messages.success(request, "Retry queued.")
    return redirect("accounts:members", slug=slug)
