"""The tenant API on the machine port: `PUT /tenant/v1/<tenant>/entitlements`.

MachineTokenMiddleware has already required a token with scope `tenant` for every `/tenant/`
path. Every answer is JSON; bad input is a 400 naming what is wrong, never a 500."""

import logging

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from atrium_kit import services
from atrium_kit.entitlements import DocumentInvalid, document_parse
from atrium_kit.machine_auth import json_body, json_error

log = logging.getLogger(__name__)


def _failed(response: HttpResponse) -> HttpResponse:
    if connection.in_atomic_block:
        transaction.set_rollback(True)
    return response


@csrf_exempt
def entitlements_put(request, tenant: str) -> HttpResponse:
    if request.method != "PUT":
        response = json_error(405, f"{request.method} is not allowed here.")
        response["Allow"] = "PUT"
        return response
    body, error = json_body(request)
    if error is not None:
        return error
    try:
        update = document_parse(body, tenant_slug=tenant)
    except DocumentInvalid as exc:
        return json_error(400, exc.detail)
    try:
        held = services.tenant_entitlements_put(tenant_slug=tenant, update=update)
    except Exception:
        log.exception("Storing the entitlements of %s failed", tenant)
        return _failed(json_error(500, "The region could not store the entitlements."))
    return JsonResponse({"version": held})
