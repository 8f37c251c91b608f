"""Atrium's machine listener (ATRIUM_LISTENER=machine; gunicorn with mutual TLS): healthz and the
directory API regions read. Nothing else of the portal is reachable here, and every answer,
errors included, is JSON."""

from django.http import JsonResponse
from django.urls import path

from accounts import api_directory
from portal import views
from products import api_directory as products_directory

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("directory/v1/catalog", products_directory.catalog, name="directory-catalog"),
    path("directory/v1/tenants/<slug:slug>", products_directory.tenant, name="directory-tenant"),
    path("directory/v1/tenants/<slug:slug>/users", api_directory.tenant_users, name="directory-users"),
    path("directory/v1/tenants/<slug:slug>/groups", api_directory.tenant_groups, name="directory-groups"),
]


def _error(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


def not_found(request, exception=None):
    return _error(404, "not_found", "No such endpoint on Atrium's machine port.")


def bad_request(request, exception=None):
    return _error(400, "invalid_request", "Bad request.")


def permission_denied(request, exception=None):
    return _error(403, "forbidden", "Forbidden.")


def server_error(request):
    return _error(500, "server_error", "Atrium could not answer; try again.")


handler400 = bad_request
handler403 = permission_denied
handler404 = not_found
handler500 = server_error
