from django.urls import include, path
from mozilla_django_oidc.views import OIDCLogoutView

from atrium_kit import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("refused/", views.refused, name="refused"),
    path("signed-out/", views.signed_out, name="signed_out"),
    path("logout/", OIDCLogoutView.as_view(), name="logout"),
    path("tenants/<slug:slug>/switch/", views.tenant_switch, name="tenant_switch"),
    path("p/backup/", include("backup.urls")),
    path("p/posture/", include("posture.urls")),
    path("p/archiver/", include("archiver.urls")),
    path("p/<slug:code>/", views.product, name="product"),
    path("oidc/", include("mozilla_django_oidc.urls")),
]

# 400 and 500 render without context processors (see views._plain_error_page); 403 and 404 use
# Django's handlers with our templates (atrium_kit/templates/403.html, 404.html).
handler400 = "atrium_kit.views.bad_request"
handler500 = "atrium_kit.views.server_error"
