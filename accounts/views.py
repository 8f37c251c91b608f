"""The account's own pages: its home and its members.

The members page is a directory (name, email, role of active members) for whoever may only
see that, and the admin view (status, sync state per region, errors) for observers, with
controls for those who manage members. Every change goes through a confirmation page that
names who it touches (GET shows what will happen, POST does it through the service), so it
works without JavaScript; the page itself only reads, through the selectors."""

from functools import wraps
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import groups, permissions, selectors, services
from accounts.forms import (
    MemberFilterForm,
    MemberRegionsForm,
    MemberRenameForm,
    MemberRoleForm,
    MembersBulkForm,
)
from accounts.home_panels import home_panels_for
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


def _feature_links(slug: str) -> dict[str, str]:
    """Pages of other features, linked by name once they are mounted (by path until then)."""
    links = {}
    for name, path in (("invitations", "invitations/"), ("groups", "groups/"), ("audit", "audit/"),
                       ("settings", "settings/")):  # fmt: skip
        try:
            links[name] = reverse(f"accounts:{name}", args=[slug])
        except NoReverseMatch:
            links[name] = f"/a/{slug}/{path}"
    return links


@account_page
@require_safe
def account_home(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    account = membership.account
    perms = permissions.allowed_actions(membership)
    context = {
        "account": account,
        "membership": membership,
        "perms": perms,
        "overview": selectors.account_overview(account=account),
        "regions": list(region_selectors.regions_of_account(account_id=account.pk)),
        "changes": selectors.account_recent_changes(account=account) if "audit.view" in perms else [],
        "links": _feature_links(slug),
        "panels": home_panels_for(request, membership, perms),
    }
    return render(request, "accounts/home.html", context)


# --- the members page -------------------------------------------------------------------------
LIST_PARAMS = ("q", "role", "status", "sync", "group", "sort", "page")
BADGES_MAX = 100


def _list_query_string(query: selectors.MemberQuery, page_number: int = 1) -> str:
    params = query.params()
    if page_number > 1:
        params["page"] = str(page_number)
    return urlencode(params)


@account_page
@require_safe
def members(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    account = membership.account
    perms = permissions.allowed_actions(membership)
    permissions.require(membership, "members.directory")
    directory = "members.view_admin" not in perms
    group_choices = [] if directory else selectors.group_choices_of_account(account=account)
    form = MemberFilterForm(request.GET, groups=group_choices, directory=directory)
    query = form.query()
    listing = selectors.members_page(
        account=account, query=query, page_number=request.GET.get("page"), directory=directory
    )
    params = urlencode(query.params())
    back = _list_query_string(query, listing.page.number)
    context = {
        "account": account,
        "membership": membership,
        "perms": perms,
        "directory": directory,
        "form": form,
        "query": query,
        "listing": listing,
        "counts": listing.counts,
        "page_prefix": f"{params}&" if params else "",
        "back": back,
        "back_param": quote(back, safe=""),
        "members_url": reverse("accounts:members", args=[slug]),
        "links": _feature_links(slug),
        "can_manage": not directory and "members.manage" in perms,
        "can_manage_owners": not directory and "members.manage_owners" in perms,
    }
    if not directory:
        context["badges_url"] = _badges_url(slug, listing)
        context["bulk_form"] = MembersBulkForm(
            groups=group_choices, allow_owner="members.manage_owners" in perms
        )
    return render(request, "accounts/members.html", context)


def _badges_url(slug: str, listing: selectors.MembersPage) -> str:
    ids = ",".join(str(row.membership.pk) for row in listing.rows)
    codes = ",".join(column.region.code for column in listing.columns)
    return reverse("accounts:members_badges", args=[slug]) + "?" + urlencode({"ids": ids, "regions": codes})


def _csv_param(value: str, limit: int, convert=str) -> list | None:
    """`1,2,3` as a list (None when malformed or longer than `limit`)."""
    items = [item for item in value.split(",") if item]
    if len(items) > limit:
        return None
    try:
        return [convert(item) for item in items]
    except ValueError:
        return None


@account_page
@require_safe
def members_badges(request, slug: str):
    """The live refresh of the badges of the members shown: only those cells (out-of-band
    swaps by id), never the forms around them, so focus and half-typed input stay put."""
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "members.view_admin")
    ids = _csv_param(request.GET.get("ids", ""), BADGES_MAX, _member_id)
    codes = _csv_param(request.GET.get("regions", ""), 50)
    if ids is None or codes is None:
        return HttpResponseBadRequest(f"ids: at most {BADGES_MAX} member ids, regions: region codes.")
    badges = selectors.member_badges(account=membership.account, membership_ids=ids, region_codes=codes)
    context = {
        "account": membership.account,
        "membership": membership,
        "perms": permissions.allowed_actions(membership),
        "badges": badges,
        "back": _back(request),
    }
    return render(request, "accounts/_members_badges.html", context)


def _member_id(value: str) -> int:
    pk = int(value)
    if not 0 < pk < 2**62:
        raise ValueError(value)
    return pk


# --- one member: confirm (GET), then do (POST) ---------------------------------------------
def _back(request) -> str:
    """The members list's query string to return to; only its own parameters survive, and
    the redirect always goes to the members page (no open redirect)."""
    data = request.POST if request.method == "POST" else request.GET
    params = QueryDict(data.get("back", "")[:2000])
    return urlencode([(key, params[key][:200]) for key in LIST_PARAMS if params.get(key)])


def _members_url(slug: str, back: str) -> str:
    url = reverse("accounts:members", args=[slug])
    return f"{url}?{back}" if back else url


def _actor_and_target(request, slug: str, membership_id: int, action: str = "members.manage"):
    """The caller and the member they act on. Another account's member is a 404 before any
    permission is judged; then a role without the right is a 403 (an owner needs an owner)."""
    actor = selectors.membership_for_page(user=request.user, slug=slug)
    target = selectors.member_of_account(account=actor.account, membership_id=membership_id)
    permissions.require(actor, action)
    if target.role == Membership.Role.OWNER:
        permissions.require(actor, "members.manage_owners")
    return actor, target


def _confirm(request, actor, target, *, action: str, run, done, form=None, **context):
    """GET: the confirmation page naming the person (with the form, if any). POST: run the
    service; success goes back to the list with a message, a refusal stays here (400)."""
    errors: list[str] = []
    back = _back(request)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            result = run()
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, done(result))
            return redirect(_members_url(actor.account.slug, back))
    context |= {
        "account": actor.account,
        "membership": actor,
        "target": target,
        "action": action,
        "form": form,
        "errors": errors,
        "back": back,
        "cancel_url": _members_url(actor.account.slug, back),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/member_confirm.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def member_rename(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    user = target.user
    form = MemberRenameForm(
        request.POST if request.method == "POST" else None,
        initial={"first_name": user.first_name, "last_name": user.last_name},
    )
    return _confirm(
        request, actor, target, action="rename", form=form,
        run=lambda: services.member_rename(actor=actor, membership=target, **form.cleaned_data),
        done=lambda _: f"{user.email} renamed.",
    )  # fmt: skip


@account_page
@require_http_methods(["GET", "POST"])
def member_role(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    form = MemberRoleForm(
        request.POST if request.method == "POST" else None,
        initial={"role": request.GET.get("role") or target.role},
        allow_owner=permissions.can(actor, "members.manage_owners"),
    )

    def done(changed: Membership) -> str:
        return f"{target.user.email} is now {changed.get_role_display().lower()}."

    def run() -> Membership:
        return services.member_role_change(actor=actor, membership=target, role=form.cleaned_data["role"])

    return _confirm(request, actor, target, action="role", form=form, done=done, run=run)


@account_page
@require_http_methods(["GET", "POST"])
def member_regions(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    regions = region_selectors.regions_of_account(account_id=actor.account_id)
    form = MemberRegionsForm(
        request.POST if request.method == "POST" else None,
        initial={"all_regions": target.all_regions, "regions": list(target.regions.all())},
        regions=regions,
    )

    def run():
        data = form.cleaned_data
        return services.member_region_access_set(
            actor=actor, membership=target, all_regions=data["all_regions"], regions=list(data["regions"])
        )

    return _confirm(
        request, actor, target, action="regions", form=form, run=run,
        done=lambda _: f"Region access of {target.user.email} changed; the regions follow.",
    )  # fmt: skip


@account_page
@require_http_methods(["GET", "POST"])
def member_suspend(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    return _confirm(
        request, actor, target, action="suspend",
        run=lambda: services.member_suspend(actor=actor, membership=target),
        done=lambda _: f"{target.user.email} suspended everywhere.",
    )  # fmt: skip


@account_page
@require_http_methods(["GET", "POST"])
def member_reactivate(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    return _confirm(
        request, actor, target, action="reactivate",
        run=lambda: services.member_reactivate(actor=actor, membership=target),
        done=lambda _: f"{target.user.email} reactivated.",
    )  # fmt: skip


@account_page
@require_http_methods(["GET", "POST"])
def member_remove(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id)
    return _confirm(
        request, actor, target, action="remove",
        run=lambda: services.member_remove(actor=actor, membership=target),
        done=_removal_message,
    )  # fmt: skip


@account_page
@require_http_methods(["GET", "POST"])
def member_transfer(request, slug: str, membership_id: int):
    actor, target = _actor_and_target(request, slug, membership_id, action="members.manage_owners")
    return _confirm(
        request, actor, target, action="transfer",
        run=lambda: services.ownership_transfer(actor=actor, to=target),
        done=lambda _: f"{target.user.email} now owns {actor.account.name}; you are an admin.",
    )  # fmt: skip


def _removal_message(removal: services.Removal) -> str:
    # "Removed everywhere" only once every region confirmed; until then the row stays, badged.
    email = removal.membership.user.email
    if removal.unconfirmed == 0:
        return f"{email} removed."
    regions = "region" if removal.unconfirmed == 1 else "regions"
    return (
        f"Removing {email} from {removal.unconfirmed} {regions}… their row leaves the table once confirmed."
    )


# --- many members at once ----------------------------------------------------------------------
BULK_DONE = {
    "suspend": "{n} suspended everywhere.",
    "reactivate": "{n} reactivated.",
    "remove": "{n} removed (each row stays, badged, until every region confirmed).",
    "change_role": "{n} now {role}.",
    "add_to_group": "{n} added to {group}.",
}


@account_page
@require_http_methods(["GET", "POST"])
def members_bulk(request, slug: str):
    """GET: what will happen to whom (count and names); POST: do it, report what was skipped."""
    actor = selectors.membership_for_page(user=request.user, slug=slug)
    if not (permissions.can(actor, "members.manage") or permissions.can(actor, "groups.manage")):
        permissions.require(actor, "members.manage")
    group_choices = selectors.group_choices_of_account(account=actor.account)
    form = MembersBulkForm(
        request.POST if request.method == "POST" else request.GET,
        groups=group_choices,
        allow_owner=permissions.can(actor, "members.manage_owners"),
    )
    back = _back(request)
    context = {"account": actor.account, "membership": actor, "form": form, "back": back,
               "cancel_url": _members_url(slug, back)}  # fmt: skip
    if not form.is_valid():
        return render(request, "accounts/members_bulk.html", context, status=400)
    action, data = form.cleaned_data["action"], form.cleaned_data
    permissions.require(actor, "groups.manage" if action == "add_to_group" else "members.manage")
    targets = selectors.members_of_account_by_ids(account=actor.account, membership_ids=data["ids"])
    group = groups.group_of_account(account=actor.account, group_id=data["group"]) if data["group"] else None
    role = Membership.Role(data["role"]) if data["role"] else None
    context |= {"action": action, "action_label": dict(form.fields["action"].choices)[action],
                "targets": targets, "group": group, "role": role}  # fmt: skip
    if request.method == "GET":
        return render(request, "accounts/members_bulk.html", context)
    try:
        result = services.members_bulk(
            actor=actor, memberships=targets, action=action, role=role.value if role else None, group=group
        )
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "accounts/members_bulk.html", context, status=400)
    _report_bulk(request, result, action=action, role=role, group=group)
    return redirect(_members_url(slug, back))


def _report_bulk(request, result: services.BulkResult, *, action: str, role, group) -> None:
    people = "1 member" if result.done == 1 else f"{result.done} members"
    if result.done:
        label = role.label.lower() if role else ""
        messages.success(request, BULK_DONE[action].format(n=people, role=label, group=group))
    if result.skipped:
        reasons = "; ".join(f"{m.user.email}: {reason}" for m, reason in result.skipped)
        messages.warning(request, f"Skipped {len(result.skipped)}: {reasons}")


@account_page
@require_POST
def sync_retry(request, slug: str, record_id: int):
    actor = selectors.membership_for_page(user=request.user, slug=slug)
    record = selectors.sync_record_of_account(account=actor.account, record_id=record_id)
    if not permissions.can(actor, "sync.retry"):
        raise PermissionDenied("Your role does not allow retrying (sync.retry).")
    ledger_retry(record=record)
    messages.success(request, "Retry queued.")
    # Back to the page the button was on, if it is one of this account's pages (never elsewhere).
    next_path = request.POST.get("next", "")
    if next_path.startswith(f"/a/{slug}/") and url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        return redirect(next_path)
    return redirect(_members_url(slug, _back(request)))
