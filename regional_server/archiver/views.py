"""Archiver's pages: the tenant's people and groups (from Atrium's directory) with their holds.
When the directory does not answer, the page still shows the holds held here and says why
people cannot be listed; nothing is placed until it answers again."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from archiver import selectors, services
from archiver.forms import HoldForm
from atrium_kit.directory import DirectoryUnavailable
from atrium_kit.products import product_view


def _page(request, *, form=None, status: int = 200):
    tenant = request.tenant
    directory, unavailable = None, ""
    try:
        directory = services.directory_read(tenant_slug=tenant.slug)
    except DirectoryUnavailable as exc:
        unavailable = exc.message
    holds = selectors.holds_of(tenant=tenant)
    held = {(h.kind, h.target_id): h for h in holds if h.active}
    context = {
        "directory": directory,
        "directory_unavailable": unavailable,
        "is_admin": bool(directory and directory.is_admin(request.user.scim_external_id or "")),
        "people": [
            {**u, "hold": held.get(("person", u.get("id")))} for u in (directory.users if directory else [])
        ],
        "groups": [
            {**g, "hold": held.get(("group", g.get("id")))} for g in (directory.groups if directory else [])
        ],
        "holds": holds,
        "form": form or HoldForm(),
    }
    return render(request, "archiver/holds.html", context, status=status)


@product_view("archiver")
@require_safe
def holds(request):
    return _page(request)


@product_view("archiver")
@require_POST
def hold_place(request):
    form = HoldForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        directory = services.directory_read(tenant_slug=request.tenant.slug)
    except DirectoryUnavailable as exc:
        messages.error(request, f"No hold was placed: Atrium's directory is unavailable ({exc.message}).")
        return redirect("archiver:holds")
    try:
        hold = services.hold_place(
            tenant=request.tenant, actor=request.user, directory=directory, **form.cleaned_data
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _page(request, form=form, status=400)
    messages.success(request, f"{hold.target_label} is on hold.")
    return redirect("archiver:holds")


@product_view("archiver")
@require_POST
def hold_release(request, hold_id: int):
    hold = selectors.hold_of_tenant(tenant=request.tenant, hold_id=hold_id)
    try:
        directory = services.directory_read(tenant_slug=request.tenant.slug)
    except DirectoryUnavailable as exc:
        messages.error(
            request, f"The hold was not released: Atrium's directory is unavailable ({exc.message})."
        )
        return redirect("archiver:holds")
    services.hold_release(hold=hold, actor=request.user, directory=directory)
    messages.success(request, f"The hold on {hold.target_label} is released.")
    return redirect("archiver:holds")
