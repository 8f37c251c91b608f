"""The machine listener's URLs (mutual TLS): the tenant API, and each registered product's
machine URLs (`<app>.urls_machine`, when the app has one) at
`tenant/v1/<tenant>/products/<code>/`. SCIM's URL module is set per request by
atrium_kit.scim.ScimTenantMiddleware; this root answers what is not SCIM.

MachineTokenMiddleware requires scope `tenant` for every `/tenant/` path before any view runs;
product views add their own check with `@machine_view(scope=...)`."""

from django.urls import include, path, re_path

from atrium_kit import backchannel, policy, tenant_api, views
from atrium_kit.products import registered_products
from atrium_kit.scim import SLUG


def product_machine_urlpatterns() -> list:
    return [
        re_path(rf"^tenant/v1/(?P<tenant>{SLUG})/products/{product.code}/", include(module))
        for product in registered_products()
        if (module := product.machine_urls_module) is not None
    ]


urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("oidc/backchannel-logout", backchannel.backchannel_logout, name="backchannel_logout"),
    re_path(
        rf"^tenant/v1/(?P<tenant>{SLUG})/entitlements$",
        tenant_api.entitlements_put,
        name="tenant_entitlements",
    ),
    re_path(rf"^tenant/v1/(?P<tenant>{SLUG})/policy$", policy.policy_endpoint, name="tenant_policy"),
    *product_machine_urlpatterns(),
]
