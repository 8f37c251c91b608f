from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpResponsePermanentRedirect


class CanonicalHostMiddleware:
    """Send people to the configured people URL: the OIDC redirect URI registered at Atrium is
    built from it, and a login started on another host name would fail at the callback."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.canonical_netloc = urlparse(settings.REGION_PEOPLE_URL).netloc

    def __call__(self, request):
        if request.get_host() != self.canonical_netloc:
            return HttpResponsePermanentRedirect(settings.REGION_PEOPLE_URL + request.get_full_path())
        return self.get_response(request)
