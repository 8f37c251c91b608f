"""The account security policy, enforced on every portal page and at the authorize step
(issue 11). The person's effective policy is the strictest of their accounts'
(accounts/security_policy.py):

- the session lifetime (from sign-in) and idle timeout end the portal session: the person signs
  in again;
- after the grace, someone who must have MFA and has none is sent to enrol, on every page but
  the MFA pages, logout and static files;
- at `idp:oidc:authorization` (a region's or an app's sign-in) the same rule applies, and an
  enrolled person whose session has not passed MFA goes to `mfa:verify` first; under
  `prompt=none` no page is shown: `error=interaction_required` goes to the client's validated
  redirect URI. Sits after AuthenticationMiddleware and OTPMiddleware.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse

from accounts import security_policy
from accounts.security_policy import SESSION_LAST_SEEN, SESSION_LOGIN_AT

AUTHORIZE_VIEW = "idp:oidc:authorization"
# Until the mfa part mounts its URLs, the paths it will use (accounts/urls_mfa.py).
MFA_FALLBACK_PATHS = {"mfa:index": "/accounts/mfa/", "mfa:verify": "/accounts/mfa/verify/"}
# Writing the last-seen time on every request would save the session each time: within this
# many seconds of the last write it is left alone (idle timeouts are minutes long).
LAST_SEEN_RESOLUTION_S = 30


def mfa_url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return MFA_FALLBACK_PATHS[name]


def mfa_enrolled(user) -> bool:
    from accounts import mfa

    return mfa.mfa_enrolled(user=user)


def mfa_satisfied(request) -> bool:
    """This session passed Atrium's MFA, or came through SSO whose MFA the connection trusts."""
    is_verified = getattr(request.user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return True
    federated = request.session.get("atrium_federated")
    return isinstance(federated, dict) and federated.get("mfa") is True


class SecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt_prefixes = tuple(
            p
            for p in (
                settings.STATIC_URL,
                "/accounts/mfa/",
                "/accounts/logout/",
                "/healthz",
                "/identity/o/logout",
                "/identity/o/api/",
            )
            if p
        )

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return self.get_response(request)
        policy = security_policy.effective_policy_for_request(request)
        request.atrium_security_policy = policy
        ended = self._session_end(request, policy)
        if ended is not None:
            return ended
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        policy = getattr(request, "atrium_security_policy", None)
        if policy is None:
            return None
        match = request.resolver_match
        if match is not None and match.view_name == AUTHORIZE_VIEW:
            return self._authorize_gate(request, policy)
        if request.path.startswith(self.exempt_prefixes):
            return None
        if policy.mfa_required and not mfa_satisfied(request):
            next_query = urlencode({"next": request.get_full_path()})
            if mfa_enrolled(request.user):
                # Enrolled, but this session never passed MFA (signed in before enrolling, or
                # during the grace): a password alone must not keep it open once MFA is required.
                return HttpResponseRedirect(f"{mfa_url('mfa:verify')}?{next_query}")
            messages.warning(
                request, "An account you belong to requires two-factor authentication: set it up now."
            )
            return HttpResponseRedirect(f"{mfa_url('mfa:index')}?{next_query}")
        return None

    # --- sessions -------------------------------------------------------------------------------
    def _session_end(self, request, policy):
        if policy.session_lifetime is None and policy.idle_timeout is None:
            return None
        session, now = request.session, int(time.time())
        login_at = session.get(SESSION_LOGIN_AT)
        if not isinstance(login_at, int):  # a session from before the policy existed
            login_at = session[SESSION_LOGIN_AT] = now
        last_seen = session.get(SESSION_LAST_SEEN)
        if not isinstance(last_seen, int):
            last_seen = session[SESSION_LAST_SEEN] = now
        if policy.session_lifetime is not None and now - login_at >= policy.session_lifetime.total_seconds():
            return self._sign_out(request, "Your session reached the maximum length your account allows.")
        if policy.idle_timeout is not None and now - last_seen >= policy.idle_timeout.total_seconds():
            return self._sign_out(request, "You were signed out after a period of inactivity.")
        if now - last_seen >= LAST_SEEN_RESOLUTION_S and not _background(request):
            session[SESSION_LAST_SEEN] = now
        return None

    @staticmethod
    def _sign_out(request, reason: str):
        next_url = request.get_full_path()
        auth.logout(request)
        messages.info(request, f"{reason} Please sign in again.")
        login = resolve_url(settings.LOGIN_URL)
        return HttpResponseRedirect(f"{login}?{urlencode({'next': next_url})}")

    # --- the authorize step ---------------------------------------------------------------------
    def _authorize_gate(self, request, policy):
        if not policy.mfa_required or mfa_satisfied(request):
            return None
        enrolled = mfa_enrolled(request.user)
        if request.method in ("GET", "HEAD") and "none" in request.GET.get("prompt", "").split():
            return _error_to_client(request, "interaction_required", "Two-factor authentication is required.")
        next_query = urlencode({"next": request.get_full_path()})
        if not enrolled:
            messages.warning(
                request, "An account you belong to requires two-factor authentication: set it up first."
            )
            return HttpResponseRedirect(f"{mfa_url('mfa:index')}?{next_query}")
        return HttpResponseRedirect(f"{mfa_url('mfa:verify')}?{next_query}")


def _background(request) -> bool:
    """A request a page sends by itself, with nobody at the keyboard: htmx polling
    (`hx-trigger="every 2s"` on a section, which has no name). It must not count as activity, or
    a tab left open on a syncing page would keep the session alive past the idle timeout. What a
    person does through htmx (typing into a named search input, a boosted link) still counts."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and request.method in ("GET", "HEAD")
        and not headers.get("HX-Trigger-Name")
        and headers.get("HX-Boosted") != "true"
    )


def _error_to_client(request, error: str, description: str):
    """The OIDC error at the client's registered redirect URI; None (allauth answers with its own
    error page) when the client or the URI is not one allauth would send a code to."""
    from allauth.idp.oidc.internal.clientkit import is_redirect_uri_allowed
    from allauth.idp.oidc.models import Client

    client_id, redirect_uri = request.GET.get("client_id", ""), request.GET.get("redirect_uri", "")
    client = Client.objects.filter(id=client_id).first() if client_id else None
    if client is None or not redirect_uri:
        return None
    if not is_redirect_uri_allowed(redirect_uri, client.get_redirect_uris(), client.allow_uri_wildcards):
        return None
    query = {"error": error, "error_description": description}
    if request.GET.get("state"):
        query["state"] = request.GET["state"]
    return HttpResponseRedirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(query))
