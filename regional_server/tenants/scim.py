"""SCIM 2.0 per tenant with django-scim2: `<machine URL>/scim/v2/<tenant slug>/…`.

The library reverses its URLs without arguments, so each tenant gets its own URL module
(`request.urlconf`), and every query is scoped to the tenant in SQL or by `tenant_id`.
"""

import json
import re
import sys
import types
from functools import cache

from django.conf import settings
from django.http import HttpResponse
from django.urls import include, path, re_path
from django_scim import constants
from django_scim import exceptions as scim_exceptions
from django_scim import views as scim_views

from tenants.machine_auth import scim_error
from tenants.models import Tenant

TENANT_PATH = re.compile(r"^/scim/v2/(?P<slug>[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)/")


class ScimTenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/scim/"):
            return self.get_response(request)
        match = TENANT_PATH.match(request.path)
        if match is None:
            return scim_error(404, "Use /scim/v2/<tenant>/ with the account's slug.")
        slug = match["slug"]
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None and request.method == "POST":
            # The first authenticated write creates the tenant.
            tenant, _ = Tenant.objects.get_or_create(slug=slug)
        request.scim_tenant_slug = slug
        request.scim_tenant_id = tenant.pk if tenant else None
        request.urlconf = tenant_urlconf(slug)
        return self.get_response(request)


@cache
def tenant_urlconf(slug: str) -> types.ModuleType:
    module = types.ModuleType(f"tenants.scim_urls_{slug.replace('-', '_')}")
    module.urlpatterns = [path(f"scim/v2/{slug}/", include((scim_urlpatterns(), "scim")))]
    sys.modules[module.__name__] = module
    return module


MAX_PAGE_SIZE = 200  # as announced in ServiceProviderConfig (filter.maxResults)


class TenantUsersView(scim_views.UsersView):
    """The library's Users view, stricter about input: a body must be a JSON object and a page
    holds at most MAX_PAGE_SIZE users (bad input is a SCIM 400, never a 500)."""

    def load_body(self, body):
        data = super().load_body(body)
        if not isinstance(data, dict):
            raise scim_exceptions.BadRequestError("The body must be a JSON object")
        operations = data.get("Operations")
        if operations is not None and not (
            isinstance(operations, list) and all(isinstance(op, dict) for op in operations)
        ):
            raise scim_exceptions.BadRequestError('"Operations" must be a list of objects')
        return data

    def _page(self, request):
        start, count = super()._page(request)
        if count is not None and count < 0:
            raise scim_exceptions.BadRequestError("Invalid count (must be >= 0)")
        return start, min(count if count is not None else MAX_PAGE_SIZE, MAX_PAGE_SIZE)


class TenantSchemasView(scim_views.SchemasView):
    """The library's schemas carry a static `meta.location`; point it under the tenant."""

    def get(self, request, uuid=None, *args, **kwargs):
        response = super().get(request, uuid, *args, **kwargs)
        if response.status_code != 200:
            return response
        doc = json.loads(response.content)
        base = f"{settings.REGION_MACHINE_URL}/scim/v2/{request.scim_tenant_slug}/Schemas/"
        for schema in doc.get("Resources", [doc]):
            schema.setdefault("meta", {})["location"] = base + schema["id"]
        return HttpResponse(json.dumps(doc), content_type=constants.SCIM_CONTENT_TYPE)


def scim_urlpatterns() -> list:
    not_implemented = scim_views.SCIMView.as_view(implemented=False)
    provider_config = scim_views.ServiceProviderConfigView.as_view()
    resource_types = scim_views.ResourceTypesView.as_view()
    return [
        re_path(r"^$", not_implemented, name="root"),
        re_path(r"^\.search$", not_implemented, name="search"),
        re_path(r"^Users/\.search$", scim_views.UserSearchView.as_view(), name="users-search"),
        re_path(r"^Users(?:/(?P<uuid>[^/]+))?$", TenantUsersView.as_view(), name="users"),
        re_path(r"^Groups/\.search$", not_implemented, name="groups-search"),
        re_path(r"^Groups(?:/(?P<uuid>[^/]+))?$", not_implemented, name="groups"),
        re_path(r"^Me$", not_implemented, name="me"),
        re_path(r"^ServiceProviderConfig$", provider_config, name="service-provider-config"),
        re_path(r"^ResourceTypes(?:/(?P<uuid>[^/]+))?$", resource_types, name="resource-types"),
        re_path(r"^Schemas(?:/(?P<uuid>[^/]+))?$", TenantSchemasView.as_view(), name="schemas"),
        re_path(r"^Bulk$", not_implemented, name="bulk"),
    ]  # fmt: skip
