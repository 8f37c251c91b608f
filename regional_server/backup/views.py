"""Backup & Recovery's people pages. The kit's @product_view has already checked the tenant's
entitlement and set request.tenant; these views only read."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from atrium_kit.products import product_view
from backup import selectors


@product_view("backup")
@require_safe
def sources(request):
    now = timezone.now()
    context = {"sources": selectors.sources_overview(tenant=request.tenant, now=now), "now": now}
    return render(request, "backup/sources.html", context)


@product_view("backup")
@require_safe
def source_detail(request, source_id: int):
    source = selectors.source_of_tenant(tenant=request.tenant, source_id=source_id)
    context = {"source": source, "jobs": selectors.source_jobs(source=source)}
    return render(request, "backup/source_detail.html", context)
