"""Groups pages (`/a/<slug>/groups/`): everyone in the account sees the groups and their
members; owners and admins ("groups.manage") create, rename, delete and change members. Thin:
each view reads through the selectors in accounts/groups.py or calls one of its services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import groups, permissions, selectors
from accounts.forms_groups import GroupForm, GroupMembersAddForm, GroupMembersRemoveForm
from accounts.models import Group, Membership
from accounts.views import account_page
from regions.models import ProvisioningRecord
from regions.selectors import regions_of_account

GROUPS_PER_PAGE = 100
MEMBERS_PER_PAGE = 50
CANDIDATES_SHOWN = 50
WAITING = {ProvisioningRecord.State.PENDING, ProvisioningRecord.State.RETRYING}


def _member(request, slug: str) -> Membership:
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "groups.view")
    return membership


def _manager(request, slug: str) -> Membership:
    membership = _member(request, slug)
    permissions.require(membership, "groups.manage")
    return membership


def _group(request, slug: str, group_id: int, *, manage: bool = False) -> tuple[Membership, Group]:
    # Another account's group is a 404 before the role is judged (nothing to probe).
    membership = _member(request, slug)
    group = groups.group_of_account(account=membership.account, group_id=group_id)
    if manage:
        permissions.require(membership, "groups.manage")
    return membership, group


def _context(membership: Membership, **extra) -> dict:
    return {
        "account": membership.account,
        "membership": membership,
        "allowed": permissions.allowed_actions(membership),
        **extra,
    }


def _apply(form, call):
    """Run a service; its ValidationError becomes the form's error (field or whole form)."""
    try:
        return call()
    except ValidationError as exc:
        form.add_error(None, exc if hasattr(exc, "error_dict") else exc.messages)
        return None


@account_page
def group_list(request, slug: str):
    membership = _member(request, slug)
    return _list_page(request, membership, GroupForm())


def _list_page(request, membership: Membership, form: GroupForm, status: int = 200):
    account = membership.account
    page = Paginator(groups.groups_of_account(account=account), GROUPS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    regions = list(regions_of_account(account_id=account.pk))
    rows = groups.group_rows_with_sync(account=account, groups=list(page), regions=regions)
    context = _context(membership, page=page, rows=rows, regions=regions, form=form)
    return render(request, "accounts/groups.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def group_create(request, slug: str):
    actor = _manager(request, slug)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = _apply(
            form, lambda: groups.group_create(account=actor.account, actor=actor, **form.cleaned_data)
        )
        if group is not None:
            messages.success(request, f"Group {group.name} created.")
            return redirect("accounts:group_detail", slug=slug, group_id=group.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/group_form.html", _context(actor, form=form, group=None), status=status)


@account_page
def group_detail(request, slug: str, group_id: int):
    membership, group = _group(request, slug, group_id)
    part = request.GET.get("part") if request.headers.get("HX-Request") else None
    if part == "sync":
        return render(request, "accounts/group_sync.html", _sync_context(membership, group))
    if part == "candidates":
        permissions.require(membership, "groups.manage")
        return render(
            request, "accounts/group_candidates.html", _candidates_context(request, membership, group)
        )
    return _detail_page(request, membership, group)


def _sync_context(membership: Membership, group: Group) -> dict:
    syncs = groups.group_syncs(group=group)
    return _context(membership, group=group, syncs=syncs, syncing=any(s.state in WAITING for s in syncs))


def _candidates_context(request, membership: Membership, group: Group) -> dict:
    query = request.GET.get("q", "")[:100]
    found = groups.group_member_candidates(group=group, query=query, limit=CANDIDATES_SHOWN)
    return _context(
        membership,
        group=group,
        q=query,
        candidates=found[:CANDIDATES_SHOWN],
        more=len(found) > CANDIDATES_SHOWN,
    )


def _detail_page(request, membership: Membership, group: Group, status: int = 200, **forms):
    page = Paginator(groups.group_members(group=group), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context = _sync_context(membership, group)
    if permissions.can(membership, "groups.manage"):
        context.update(_candidates_context(request, membership, group))
    context.update(page=page, **forms)
    return render(request, "accounts/group_detail.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def group_edit(request, slug: str, group_id: int):
    actor, group = _group(request, slug, group_id, manage=True)
    initial = {"name": group.name, "description": group.description}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = _apply(form, lambda: groups.group_update(group=group, actor=actor, **form.cleaned_data))
        if updated is not None:
            messages.success(request, f"Group {updated.name} saved.")
            return redirect("accounts:group_detail", slug=slug, group_id=group.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/group_form.html", _context(actor, form=form, group=group), status=status)


@account_page
@require_http_methods(["GET", "POST"])
def group_delete(request, slug: str, group_id: int):
    actor, group = _group(request, slug, group_id, manage=True)
    if request.method == "POST":
        groups.group_delete(group=group, actor=actor)
        messages.success(request, f"Group {group.name} deleted; it is being removed from every region.")
        return redirect("accounts:groups", slug=slug)
    regions = list(regions_of_account(account_id=actor.account_id))
    return render(request, "accounts/group_delete.html", _context(actor, group=group, regions=regions))


@account_page
@require_POST
def group_members_add(request, slug: str, group_id: int):
    actor, group = _group(request, slug, group_id, manage=True)
    form = GroupMembersAddForm(request.POST, group=group, addable=groups.group_addable_members(group=group))
    if form.is_valid():
        picked = list(form.cleaned_data["members"])
        added = _apply(form, lambda: groups.group_members_add(group=group, actor=actor, memberships=picked))
        if added is not None:
            messages.success(
                request, _counted(added, "member added", "members added", "already in the group")
            )
            return redirect("accounts:group_detail", slug=slug, group_id=group.pk)
    return _detail_page(request, actor, group, status=400, add_form=form)


@account_page
@require_POST
def group_members_remove(request, slug: str, group_id: int):
    actor, group = _group(request, slug, group_id, manage=True)
    form = GroupMembersRemoveForm(request.POST, group=group)
    if form.is_valid():
        picked = list(form.cleaned_data["members"])
        removed = _apply(
            form, lambda: groups.group_members_remove(group=group, actor=actor, memberships=picked)
        )
        if removed is not None:
            messages.success(
                request, _counted(removed, "member removed", "members removed", "nobody removed")
            )
            return redirect("accounts:group_detail", slug=slug, group_id=group.pk)
    return _detail_page(request, actor, group, status=400, remove_form=form)


def _counted(n: int, one: str, many: str, none: str) -> str:
    if n == 0:
        return none[0].upper() + none[1:] + "."
    return f"1 {one}." if n == 1 else f"{n} {many}."
