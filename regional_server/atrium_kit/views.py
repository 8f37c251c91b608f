from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from atrium_kit import policy, selectors, services
from atrium_kit.auth import (
    AMR_SESSION_KEY,
    REFUSAL_LOGIN_FAILED,
    REFUSAL_MFA_REQUIRED,
    REFUSAL_NOT_PROVISIONED,
    STEP_UP_SESSION_KEY,
    WANTED_TENANT_SESSION_KEY,
    mfa_missing,
)
from atrium_kit.entitlements import PRODUCT_CODE
from atrium_kit.machine_auth import json_error
from atrium_kit.navigation import product_display_name
from atrium_kit.products import product_gate

REFUSAL_MESSAGES = {
    REFUSAL_NOT_PROVISIONED: "Your Atrium identity has no access to this region. "
    "Ask an admin of your account to add this region, or to add you to the account.",
    REFUSAL_LOGIN_FAILED: "The sign-in with Atrium could not be completed. Please try again.",
    REFUSAL_MFA_REQUIRED: "Your organisation requires two-factor authentication for this region. "
    "Set it up in Atrium (your profile, two-factor authentication), then sign in again.",
}
GENERIC_REFUSAL = "Access to this region was refused."


class RegionCallbackView(OIDCAuthenticationCallbackView):
    """The one-time OIDC callback. A refusal redirects to a stable URL (`/refused/?reason=`),
    so a reload shows the same page; a callback whose state this session no longer holds (a
    reload, the back button, a second tab) never reaches the library's SuspiciousOperation."""

    def get(self, request):
        state = request.GET.get("state")
        if "code" in request.GET and state and state not in request.session.get("oidc_states", {}):
            if request.user.is_authenticated:
                return redirect("home")
            return self.login_failure()
        return super().get(request)

    def login_failure(self):
        asked = self.request.session.pop(STEP_UP_SESSION_KEY, None)
        step_up_for = getattr(self.request, "region_step_up", None)
        if step_up_for and not asked:
            # The tenant requires MFA and Atrium's answer lacks it: ask once more, for MFA.
            return step_up_redirect(self.request, tenant_slug=step_up_for, next_url=self.success_url)
        reason = (
            REFUSAL_MFA_REQUIRED
            if step_up_for
            else getattr(self.request, "region_login_refusal", REFUSAL_LOGIN_FAILED)
        )
        self.request.session.pop(WANTED_TENANT_SESSION_KEY, None)
        return redirect(f"{reverse('refused')}?{urlencode({'reason': reason})}")

    def login_success(self):
        response = super().login_success()
        claims = getattr(self.request, "region_id_token_claims", {})
        self.request.session.pop(STEP_UP_SESSION_KEY, None)
        self.request.session.pop(WANTED_TENANT_SESSION_KEY, None)
        self.request.session[AMR_SESSION_KEY] = claims.get("amr", [])
        self.request.session["atrium_sub"] = claims.get("sub", "")
        # The session key was cycled by login(); save it so the record names the real one.
        self.request.session.save()
        services.login_session_record(
            session_key=self.request.session.session_key, user=self.user, sid=claims.get("sid", "")
        )
        return response


def step_up_redirect(request, *, tenant_slug: str, next_url: str):
    """Sign in at Atrium again with `acr_values=urn:atrium:loa:2` (StepUpAuthenticateView reads
    the flag), then on to `next_url`."""
    request.session[STEP_UP_SESSION_KEY] = {"tenant": tenant_slug}
    return redirect(f"{reverse('oidc_authentication_init')}?{urlencode({'next': next_url})}")


def refused(request):
    message = REFUSAL_MESSAGES.get(request.GET.get("reason", ""), GENERIC_REFUSAL)
    return render(request, "tenants/refused.html", {"message": message}, status=403)


@login_required
def home(request):
    other_tenants = [
        u.tenant
        for u in selectors.users_admitted_for_sub(sub=request.user.scim_external_id)
        if u.pk != request.user.pk
    ]
    return render(request, "tenants/home.html", {"other_tenants": other_tenants})


def product(request, code: str):
    """The generic product page, for a code no product app serves here (e.g. one the catalog
    announces): the same check as every product (`product_gate`, what `@product_view` runs)."""
    if not PRODUCT_CODE.match(code):
        raise Http404("No such product")
    refusal = product_gate(request, code)
    if refusal is not None:
        return refusal
    context = {"code": code, "product_name": product_display_name(request, code)}
    return render(request, "tenants/product.html", context)


@login_required
@require_POST
def tenant_switch(request, slug: str):
    """A person in several tenants here picks one; their verified Atrium `sub` carries over."""
    candidates = selectors.users_admitted_for_sub(sub=request.user.scim_external_id)
    target = next((u for u in candidates if u.tenant.slug == slug), None)
    if target is None:
        raise Http404("No such tenant for you in this region")
    amr = request.session.get(AMR_SESSION_KEY) or []
    if mfa_missing(tenant=target.tenant, amr=amr):
        # This session signed in without MFA; the tenant switched to requires it.
        request.session[WANTED_TENANT_SESSION_KEY] = target.tenant.slug
        return step_up_redirect(request, tenant_slug=target.tenant.slug, next_url=reverse("home"))
    signed_in_at = policy.session_signed_in_at(request)
    auth.login(request, target, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session[AMR_SESSION_KEY] = amr  # login() as another user flushed the session
    # Not a sign-in: the pushed session lifetime keeps counting from the real one (issue 11).
    request.session[policy.SESSION_LOGIN_AT] = signed_in_at
    request.session.save()  # login() cycled the key; record the one the browser will hold
    services.login_session_record(session_key=request.session.session_key, user=target, sid="")
    return redirect("home")


def signed_out(request):
    return render(request, "tenants/signed_out.html")


def _plain_error_page(template_name: str, status: int) -> HttpResponse:
    # Rendered without the request's context processors or the database: whatever failed may
    # be one of them. The region's name comes straight from settings.
    context = {
        "region_code": settings.REGION_CODE,
        "region_name": settings.REGION_NAME,
        "atrium_portal_url": settings.ATRIUM_PORTAL_URL,
    }
    return HttpResponse(loader.get_template(template_name).render(context), status=status)


def bad_request(request, exception=None):
    return _plain_error_page("400.html", 400)


def server_error(request):
    return _plain_error_page("500.html", 500)


def machine_not_found(request, exception=None):
    """The machine listener's 404: the tenant API's JSON under `/tenant/` (Atrium's client reads
    `detail`), the plain error page elsewhere."""
    if request.path.startswith("/tenant/"):
        return json_error(404, "No such tenant or resource on this region's machine port.")
    return _plain_error_page("404.html", 404)


def healthz(request):
    return JsonResponse({"status": "ok", "region": settings.REGION_CODE})
