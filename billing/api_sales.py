"""The dashboard figures as JSON (`/sales/api/<table>/`): the same rows as the page and the CSV
(billing.sales_selectors.TABLES). Session authentication; errors are JSON: 401 signed out, 403
for anyone who is not sales staff, 404 for an unknown table, 405 for anything but GET."""

from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from django.utils import timezone

from billing import sales, sales_selectors


def _error(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


def sales_api(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            # Read-only endpoints; the error is JSON like every other one (require_GET's is empty).
            response = _error(405, "method_not_allowed", "Only GET.")
            response["Allow"] = "GET, HEAD"
            return response
        if not request.user.is_authenticated:
            return _error(401, "not_authenticated", "Sign in first.")
        scope = sales.sales_scope_of(request.user)
        if scope is None:
            return _error(403, "forbidden", "Sales staff only.")
        request.sales_scope = scope
        try:
            return view(request, *args, **kwargs)
        except Http404 as exc:
            return _error(404, "not_found", str(exc))

    return wrapper


@sales_api
def table_json(request, name: str):
    table = sales_selectors.sales_table(name=name, scope=request.sales_scope, now=timezone.now())
    return JsonResponse(table.as_json(), encoder=DjangoJSONEncoder)


@sales_api
def tables_index(request):
    return JsonResponse({"tables": [f"/sales/api/{name}/" for name in sales_selectors.TABLES]})
