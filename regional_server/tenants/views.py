from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from tenants import selectors, services
from tenants.auth import REFUSAL_LOGIN_FAILED, REFUSAL_NOT_PROVISIONED

REFUSAL_MESSAGES = {
    REFUSAL_NOT_PROVISIONED: "Your Atrium identity has no access to this region. "
    "Ask an admin of your account to add this region, or to add you to the account.",
    REFUSAL_LOGIN_FAILED: "The sign-in with Atrium could not be completed. Please try again.",
}


class RegionCallbackView(OIDCAuthenticationCallbackView):
    """Refusals render the 403 page (the library would redirect); logins are recorded."""

    def login_failure(self):
        reason = getattr(self.request, "region_login_refusal", REFUSAL_LOGIN_FAILED)
        return refused_page(self.request, reason)

    def login_success(self):
        response = super().login_success()
        claims = getattr(self.request, "region_id_token_claims", {})
        self.request.session["atrium_sub"] = claims.get("sub", "")
        # The session key was cycled by login(); save it so the record names the real one.
        self.request.session.save()
        services.login_session_record(
            session_key=self.request.session.session_key, user=self.user, sid=claims.get("sid", "")
        )
        return response


def refused_page(request, reason: str):
    context = {"message": REFUSAL_MESSAGES.get(reason, REFUSAL_MESSAGES[REFUSAL_LOGIN_FAILED])}
    return render(request, "tenants/refused.html", context, status=403)


def refused(request):
    return refused_page(request, REFUSAL_LOGIN_FAILED)


@login_required
def home(request):
    other_tenants = [
        u.tenant
        for u in selectors.users_admitted_for_sub(sub=request.user.scim_external_id)
        if u.pk != request.user.pk
    ]
    return render(request, "tenants/home.html", {"other_tenants": other_tenants})


@login_required
@require_POST
def tenant_switch(request, slug: str):
    """A person in several tenants here picks one; their verified Atrium `sub` carries over."""
    candidates = selectors.users_admitted_for_sub(sub=request.user.scim_external_id)
    target = next((u for u in candidates if u.tenant.slug == slug), None)
    if target is None:
        raise Http404("No such tenant for you in this region")
    auth.login(request, target, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session.save()  # login() cycled the key; record the one the browser will hold
    services.login_session_record(session_key=request.session.session_key, user=target, sid="")
    return redirect("home")


def signed_out(request):
    return render(request, "tenants/signed_out.html")


def healthz(request):
    return JsonResponse({"status": "ok", "region": settings.REGION_CODE})
