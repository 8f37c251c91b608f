"""Atrium as the OpenID Connect provider: how allauth.idp.oidc names and describes a user."""

import uuid
from typing import Any

from allauth.core import context
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.internal.resources import InvalidTargetError
from allauth.idp.oidc.models import Client
from django.conf import settings

from accounts.auth_context import ACR_VALUES_SUPPORTED
from accounts.models import User
from regions.models import Region


class AtriumOIDCAdapter(DefaultOIDCAdapter):
    def get_issuer(self) -> str:
        # Read per call (a test's live server sets it); never derived from the Host header.
        return settings.ATRIUM_ISSUER

    def populate_server_metadata(self, data: dict) -> None:
        # allauth builds endpoint URLs from the request's Host; publish them under the issuer
        # so a client that reached us as "localhost" is not sent to a different origin.
        # Clients registered for it may ask for the REST API's scope (accounts/api.py).
        supported = data.setdefault("scopes_supported", [])
        if "atrium:api" not in supported:
            supported.append("atrium:api")
        # What our ID tokens carry (populate_id_token) and the assurance levels acr_values names.
        data["claims_supported"] = _merged(data.get("claims_supported"), CLAIMS_SUPPORTED)
        data["acr_values_supported"] = list(ACR_VALUES_SUPPORTED)
        # OIDC Back-Channel Logout 1.0: regions learn of a logout at Atrium (accounts/sessions.py).
        data["backchannel_logout_supported"] = True
        data["backchannel_logout_session_supported"] = True
        origin = self.request.build_absolute_uri("/").rstrip("/")
        for name, value in data.items():
            if isinstance(value, str) and name.endswith(("_endpoint", "_uri")) and value.startswith(origin):
                data[name] = settings.ATRIUM_ISSUER + value[len(origin) :]

    def validate_resource_uris(self, *, uris: list[str], **kwargs) -> None:
        """RFC 8707 `resource` at the authorization endpoint, against the client the request
        names (its redirect URI is validated by then, and the code is bound to that client).

        At the token endpoint the client is not yet authenticated when allauth calls this, so
        nothing a request claims about its client is trusted here: the audience is checked
        against the authenticated client in `populate_access_token`."""
        request = context.request
        if not uris or _view_name(request) != "idp:oidc:authorization":
            return
        client = Client.objects.filter(id=request.GET.get("client_id", "")).first()
        # Authorization requests are a person's login: never a client-credentials audience.
        refused = _refused_resources(client, uris, client_credentials=False)
        if refused:
            error = InvalidTargetError(
                description=f"This client may not request resource {refused[0]}",
                state=request.GET.get("state"),
            )
            # allauth redirects an OAuth error to `error.redirect_uri`; oauthlib has validated the
            # request's redirect URI against the client's registered ones before resources are read.
            error.redirect_uri = request.GET.get("redirect_uri")
            error.response_mode = "fragment" if request.GET.get("response_mode") == "fragment" else "query"
            raise error

    def populate_access_token(self, access_token: dict, *, client, scopes, user, **kwargs) -> None:
        """Runs for every access token (JWT) we mint, after allauth authenticated `client`
        and whatever the grant (client credentials, authorization code, refresh, device):
        its audience must be one this client is registered for (`data.allowed_resources`),
        so a customer's or a region's login client never obtains a token a region accepts."""
        audience = access_token.get("aud") or []
        # allauth passes no user only for the client-credentials grant.
        audiences = [audience] if isinstance(audience, str) else list(audience)
        refused = _refused_resources(client, audiences, client_credentials=user is None)
        if refused:
            raise InvalidTargetError(description=f"This client may not request resource {refused[0]}")

    def populate_id_token(self, id_token: dict, client, scopes, **kwargs) -> None:
        """`amr`, `acr`, `sid` and `auth_time` of the login the code came from (cached at the
        authorize step, accounts/oidc_authorize.py), or of the refresh token's chain: this runs at
        the token endpoint, where no session exists. A code without a usable context (issued
        before it was recorded, or a bad value) gets an ID token without them, never an error."""
        from accounts.refresh_tokens import grant_auth_context

        auth, _digest = grant_auth_context()
        if auth:
            id_token.update(auth)

    def get_user_sub(self, client, user) -> str:
        return str(user.public_id)

    def get_user_by_sub(self, client, sub: str) -> User | None:
        try:
            public_id = uuid.UUID(sub)
        except (ValueError, TypeError):
            return None
        return User.objects.filter(public_id=public_id, is_active=True).first()

    def get_claims(self, purpose, user, client, scopes, email=None, **kwargs) -> dict[str, Any]:
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if "profile" in scopes:
            claims["name"] = user.display_name
        return claims


CLAIMS_SUPPORTED = [
    "sub", "iss", "aud", "exp", "iat", "jti", "nonce", "auth_time", "amr", "acr", "sid",
    "email", "email_verified", "name", "given_name", "family_name",
]  # fmt: skip


def _merged(existing, extra: list[str]) -> list[str]:
    return list(dict.fromkeys([*(existing if isinstance(existing, list) else []), *extra]))


def allowed_resources(client: Client | None, *, client_credentials: bool = True) -> set[str]:
    """The audiences (RFC 8707 resources) a client may obtain tokens for; none by default.

    `data.allowed_resources` lists them; `data.region_machine_audiences` (the provisioner) means
    every configured region's machine URL, read now, so a region added after the client was
    registered is reachable at once instead of failing every push with invalid_target.
    `data.atrium_machine_audience` (a region's client) means Atrium's own machine URL
    (ATRIUM_MACHINE_URL, the directory API), and only for the client-credentials grant: a token
    minted for a person's login through that client (`client_credentials=False`) never gets it."""
    data = (client.data if client else None) or {}
    allowed = {uri.rstrip("/") for uri in data.get("allowed_resources") or [] if isinstance(uri, str)}
    if data.get("region_machine_audiences") is True:
        allowed |= {url.rstrip("/") for url in Region.objects.values_list("machine_url", flat=True)}
    if client_credentials and data.get("atrium_machine_audience") is True:
        allowed.add(settings.ATRIUM_MACHINE_URL.rstrip("/"))
    return allowed


def _refused_resources(
    client: Client | None, uris: list[str], *, client_credentials: bool = True
) -> list[str]:
    allowed = allowed_resources(client, client_credentials=client_credentials)
    return [uri for uri in uris if not isinstance(uri, str) or uri.rstrip("/") not in allowed]


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


# --- connected apps at the authorize step -------------------------------------------------------
def authorization_app_gate_install() -> None:
    """Atrium signs a person in to a connected app (accounts/connected_apps.py) only when one of
    their active memberships enables it for them. allauth's AuthorizationView issues codes on
    three paths (consent form, skip-consent, `prompt=none`), so the gate sits in front of all of
    them: it wraps the view's dispatch (called once from `AccountsConfig.ready`; allauth offers no
    adapter hook there). Clients that are not connected apps (the regions' `region-*`, the
    provisioner, API clients) pass untouched."""
    from allauth.idp.oidc.views import AuthorizationView

    original = AuthorizationView.dispatch
    if getattr(original, "_atrium_app_gate", False):
        return

    def dispatch(self, request, *args, **kwargs):
        refusal = connected_app_refusal(request)
        if refusal is not None:
            return refusal
        return original(self, request, *args, **kwargs)

    dispatch._atrium_app_gate = True
    AuthorizationView.dispatch = dispatch


def _authorize_params(request) -> dict | None:
    """The authorization request's parameters: the query on GET; on the consent form's POST,
    the request allauth signed when it showed the form (None when unsigned or tampered with:
    allauth refuses those itself)."""
    if request.method != "POST":
        return request.GET
    signed = request.POST.get("request")
    if not signed:
        return None  # allauth turns it into a GET of the same parameters, gated then
    from django.core.signing import BadSignature, Signer

    try:
        _scopes, info = Signer().unsign_object(signed)
    except BadSignature:
        return None
    return info if isinstance(info, dict) else None


def connected_app_refusal(request):
    """None to let allauth go on, or the response that refuses the authorization request."""
    from urllib.parse import urlencode

    from allauth.idp.oidc.internal.clientkit import is_redirect_uri_allowed
    from django.http import HttpResponseRedirect
    from django.shortcuts import render

    from accounts import connected_apps

    params = _authorize_params(request)
    client_id = params.get("client_id") if params else None
    app = connected_apps.connected_app_for_client(client_id=client_id if isinstance(client_id, str) else "")
    if app is None:
        return None
    redirect_uri = params.get("redirect_uri")
    # Only a redirect URI registered for the app may receive an error; anything else is left to
    # allauth, which shows its own error page for it. Matched as allauth matches it (loopback on
    # any port, extra query parameters, the host's case): a URI allauth would send a code to must
    # not slip past the PKCE check, nor get a page under prompt=none.
    registered = isinstance(redirect_uri, str) and is_redirect_uri_allowed(
        redirect_uri, app.client.get_redirect_uris(), app.client.allow_uri_wildcards
    )
    state = params.get("state")

    def to_app(error: str, description: str):
        query = {"error": error, "error_description": description}
        if isinstance(state, str) and state:
            query["state"] = state
        return HttpResponseRedirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(query))

    # HEAD too: Django answers it with the view's GET, so allauth issues a code there as well.
    query_request = request.method in ("GET", "HEAD")
    if (
        query_request
        and registered
        and (not params.get("code_challenge") or params.get("code_challenge_method") != "S256")
    ):
        # Connected apps use the code flow with PKCE (S256) even though they are confidential.
        return to_app("invalid_request", "PKCE with code_challenge_method=S256 is required.")
    if not request.user.is_authenticated:
        return None  # allauth sends the person to the login page and back here
    if connected_apps.app_open_allowed(user=request.user, app=app):
        return None
    if query_request and registered and "none" in str(params.get("prompt", "")).split():
        # prompt=none must never show a page (OIDC Core §3.1.2.1): answer the app instead.
        return to_app("access_denied", f"{app.name} is not enabled for this person.")
    context = {"app": app, "ask": connected_apps.admins_to_ask(user=request.user)}
    return render(request, "accounts/apps_refused.html", context, status=403)
