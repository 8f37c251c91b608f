"""Security Posture on the machine listener (contract C): the alerts summary Atrium's portal
shows per region. Counts and a link only — the alerts themselves stay in the region."""

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone

from atrium_kit import selectors as kit_selectors
from atrium_kit.machine_auth import json_error, machine_view
from atrium_kit.models import Tenant
from atrium_kit.products import ENTITLED, entitlement_state
from posture import selectors, services


@machine_view(scope="tenant")
def alerts_summary(request, tenant: str):
    if request.method not in ("GET", "HEAD"):
        response = json_error(405, f"{request.method} is not allowed here.")
        response["Allow"] = "GET, HEAD"
        return response
    row = Tenant.objects.filter(slug=tenant, is_active=True).first()
    if row is None:
        return json_error(404, f"No tenant {tenant} in this region.")
    now = timezone.now()
    held = kit_selectors.tenant_entitlements_of(tenant=row)
    if entitlement_state(held.document if held else None, code="posture", now=now)[0] == ENTITLED:
        services.posture_scan_if_stale(tenant=row, now=now)
    counts = selectors.alerts_counts(tenant=row)
    return JsonResponse(
        {
            "tenant": row.slug,
            "open": counts["open"],
            "by_severity": counts["by_severity"],
            "url": f"{settings.REGION_PEOPLE_URL}/p/posture/alerts/",
        }
    )
