from django.core.exceptions import ValidationError
from django.http import JsonResponse


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
