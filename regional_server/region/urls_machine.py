"""The machine listener (mutual TLS): the kit's machine URLs (tenant API, products' machine
URLs). SCIM's URL module is set per request by atrium_kit.scim.ScimTenantMiddleware."""

from django.urls import include, path

urlpatterns = [path("", include("atrium_kit.urls_machine"))]
