from django.urls import include, path
from mozilla_django_oidc.views import OIDCLogoutView
from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("refused/", views.refused, name="refused"),
    path("signed-out/", views.signed_out, name="signed_out"),
    path("logout/", OIDCLogoutView.as_view(), name="logout"),
    path("tenants/<slug:slug>/switch/", views.tenant_switch, name="tenant_switch"),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
