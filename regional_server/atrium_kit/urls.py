"""The people listener's URLs: the kit's own pages, every registered product at `p/<code>/`
(ATRIUM_KIT_PRODUCTS), and the generic product page for codes without a product app.

region/urls.py includes this module whole; a product never edits it."""

from django.urls import include, path
from django.urls.resolvers import RoutePattern, URLResolver
from mozilla_django_oidc.views import OIDCLogoutView

from atrium_kit import views
from atrium_kit.products import ProductApp, product_view, registered_products


class ProductResolver(URLResolver):
    """`p/<code>/` + the product app's URLs, each resolved view behind the entitlement check:
    a view the app forgot to decorate with `@product_view` is checked all the same (the
    decorator marks its views, so a decorated one is not checked twice)."""

    def __init__(self, product: ProductApp):
        urlconf_module, app_name, namespace = include(product.urls_module)
        super().__init__(
            RoutePattern(f"p/{product.code}/", is_endpoint=False),
            urlconf_module,
            app_name=app_name,
            namespace=namespace,
        )
        self.product_code = product.code

    def resolve(self, path):
        match = super().resolve(path)
        if getattr(match.func, "atrium_kit_product", None) != self.product_code:
            match.func = product_view(self.product_code)(match.func)
        return match


def product_urlpatterns() -> list:
    return [ProductResolver(product) for product in registered_products()]


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("refused/", views.refused, name="refused"),
    path("signed-out/", views.signed_out, name="signed_out"),
    path("logout/", OIDCLogoutView.as_view(), name="logout"),
    path("tenants/<slug:slug>/switch/", views.tenant_switch, name="tenant_switch"),
    *product_urlpatterns(),
    # Codes without a product app (e.g. one announced in the catalog): the same check, a plain page.
    path("p/<slug:code>/", views.product, name="product"),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
