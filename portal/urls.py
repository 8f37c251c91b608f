from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from portal import views

# allauth answers a refused rate limit through this handler: it records `auth.lockout` first.
handler429 = "accounts.security_events.handler429"

# Django admin's own login form calls auth.login() directly: no allauth login stages (MFA),
# rate limits or security events. Staff sign in through allauth's login page instead.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/mfa/", include("accounts.urls_mfa")),
    path("accounts/", include("allauth.urls")),
    path("", include("allauth.idp.urls")),
    path("a/<slug:slug>/billing/", include("billing.urls")),
    path("a/<slug:slug>/security/", include("accounts.urls_security")),
    path("a/<slug:slug>/sso/", include("accounts.urls_sso")),
    path("a/<slug:slug>/", include("accounts.urls")),
    path("invite/", include("accounts.urls_invite")),
    path("profile/sessions/", include("accounts.urls_sessions")),
    path("profile/", include("accounts.urls_profile")),
    path("welcome/", include("accounts.urls_signup")),
    path("products/", include("products.urls")),
    path("sales/", include("billing.urls_sales")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("products.api_urls")),
    path("api/v1/", include("billing.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
