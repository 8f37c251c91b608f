"""portal.urls with /a/<slug>/settings/ mounted in the `accounts` namespace, for tests written
before accounts.urls_settings is mounted in accounts/urls.py (harmless once it is)."""

from django.urls import include, path

from accounts import urls as account_urls
from portal import urls as portal_urls


def _is_settings(pattern) -> bool:
    module = getattr(pattern, "urlconf_name", None)
    return getattr(module, "__name__", module) == "accounts.urls_settings"


_account_patterns = [*account_urls.urlpatterns]
if not any(_is_settings(p) for p in _account_patterns):
    _account_patterns.append(path("settings/", include("accounts.urls_settings")))


def _replace(pattern):
    if str(getattr(pattern, "pattern", "")) == "a/<slug:slug>/":
        return path("a/<slug:slug>/", include((_account_patterns, "accounts")))
    return pattern


urlpatterns = [_replace(p) for p in portal_urls.urlpatterns]
