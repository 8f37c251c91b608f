"""The people listener's URLs plus views that fail on purpose (error page tests only)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path
from region.urls import handler400, handler500
from region.urls import urlpatterns as people_urlpatterns


def _broken(request):
    raise RuntimeError("a bug, with a secret in its message: SECRET-IN-TRACEBACK")


def _forbidden(request):
    raise PermissionDenied


def _suspicious(request):
    raise SuspiciousOperation("tampered input")


urlpatterns = [
    *people_urlpatterns,
    path("test-only/broken/", _broken),
    path("test-only/forbidden/", _forbidden),
    path("test-only/suspicious/", _suspicious),
]

__all__ = ["handler400", "handler500", "urlpatterns"]
