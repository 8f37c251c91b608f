"""The machine listener (mutual TLS): the kit's machine URLs (tenant API, products' machine
URLs). SCIM's URL module is set per request by atrium_kit.scim.ScimTenantMiddleware."""

from django.urls import include, path

urlpatterns = [path("", include("atrium_kit.urls_machine"))]
# Under /tenant/ an unknown path (a slug that is none, a product not here) is the tenant API's
# JSON 404, not an HTML page. SCIM paths keep SCIM's own handlers.
handler404 = "atrium_kit.views.machine_not_found"
