"""REST API v1 for the catalog, entitlements and trials (products/api.py); schema at /api/schema/."""

from django.urls import path

from products import api

app_name = "products_api"

ACCOUNT = "accounts/<slug:slug>/"

urlpatterns = [
    path("products/", api.ProductsAPI.as_view(), name="products"),
    path("products/<slug:code>/", api.ProductAPI.as_view(), name="product"),
    path(f"{ACCOUNT}entitlements/", api.EntitlementsAPI.as_view(), name="entitlements"),
    path(f"{ACCOUNT}trials/", api.TrialsAPI.as_view(), name="trials"),
]
