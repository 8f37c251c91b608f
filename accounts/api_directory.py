"""The directory API on Atrium's machine port (portal/urls_machine.py): a region's services
read their tenants' users and groups with their own M2M token (accounts/machine_tokens.py).

Views only adapt: the token names the calling region, selectors (accounts/directory.py) read.
Every answer is JSON, errors `{"error", "detail"}`; a tenant that does not exist or does not use
the calling region is the same 404, so existence never leaks across regions.
"""

import functools
import logging

from django.http import JsonResponse

from accounts.directory import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    DirectoryNotFound,
    InvalidCursor,
    cursor_decode,
    directory_account,
    directory_groups,
    directory_users,
)
from accounts.machine_tokens import MachineCaller, MachineTokenError, machine_caller_from, peer_common_name

log = logging.getLogger(__name__)


class BadRequest(Exception):
    pass


def json_error(status: int, error: str, detail: str) -> JsonResponse:
    response = JsonResponse({"error": error, "detail": detail}, status=status)
    if status in (401, 403):
        # RFC 6750 §3: the challenge names the error, so a client knows whether a new token helps.
        response["WWW-Authenticate"] = f'Bearer realm="atrium-directory", error="{error}"'
    return response


def directory_endpoint(view):
    """GET only; authenticates the calling region, maps domain errors to JSON answers."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = json_error(405, "method_not_allowed", "The directory API is read-only: use GET.")
            response["Allow"] = "GET, HEAD"
            return response
        try:
            caller = machine_caller_from(
                request.headers.get("Authorization", ""), peer_common_name=peer_common_name(request.META)
            )
        except MachineTokenError as exc:
            return json_error(exc.status, exc.error, exc.detail)
        try:
            return JsonResponse(view(request, caller, *args, **kwargs))
        except DirectoryNotFound:
            return json_error(404, "not_found", "No such tenant in this region.")
        except (BadRequest, InvalidCursor) as exc:
            return json_error(400, "invalid_request", str(exc))

    return wrapper


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


@directory_endpoint
def tenant_users(request, caller: MachineCaller, slug: str) -> dict:
    limit = _limit(request.GET.get("limit"))
    cursor = request.GET.get("cursor")
    after = cursor_decode(cursor) if cursor else None
    account = directory_account(region=caller.region, slug=slug)
    page = directory_users(account=account, region=caller.region, after=after, limit=limit)
    return {"users": page.users, "next": page.next_cursor}


@directory_endpoint
def tenant_groups(request, caller: MachineCaller, slug: str) -> dict:
    account = directory_account(region=caller.region, slug=slug)
    return {"groups": directory_groups(account=account, region=caller.region)}
