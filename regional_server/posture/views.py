"""Security Posture's people pages. The kit's @product_view has checked the posture entitlement;
whether there is backup data to scan is posture's own business (services.backup_entitled)."""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from atrium_kit.products import product_view
from posture import selectors, services


@product_view("posture")
@require_safe
def overview(request):
    now = timezone.now()
    services.posture_scan_if_stale(tenant=request.tenant, now=now)
    context = {
        "backup_entitled": services.backup_entitled(tenant=request.tenant, now=now),
        "no_backup": services.NO_BACKUP,
        "counts": selectors.alerts_counts(tenant=request.tenant),
        "last_scan": selectors.last_scan(tenant=request.tenant),
        "top_alerts": selectors.alerts_list(tenant=request.tenant, status="open")[:5],
    }
    return render(request, "posture/overview.html", context)


@product_view("posture")
@require_POST
def scan(request):
    result = services.posture_scan(tenant=request.tenant, now=timezone.now())
    if result.skipped:
        messages.warning(request, result.skipped)
    else:
        found = f"{result.findings} problem(s) found, {result.opened} new, {result.resolved} resolved"
        messages.success(request, f"Scan finished: {found}.")
    return redirect("posture:overview")


@product_view("posture")
@require_safe
def alerts(request):
    status = request.GET.get("status", "open")
    if status not in selectors.STATUS_FILTERS:
        raise BadRequest("status must be open, resolved or all")
    context = {
        "alerts": selectors.alerts_list(tenant=request.tenant, status=status),
        "status": status,
        "statuses": list(selectors.STATUS_FILTERS),
        "backup_entitled": services.backup_entitled(tenant=request.tenant, now=timezone.now()),
        "no_backup": services.NO_BACKUP,
    }
    return render(request, "posture/alerts.html", context)
