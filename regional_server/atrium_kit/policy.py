"""The tenant's security policy as pushed by Atrium, and its enforcement here (issue 11).

Contract used by other parts (keep these names and signatures):
- `tenant_policy_document(*, tenant) -> dict | None`: the policy document this region enforces
  for the tenant (None before Atrium pushed one): `{"tenant", "version", "mfa_required",
  "session_lifetime_seconds", "idle_timeout_seconds", "sso_only"}`.

Also here: the machine endpoint `PUT|GET <machine>/tenant/v1/<tenant>/policy` (MachineTokenMiddleware
has required scope `tenant` already; bad input is a 400 JSON, never a 500), and the people
listener's middleware that ends a tenant's sessions past the pushed lifetime or idle timeout.
"""

import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from atrium_kit.machine_auth import json_body, json_error

log = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1  # the column's range
MAX_SECONDS = 366 * 24 * 3600
SESSION_LOGIN_AT = "atrium_policy_login_at"
SESSION_LAST_SEEN = "atrium_policy_last_seen"
# How long the people listener trusts its cached copy of a tenant's policy (see _enforced_document).
POLICY_CACHE_SECONDS = 15
# The last-seen time is written at most this often (a session save per request otherwise).
LAST_SEEN_RESOLUTION_S = 30


class PolicyInvalid(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _tenant_row(tenant):
    """A Tenant from a Tenant or a slug (None when the slug names no tenant here)."""
    from atrium_kit.models import Tenant

    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.filter(slug=tenant).first()


def tenant_policy_document(*, tenant) -> dict | None:
    """`mfa_required` is true here only once the grace Atrium sent (`mfa_required_from`) is
    over: people without MFA keep signing in until then, and no further push is needed."""
    from atrium_kit.models import TenantPolicy

    row = _tenant_row(tenant)
    if row is None:
        return None
    held = TenantPolicy.objects.filter(tenant=row).first()
    if held is None:
        return None
    document = dict(held.document)
    starts = document.get("mfa_required_from")
    if document.get("mfa_required") and starts and datetime.fromisoformat(starts) > timezone.now():
        document["mfa_required"] = False
    return document


def _stored_document(tenant_slug: str) -> dict | None:
    """The document as Atrium sent it (the machine GET shows it so)."""
    from atrium_kit.models import TenantPolicy

    rows = TenantPolicy.objects.filter(tenant__slug=tenant_slug).values_list("document", flat=True)
    return rows.first()


def policy_parse(body: Any, *, tenant_slug: str) -> dict:
    """The validated, normalised document (exactly the contract's keys)."""
    if not isinstance(body, dict):
        raise PolicyInvalid("The body must be a JSON object.")
    if body.get("tenant") != tenant_slug:
        raise PolicyInvalid("`tenant` must name the tenant of the URL.")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise PolicyInvalid("`version` must be a positive integer.")
    document = {"tenant": tenant_slug, "version": version}
    for name in ("mfa_required", "sso_only"):
        value = body.get(name)
        if not isinstance(value, bool):
            raise PolicyInvalid(f"`{name}` must be true or false.")
        document[name] = value
    for name in ("session_lifetime_seconds", "idle_timeout_seconds"):
        value = body.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= MAX_SECONDS
        ):
            raise PolicyInvalid(
                f"`{name}` must be null or a whole number of seconds from 60 to {MAX_SECONDS}."
            )
        document[name] = value
    document["mfa_required_from"] = _instant(body.get("mfa_required_from"))
    return document


def _instant(value: Any) -> str | None:
    """An optional ISO 8601 time with an offset (when MFA becomes required), normalised to UTC."""
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
        instant = instant.astimezone(UTC) if instant is not None and instant.tzinfo is not None else None
    except (ValueError, OverflowError):
        instant = None
    if instant is None:
        raise PolicyInvalid("`mfa_required_from` must be null or an ISO 8601 time with an offset.")
    return instant.isoformat()


@transaction.atomic
def tenant_policy_put(*, tenant_slug: str, document: dict) -> int:
    """Store Atrium's policy unless a newer version is held already (creates the tenant on its
    first document). Returns the version held afterwards."""
    from atrium_kit.models import Tenant, TenantPolicy

    tenant, _ = Tenant.objects.get_or_create(slug=tenant_slug)
    held = TenantPolicy.objects.select_for_update().filter(tenant=tenant).first()
    if held is None:
        TenantPolicy.objects.create(tenant=tenant, version=document["version"], document=document)
        _forget(tenant)
        return document["version"]
    if document["version"] < held.version:
        return held.version  # a late push of an older version: keep what is newer
    held.version, held.document = document["version"], document
    held.save(update_fields=["version", "document", "updated_at"])
    _forget(tenant)
    return held.version


@csrf_exempt
def policy_endpoint(request, tenant: str) -> HttpResponse:
    """PUT: store the document, answer `{"version": <held>}` (200 also when a newer one is kept,
    as the entitlements endpoint does). GET: the document as Atrium sent it, 404 before any."""
    if request.method == "GET":
        document = _stored_document(tenant)
        if document is None:
            return json_error(404, f"No security policy for tenant {tenant} here.")
        return JsonResponse(document)
    if request.method != "PUT":
        response = json_error(405, f"{request.method} is not allowed here.")
        response["Allow"] = "GET, PUT"
        return response
    body, error = json_body(request)
    if error is not None:
        return error
    try:
        document = policy_parse(body, tenant_slug=tenant)
    except PolicyInvalid as exc:
        return json_error(400, exc.detail)
    try:
        held = tenant_policy_put(tenant_slug=tenant, document=document)
    except Exception:
        log.exception("Storing the security policy of %s failed", tenant)
        return json_error(500, "The region could not store the security policy.")
    return JsonResponse({"version": held})


# --- enforcement on the people listener ---------------------------------------------------------
class TenantPolicySessionMiddleware:
    """Ends a region session past its tenant's pushed session lifetime (from sign-in here) or
    idle timeout, and sends the person to sign in again. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "tenant_id", None):
            ended = self._enforce(request, user)
            if ended is not None:
                return ended
        return self.get_response(request)

    def _enforce(self, request, user):
        held = _enforced_document(user.tenant)
        request.atrium_tenant_policy = held
        if (
            _mfa_required_now(held)
            and "mfa" not in _session_amr(request)
            # The cached copy may be up to POLICY_CACHE_SECONDS old: ending a session is decided
            # on the stored document (one query, only for a session without MFA).
            and _mfa_required_now(tenant_policy_document(tenant=user.tenant))
        ):
            # A session opened without MFA before its tenant required it (or before the grace
            # ended): the check at the callback alone would let it stay. Sign in again, asking
            # Atrium for MFA at once (the step-up flag survives the logout's new session).
            from atrium_kit.auth import STEP_UP_SESSION_KEY

            response = _sign_out(request)
            request.session[STEP_UP_SESSION_KEY] = {"tenant": user.tenant.slug}
            return response
        lifetime = (held or {}).get("session_lifetime_seconds")
        idle = (held or {}).get("idle_timeout_seconds")
        if not lifetime and not idle:
            return None
        session, now = request.session, int(time.time())
        login_at = session.get(SESSION_LOGIN_AT)
        if not isinstance(login_at, int):
            login_at = session[SESSION_LOGIN_AT] = _login_time(session.session_key, now)
        last_seen = session.get(SESSION_LAST_SEEN)
        if not isinstance(last_seen, int):
            last_seen = session[SESSION_LAST_SEEN] = now
        if (lifetime and now - login_at >= lifetime) or (idle and now - last_seen >= idle):
            return _sign_out(request)
        if now - last_seen >= LAST_SEEN_RESOLUTION_S:
            session[SESSION_LAST_SEEN] = now
        return None


def _mfa_required_now(document: dict | None) -> bool:
    """As tenant_policy_document reads it: required, and the grace (if any) is over."""
    if not document or document.get("mfa_required") is not True:
        return False
    starts = document.get("mfa_required_from")
    return not starts or datetime.fromisoformat(starts) <= timezone.now()


def _session_amr(request) -> list:
    from atrium_kit.auth import AMR_SESSION_KEY

    amr = request.session.get(AMR_SESSION_KEY)
    return amr if isinstance(amr, list) else []


def _cache_key(tenant) -> str:
    # The tenant's creation time too: a tenant deleted and made again (a flushed database reuses
    # ids) must never read the document cached for the one before it.
    return f"atrium_kit:tenant_policy:{tenant.pk}:{tenant.created_at.timestamp()}"


def _forget(tenant) -> None:
    """This process sees the new document at once: now, and again once it is committed (a read
    meanwhile may have cached the old one)."""
    key = _cache_key(tenant)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _enforced_document(tenant) -> dict | None:
    """The stored document for the people listener's every request, from this process's cache:
    a page costs no query for it. Pushes land on the machine listener (another process), so a new
    document is seen here within POLICY_CACHE_SECONDS."""
    from atrium_kit.models import TenantPolicy

    key = _cache_key(tenant)
    cached = cache.get(key)
    if cached is None:
        rows = TenantPolicy.objects.filter(tenant_id=tenant.pk).values_list("document", flat=True)
        cached = {"document": rows.first()}
        cache.set(key, cached, POLICY_CACHE_SECONDS)
    return cached["document"]


def session_signed_in_at(request) -> int:
    """When this session signed in here (epoch seconds), for a tenant switch to carry over: the
    switch logs in another tenant's user, which flushes the session, and is not a sign-in, so
    the pushed lifetime must keep counting from the original one."""
    login_at = request.session.get(SESSION_LOGIN_AT)
    if isinstance(login_at, int):
        return login_at
    return _login_time(request.session.session_key, int(time.time()))


def _login_time(session_key: str | None, now: int) -> int:
    """When this session signed in: its LoginSession record (written at the OIDC callback)."""
    from atrium_kit.models import LoginSession

    created = (
        LoginSession.objects.filter(session_key=session_key).values_list("created_at", flat=True).first()
        if session_key
        else None
    )
    return int(created.timestamp()) if created is not None else now


def _sign_out(request) -> HttpResponse:
    from atrium_kit.models import LoginSession

    next_url = request.get_full_path()
    if request.session.session_key:
        LoginSession.objects.filter(session_key=request.session.session_key).delete()
    auth.logout(request)
    return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")


def tenant_policy(request) -> dict:
    """Context processor: the policy version this region enforces for the signed-in tenant."""
    if not hasattr(request, "atrium_tenant_policy"):
        return {}
    document = request.atrium_tenant_policy
    return {"tenant_policy_version": document.get("version") if document else None}
