import base64
import binascii
import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse

from accounts import ratelimits


class OIDCErrorStatusMiddleware:
    """Clear OAuth errors where allauth.idp.oidc gives unclear ones.

    It renders refused authorization requests (unknown client, unregistered
    redirect URI) with status 200; answer 400 so clients and monitors see the error.

    The marker attribute comes from our own `templates/idp/oidc/error.html`.
    """

    MARKER = b"data-oidc-error"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 200
            and request.path.startswith("/identity/")
            and response.get("Content-Type", "").startswith("text/html")
            and self.MARKER in response.content
        ):
            response.status_code = 400
        return response

    def process_exception(self, request, exception):
        """allauth lets a malformed RFC 8707 `resource` escape the token endpoint as a
        ValidationError (a 500); answer like every other OAuth error: 400 with a JSON body."""
        if isinstance(exception, ValidationError) and request.path.startswith("/identity/o/api/"):
            return JsonResponse(
                {"error": "invalid_target", "error_description": " ".join(exception.messages)}, status=400
            )
        return None


class TokenEndpointGuardMiddleware:
    """In front of the OAuth token endpoint: one client authentication method per request, and
    rate limits per IP and per client (429 with `Retry-After` and an OAuth JSON error body).

    - RFC 6749 section 2.3: a client MUST NOT use more than one authentication method in a
      request. A Basic header together with a `client_secret` (or another `client_id`) in the
      body is refused with 401 `invalid_client` before allauth picks one of them.
    - Per IP every request counts 1; a failed client authentication (401, or the refusal above)
      costs `ATRIUM_TOKEN_RATE_FAILED_AUTH_COST`, so guessing secrets runs dry fast.
    - Per client only requests that did not fail client authentication count, so nobody can use
      up another client's budget by naming it without its secret.
    - Parameters in the query string are refused (400 invalid_request): oauthlib would read them.
    Off when `ATRIUM_RATE_LIMITS_ENABLED` is false (ATRIUM_DISABLE_RATE_LIMITS=1).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or request.path != token_endpoint_path():
            return self.get_response(request)
        if request.GET:
            # oauthlib merges query parameters into the request, so credentials there would
            # escape the checks below. RFC 6749 §2.3.1 and §3.2: parameters go in the body,
            # client credentials MUST NOT be in the request URI.
            return _oauth_error(
                400, "invalid_request", "Send token request parameters in the body, not in the URL."
            )
        try:
            request.POST  # noqa: B018 - parse once here: a broken body is the client's error
        except MultiPartParserError:
            return _oauth_error(400, "invalid_request", "The request body could not be parsed.")
        limited = settings.ATRIUM_RATE_LIMITS_ENABLED
        window = settings.ATRIUM_TOKEN_RATE_WINDOW
        ip = request.META.get("REMOTE_ADDR", "")
        client_id = _claimed_client_id(request)
        if limited:
            if ratelimits.add("token-ip", ip, window=window) > settings.ATRIUM_TOKEN_RATE_PER_IP:
                return _too_many(window)
            if client_id and (
                ratelimits.count("token-client", client_id, window=window)
                >= settings.ATRIUM_TOKEN_RATE_PER_CLIENT
            ):
                return _too_many(window)
        two_methods = _uses_two_authentication_methods(request)
        if two_methods:
            # RFC 6749 section 5.2 allows invalid_request here; invalid_client (401) says more
            # plainly that no client was authenticated, and is what an authentication failure
            # through the Authorization header must answer.
            response = _oauth_error(
                401,
                "invalid_client",
                "Use one client authentication method per request: HTTP Basic or client_secret in the body.",
            )
            response["WWW-Authenticate"] = 'Basic realm="atrium"'
        else:
            response = self.get_response(request)
        if limited:
            # allauth answers a failed client authentication with 401 invalid_client.
            if two_methods or response.status_code == 401:
                cost = max(0, settings.ATRIUM_TOKEN_RATE_FAILED_AUTH_COST - 1)  # 1 was counted above
                ratelimits.add("token-ip", ip, window=window, cost=cost)
            elif client_id:
                ratelimits.add("token-client", client_id, window=window)
        return response


@functools.cache
def token_endpoint_path() -> str:
    """The token endpoint's path, resolved once (the middlewares that act on it compare it on
    every request)."""
    return reverse("idp:oidc:token")


def _basic_credentials(request) -> tuple[str, str] | None:
    """(client id, secret) from an HTTP Basic header, as allauth reads it; None without one."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return ("", "")
    return (client_id, secret)


def _claimed_client_id(request) -> str:
    """The client a token request names (unauthenticated: only a rate-limit key)."""
    basic = _basic_credentials(request)
    if basic and basic[0] and basic[1]:
        return basic[0]
    return request.POST.get("client_id", "")


def _uses_two_authentication_methods(request) -> bool:
    basic = _basic_credentials(request)
    if basic is None:
        return False
    body_id = request.POST.get("client_id")
    return "client_secret" in request.POST or (body_id is not None and body_id != basic[0])


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _too_many(window: int) -> JsonResponse:
    retry = ratelimits.retry_after(window=window)
    response = _oauth_error(
        429, "temporarily_unavailable", f"Too many token requests; retry after {retry} seconds."
    )
    response["Retry-After"] = str(retry)
    return response
