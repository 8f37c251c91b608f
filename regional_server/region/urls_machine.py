"""The machine listener (mutual TLS): SCIM per tenant and the tenant API. SCIM's URL module is
set per request by atrium_kit.scim.ScimTenantMiddleware; this root answers what is not SCIM."""

from django.urls import path, re_path

from atrium_kit import tenant_api, views
from atrium_kit.scim import SLUG

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    re_path(
        rf"^tenant/v1/(?P<tenant>{SLUG})/entitlements$",
        tenant_api.entitlements_put,
        name="tenant_entitlements",
    ),
]
