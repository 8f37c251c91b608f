"""The machine listener (mutual TLS): SCIM per tenant. Tenant URL modules are set per request
by tenants.scim.ScimTenantMiddleware; this root only answers what is not SCIM."""

from django.urls import path
from tenants import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
