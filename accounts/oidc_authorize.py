"""OpenID Connect at Atrium's authorize step, as the spec says (issue 11): `max_age`,
`acr_values`, `prompt=login|none`, and the login context every code carries to its ID token.

allauth's AuthorizationView issues codes on three paths (consent form, skip-consent,
`prompt=none` inside `get()`) and has no hook for any of this, so `OIDCAuthorizeMiddleware`
sits around the view named `idp:oidc:authorization`:

- before it (`process_view`, GET/HEAD: the consent form's POST carries a request this gate
  already passed when the form was shown):
  - `max_age=N`: once this session's last authentication is more than N seconds old (0 and 1
    included), the person signs in again (re-authentication with their password; a person
    without one signs out and in again) and comes back to the same authorize request, which
    that fresh login then satisfies once, whatever N.
  - `acr_values` naming LOA_2: a session without MFA goes to `mfa:verify?next=<this request>`
    (enrolled) or `mfa:index?next=...` (not enrolled); unknown values are ignored (voluntary).
  - `prompt=login` is allauth's (it sends the person to log in, then here without the prompt);
    the fresh login it asks for also satisfies a `max_age` of the same request.
  - under `prompt=none` no page is ever shown: `login_required` / `interaction_required` go to
    the client's validated redirect URI.
- after it (`__call__`): a 302 carrying `code` means a code was issued to this session; its
  context (`amr`, `acr`, `auth_time`, `sid`) is stored in the shared cache under sha256(code) for
  the code's lifetime, where the token endpoint reads it back (accounts/refresh_tokens.py).
"""

import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlparse

from allauth.idp.oidc import app_settings as idp_settings
from allauth.idp.oidc.internal.clientkit import is_redirect_uri_allowed
from allauth.idp.oidc.models import Client
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import logout as auth_logout
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import mfa
from accounts.auth_context import LOA_2, last_authenticated_at, session_auth_context
from accounts.sessions import session_sid

AUTHORIZE_VIEW = "idp:oidc:authorization"
FORCED_LOGIN_SESSION_KEY = "atrium_oidc_forced_login"
_CONTEXT_KEY = "atrium:oidc:auth-context:{}"


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def auth_context_store(*, code: str, context: dict) -> None:
    cache.set(
        _CONTEXT_KEY.format(code_digest(code)), context, timeout=idp_settings.AUTHORIZATION_CODE_EXPIRES_IN
    )


def auth_context_for_code(*, code: str) -> dict | None:
    return cache.get(_CONTEXT_KEY.format(code_digest(code)))


class OIDCAuthorizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 302
            and _view_name(request) == AUTHORIZE_VIEW
            and request.user.is_authenticated
        ):
            code = _code_in(response.get("Location", ""))
            if code:
                context = {**session_auth_context(request), "sid": session_sid(request)}
                auth_context_store(code=code, context=context)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _view_name(request) != AUTHORIZE_VIEW or request.method not in ("GET", "HEAD"):
            return None
        return authorize_gate(request)


def authorize_gate(request) -> HttpResponse | None:
    """None to let allauth go on, or where to send the person (or the client) instead."""
    params = request.GET
    prompts = params.get("prompt", "").split()
    if "login" in prompts:
        # allauth asks for the login and comes back without the prompt: remember that this
        # request got its fresh login, so a max_age=0 beside it does not ask a second time.
        _remember_forced_login(request)
        return None
    max_age = _max_age(params.get("max_age"))
    if not request.user.is_authenticated:
        if max_age is not None and "none" not in prompts:
            # allauth sends the person to log in and back here: that login is the fresh one
            # this request asks for (else max_age=0 would ask for the password a second time).
            _remember_forced_login(request)
        return None  # allauth: the login page, or login_required under prompt=none
    if max_age is not None and not _fresh_enough(request, max_age):
        if "none" in prompts:
            return _error_to_client(request, "login_required", "The last sign-in is older than max_age.")
        return _force_login(request)
    if LOA_2 in params.get("acr_values", "").split() and "mfa" not in session_auth_context(request)["amr"]:
        if "none" in prompts:
            return _error_to_client(
                request, "interaction_required", "Multi-factor authentication is required."
            )
        target = "mfa:verify" if mfa.mfa_enrolled(user=request.user) else "mfa:index"
        return _redirect_with_next(reverse(target), request.get_full_path())
    return None


def _max_age(value: str | None) -> int | None:
    # Not a non-negative integer: ignored, as allauth ignores it today (never a 500).
    if value is None or not value.isascii() or not value.isdigit():
        return None
    digits = value.lstrip("0") or "0"
    if len(digits) > 12:
        # Longer than any session can be old (and past int()'s 4300-digit limit: a 500).
        return None
    return int(digits)


def _request_key(request) -> str:
    """This authorize request without its prompt (what allauth sends the person back to)."""
    items = sorted((k, v) for k in request.GET if k != "prompt" for v in request.GET.getlist(k))
    return hashlib.sha256(urlencode(items).encode()).hexdigest()


def _remember_forced_login(request) -> None:
    request.session[FORCED_LOGIN_SESSION_KEY] = {"request": _request_key(request), "at": time.time()}


def _fresh_enough(request, max_age: int) -> bool:
    last = last_authenticated_at(request)
    if last is None:
        return False
    if time.time() - last <= max_age:
        return True
    forced = request.session.get(FORCED_LOGIN_SESSION_KEY)
    if isinstance(forced, dict) and forced.get("request") == _request_key(request):
        at = forced.get("at")
        if isinstance(at, int | float) and last >= at:
            # The login we asked for on this very request: it satisfies it once.
            del request.session[FORCED_LOGIN_SESSION_KEY]
            return True
    return False


def _force_login(request) -> HttpResponse:
    back = request.get_full_path()
    if request.user.has_usable_password():
        _remember_forced_login(request)
        return _redirect_with_next(reverse("account_reauthenticate"), back)
    # Someone without a password here (customer SSO) proves it at their IdP again, through the
    # login page, which they reach only signed out.
    auth_logout(request)
    _remember_forced_login(request)
    return _redirect_with_next(reverse("account_login"), back)


def _redirect_with_next(path: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{path}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def _error_to_client(request, error: str, description: str) -> HttpResponse | None:
    """An OAuth error to the client's redirect URI, only if it is registered for the client
    (matched as allauth matches it); otherwise allauth refuses the request on its own page."""
    params = request.GET
    client = Client.objects.filter(id=params.get("client_id", "")).first()
    redirect_uri = params.get("redirect_uri", "")
    if client is None or not redirect_uri:
        return None
    if not is_redirect_uri_allowed(redirect_uri, client.get_redirect_uris(), client.allow_uri_wildcards):
        return None
    query = {"error": error, "error_description": description}
    if params.get("state"):
        query["state"] = params["state"]
    if params.get("response_mode") == "fragment":
        location = f"{redirect_uri}#{urlencode(query)}"
    else:
        location = redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(query)
    response = HttpResponse(status=302)
    # Not HttpResponseRedirect: a native app's redirect URI may use its own scheme.
    response["Location"] = location
    return response


def _code_in(location: str) -> str | None:
    parsed = urlparse(location)
    for part in (parsed.query, parsed.fragment):
        fields = parse_qs(part)
        if fields.get("code") and "error" not in fields:
            return fields["code"][-1]  # oauthlib appends it after any query the URI has
    return None


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""
