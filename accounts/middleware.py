class OIDCErrorStatusMiddleware:
    """allauth.idp.oidc renders refused authorization requests (unknown client, unregistered
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
