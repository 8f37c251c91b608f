"""The people listener: everything comes from the platform kit (its pages and every product of
ATRIUM_KIT_PRODUCTS at p/<code>/)."""

from django.urls import include, path

urlpatterns = [path("", include("atrium_kit.urls"))]

# 400 and 500 render without context processors (see views._plain_error_page); 403 and 404 use
# Django's handlers with our templates (atrium_kit/templates/403.html, 404.html).
handler400 = "atrium_kit.views.bad_request"
handler500 = "atrium_kit.views.server_error"
