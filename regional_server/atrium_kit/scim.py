"""SCIM 2.0 per tenant: `<machine URL>/scim/v2/<tenant slug>/…` (RFC 7643, RFC 7644).

Users and Groups (CRUD, PATCH, filters, sorting, paging, `attributes`/`excludedAttributes`,
`POST /<type>/.search`) and discovery. Unsupported parts answer 501: Bulk, /Me, and queries at
the root (`GET /` and `POST /.search`). Every answer that is not a success is a SCIM Error body.

Every query starts from the tenant's rows; a filter is ANDed to that condition in SQL. A write
creates the tenant only when it succeeds (atrium_kit.scim_adapters.tenant_for_write)."""

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import re_path
from django.views import View

from atrium_kit import scim_groups as groups
from atrium_kit.models import Group, Tenant, User
from atrium_kit.scim_adapters import (
    USER_FIELDS,
    USER_SHAPE,
    USER_SORT,
    ScimError,
    Shape,
    apply_patch,
    bad,
    user_delete,
    user_doc,
    user_doc_writable,
    user_save,
    user_values,
)
from atrium_kit.scim_filter import ScimFilterError, attr_path, is_storable_text, parse_filter, to_q
from atrium_kit.scim_schemas import (
    ERROR_URN,
    MAX_RESULTS,
    RESOURCE_TYPES,
    SCHEMAS,
    SEARCH_URN,
    attribute_list,
    base_url,
    list_response,
    project,
    resource_type_doc,
    schema_doc,
    service_provider_config_doc,
    wanted,
)

log = logging.getLogger(__name__)

SCIM_CONTENT_TYPE = "application/scim+json"
SLUG = r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?"
TENANT_PATH = re.compile(rf"^/scim/v2/(?P<slug>{SLUG})/")


def scim_response(doc: dict | None, status: int = 200, location: str | None = None) -> HttpResponse:
    body = "" if doc is None else json.dumps(doc)
    response = HttpResponse(body, status=status, content_type=SCIM_CONTENT_TYPE)
    if location:
        response["Location"] = location
    return response


def error_response(status: int, detail: str, scim_type: str | None = None) -> HttpResponse:
    doc = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        doc["scimType"] = scim_type
    return scim_response(doc, status)


class ScimTenantMiddleware:
    """Resolves the tenant of `/scim/v2/<slug>/…` (without creating it) and routes to this module."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/scim/"):
            return self.get_response(request)
        match = TENANT_PATH.match(request.path)
        if match is None:
            return error_response(404, "Use /scim/v2/<tenant>/ with the account's slug.")
        request.scim_tenant_slug = match["slug"]
        request.scim_tenant = Tenant.objects.filter(slug=match["slug"]).first()
        request.urlconf = __name__
        return self.get_response(request)


class ScimView(View):
    """Turns every failure into a SCIM Error body and rolls back what a failed request wrote."""

    def dispatch(self, request, *args, **kwargs):
        try:
            for name, values in request.GET.lists():
                _require_storable_text([name, *values])
            response = super().dispatch(request, *args, **kwargs)
        except ScimError as exc:
            response = error_response(exc.status, exc.detail, exc.scim_type)
        except Exception:
            log.exception("SCIM request failed: %s %s", request.method, request.path)
            response = error_response(500, "The region could not complete this request.")
        if response.status_code >= 400 and connection.in_atomic_block:
            transaction.set_rollback(True)
        return response

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error_response(405, f"{request.method} is not allowed here.")
        response["Allow"] = ", ".join(m.upper() for m in self._allowed_methods())
        return response

    @staticmethod
    def body(request) -> Any:
        try:
            data = json.loads(request.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad(f"The body is not JSON: {exc}", "invalidSyntax") from exc
        except RecursionError as exc:
            raise bad("The body nests too deeply", "invalidSyntax") from exc
        if not isinstance(data, dict):
            raise bad("The body must be a JSON object", "invalidSyntax")
        _require_storable_text(data)
        return data


MAX_JSON_DEPTH = 32


def _require_storable_text(value: Any, depth: int = 0) -> None:
    """Refuse what no database column can hold: JSON may carry lone UTF-16 surrogates
    ("\\ud800") and NUL characters, which are not text to SQLite's UTF-8 or PostgreSQL and would
    fail deep inside a query (a 500). Also bounds nesting, which no SCIM resource needs."""
    if depth > MAX_JSON_DEPTH:
        raise bad("The body nests too deeply", "invalidSyntax")
    if isinstance(value, str):
        if not is_storable_text(value):
            raise bad("Text must be valid Unicode without NUL characters", "invalidValue")
    elif isinstance(value, dict):
        for key, item in value.items():
            _require_storable_text(key, depth + 1)
            _require_storable_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _require_storable_text(item, depth + 1)


class NotImplementedView(ScimView):
    def dispatch(self, request, *args, **kwargs):
        return error_response(501, "This service provider does not implement this endpoint.")


class NotFoundView(ScimView):
    def dispatch(self, request, *args, **kwargs):
        return error_response(404, f"No SCIM endpoint at {request.path}.")


# --- discovery (RFC 7644 §4, RFC 7643 §5-7) -----------------------------------------------------
def _no_filter(request) -> None:
    # RFC 7644 §4: a filter on discovery endpoints SHOULD get 403, so no client trusts a match.
    if "filter" in request.GET:
        raise ScimError(403, "Discovery endpoints do not support filtering.")


class ServiceProviderConfigView(ScimView):
    http_method_names = ["get"]

    def get(self, request, tenant):
        _no_filter(request)
        return scim_response(service_provider_config_doc(request.scim_tenant_slug))


class ResourceTypesView(ScimView):
    http_method_names = ["get"]

    def get(self, request, tenant, rid=None):
        _no_filter(request)
        slug = request.scim_tenant_slug
        if rid is None:
            return scim_response(list_response([resource_type_doc(t, slug) for t in RESOURCE_TYPES]))
        if rid not in RESOURCE_TYPES:
            raise ScimError(404, f"No resource type {rid!r}.")
        return scim_response(resource_type_doc(rid, slug))


class SchemasView(ScimView):
    http_method_names = ["get"]

    def get(self, request, tenant, rid=None):
        _no_filter(request)
        slug = request.scim_tenant_slug
        if rid is None:
            return scim_response(list_response([schema_doc(urn, slug) for urn in SCHEMAS]))
        if rid not in SCHEMAS:
            raise ScimError(404, f"No schema {rid!r}.")
        return scim_response(schema_doc(rid, slug))


# --- resources ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    model: type
    fields: dict
    sort: dict
    shape: Shape
    values: Any  # (body, check_schema=) -> values
    save: Any  # (request, obj, values) -> obj
    writable: Any  # obj -> dict of writable attributes
    render: Any  # (obj, slug, attributes, excluded) -> dict
    prefetch: tuple  # (attribute, relation) loaded only when returned
    delete: Any


def _render_user(user, slug, attributes, excluded):
    return user_doc(user, slug, with_groups=wanted("groups", attributes, excluded))


def _render_group(group, slug, attributes, excluded):
    return groups.group_doc(group, slug, with_members=wanted("members", attributes, excluded))


USERS = Kind(
    model=User, fields=USER_FIELDS, sort=USER_SORT, shape=USER_SHAPE, values=user_values, save=user_save,
    writable=user_doc_writable, render=_render_user, prefetch=("groups", "member_of"), delete=user_delete,
)  # fmt: skip
GROUPS = Kind(
    model=Group, fields=groups.GROUP_FIELDS, sort=groups.GROUP_SORT, shape=groups.GROUP_SHAPE,
    values=groups.group_values, save=groups.group_save, writable=groups.group_doc_writable,
    render=_render_group, prefetch=("members", "members"), delete=lambda group: group.delete(),
)  # fmt: skip


def _int_param(raw, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise bad(f'"{name}" must be an integer')
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise bad(f'"{name}" must be an integer') from exc


def _attributes(params: dict) -> tuple[list, list]:
    try:
        return attribute_list(params.get("attributes")), attribute_list(params.get("excludedAttributes"))
    except ScimFilterError as exc:
        raise bad(str(exc), "invalidPath") from exc


class ResourceMixin:
    kind: Kind = None  # set by as_view(kind=…)

    def tenant_rows(self, request):
        if request.scim_tenant is None:
            return self.kind.model.objects.none()
        return self.kind.model.objects.filter(tenant=request.scim_tenant)

    def get_object(self, request, rid):
        obj = self.tenant_rows(request).filter(scim_id=rid).first()
        if obj is None:
            raise ScimError(404, f"No {self.kind.model.__name__} {rid!r} in this tenant.")
        return obj

    def render(self, request, obj, attributes=(), excluded=()):
        doc = self.kind.render(obj, request.scim_tenant_slug, attributes, excluded)
        return project(doc, list(attributes), list(excluded))

    def query(self, request, params: dict) -> HttpResponse:
        """List / search (RFC 7644 §3.4.2, §3.4.3): filter, sort, page, attributes."""
        attributes, excluded = _attributes(params)
        rows = self.tenant_rows(request)
        raw_filter = params.get("filter")
        if raw_filter is not None:
            try:
                rows = rows.filter(to_q(parse_filter(raw_filter), self.kind.fields)).distinct()
            except ScimFilterError as exc:
                raise bad(f"Invalid filter: {exc}", "invalidFilter") from exc
        rows = rows.order_by(*self.ordering(params.get("sortBy"), params.get("sortOrder")))
        # §3.4.2.4: startIndex below 1 means 1; a negative count means 0; at most MAX_RESULTS.
        start = min(max(_int_param(params.get("startIndex"), "startIndex") or 1, 1), 2**31)
        count = _int_param(params.get("count"), "count")
        count = MAX_RESULTS if count is None else min(max(count, 0), MAX_RESULTS)
        attr, relation = self.kind.prefetch
        if wanted(attr, attributes, excluded):
            rows = rows.prefetch_related(relation)
        total = rows.count()
        page = list(rows[start - 1 : start - 1 + count]) if count else []
        resources = [self.render(request, obj, attributes, excluded) for obj in page]
        return scim_response(list_response(resources, total=total, start=start))

    def ordering(self, sort_by, sort_order) -> list:
        if sort_by is None:
            return ["pk"]
        if not isinstance(sort_by, str):
            raise bad('"sortBy" must be an attribute name')
        try:
            key = attr_path(sort_by.strip()).dotted
        except ScimFilterError as exc:
            raise bad(str(exc), "invalidPath") from exc
        expr = self.kind.sort.get(key)
        if expr is None:
            raise bad(f"Sorting by {sort_by!r} is not supported", "invalidPath")
        order = (sort_order or "ascending").lower() if isinstance(sort_order, str | None) else None
        if order not in {"ascending", "descending"}:
            raise bad('"sortOrder" must be "ascending" or "descending"')
        if isinstance(expr, str):
            return [f"-{expr}" if order == "descending" else expr, "pk"]
        return [expr.desc() if order == "descending" else expr.asc(), "pk"]


class CollectionView(ResourceMixin, ScimView):
    http_method_names = ["get", "post"]

    def get(self, request, tenant):
        return self.query(request, request.GET.dict())

    def post(self, request, tenant):
        values = self.kind.values(self.body(request), check_schema=True)
        obj = self.kind.save(request, self.kind.model(), values)
        doc = self.render(request, obj)
        return scim_response(doc, 201, location=doc["meta"]["location"])


class SearchView(ResourceMixin, ScimView):
    """POST /<type>/.search (RFC 7644 §3.4.3)."""

    http_method_names = ["post"]

    def post(self, request, tenant):
        body = self.body(request)
        if body.get("schemas") != [SEARCH_URN]:
            raise bad(f'"schemas" must be ["{SEARCH_URN}"]', "invalidSyntax")
        if "filter" in body and not isinstance(body["filter"], str):
            raise bad('"filter" must be a string', "invalidFilter")
        return self.query(request, body)


class ItemView(ResourceMixin, ScimView):
    http_method_names = ["get", "put", "patch", "delete"]

    def get(self, request, tenant, rid):
        attributes, excluded = _attributes(request.GET)
        obj = self.get_object(request, rid)
        doc = self.render(request, obj, attributes, excluded)
        return scim_response(doc, location=obj_location(request, self.kind, obj))

    def put(self, request, tenant, rid):
        obj = self.get_object(request, rid)
        values = self.kind.values(self.body(request), check_schema=True)
        obj = self.kind.save(request, obj, values)
        return self.updated(request, obj)

    def patch(self, request, tenant, rid):
        obj = self.get_object(request, rid)
        doc = apply_patch(self.kind.writable(obj), self.body(request), self.kind.shape)
        values = self.kind.values(doc, check_schema=False)
        obj = self.kind.save(request, obj, values)
        return self.updated(request, obj)

    def delete(self, request, tenant, rid):
        self.kind.delete(self.get_object(request, rid))
        return HttpResponse(status=204)

    def updated(self, request, obj):
        attributes, excluded = _attributes(request.GET)
        obj.refresh_from_db()
        doc = self.render(request, obj, attributes, excluded)
        return scim_response(doc, location=obj_location(request, self.kind, obj))


def obj_location(request, kind: Kind, obj) -> str:
    return f"{base_url(request.scim_tenant_slug)}/{'Users' if kind is USERS else 'Groups'}/{obj.scim_id}"


def _resource_patterns(name: str, kind: Kind) -> list:
    prefix = rf"^scim/v2/(?P<tenant>{SLUG})/{name}"
    return [
        re_path(rf"{prefix}/?$", CollectionView.as_view(kind=kind)),
        re_path(rf"{prefix}/\.search$", SearchView.as_view(kind=kind)),
        re_path(rf"{prefix}/(?P<rid>[^/]+)/?$", ItemView.as_view(kind=kind)),
    ]


_BASE = rf"^scim/v2/(?P<tenant>{SLUG})/"
urlpatterns = [
    *_resource_patterns("Users", USERS),
    *_resource_patterns("Groups", GROUPS),
    re_path(rf"{_BASE}ServiceProviderConfig/?$", ServiceProviderConfigView.as_view()),
    re_path(rf"{_BASE}ResourceTypes/?$", ResourceTypesView.as_view()),
    re_path(rf"{_BASE}ResourceTypes/(?P<rid>[^/]+)/?$", ResourceTypesView.as_view()),
    re_path(rf"{_BASE}Schemas/?$", SchemasView.as_view()),
    re_path(rf"{_BASE}Schemas/(?P<rid>[^/]+)/?$", SchemasView.as_view()),
    # Not implemented (RFC 7644 §3.12: 501): Bulk, /Me, and queries across types at the root.
    re_path(rf"{_BASE}(?:\.search)?$", NotImplementedView.as_view()),
    re_path(rf"{_BASE}Bulk/?$", NotImplementedView.as_view()),
    re_path(rf"{_BASE}Me(?:/.*)?$", NotImplementedView.as_view()),
    re_path(r"^", NotFoundView.as_view()),
]
