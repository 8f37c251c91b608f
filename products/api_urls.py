"""REST API v1 for the catalog, entitlements, trials and trial requests (products/api.py);
schema at /api/schema/."""

from django.urls import path

from products import api

app_name = "products_api"

ACCOUNT = "accounts/<slug:slug>/"

urlpatterns = [
    path("products/", api.ProductsAPI.as_view(), name="products"),
    path("products/<slug:code>/", api.ProductAPI.as_view(), name="product"),
    path(f"{ACCOUNT}entitlements/", api.EntitlementsAPI.as_view(), name="entitlements"),
    path(f"{ACCOUNT}trials/", api.TrialsAPI.as_view(), name="trials"),
    path(f"{ACCOUNT}trial-requests/", api.TrialRequestsAPI.as_view(), name="trial_requests"),
    path(
        f"{ACCOUNT}trial-requests/<int:pk>/approve/",
        api.TrialRequestApproveAPI.as_view(),
        name="trial_request_approve",
    ),
    path(
        f"{ACCOUNT}trial-requests/<int:pk>/decline/",
        api.TrialRequestDeclineAPI.as_view(),
        name="trial_request_decline",
    ),
]
