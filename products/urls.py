from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    # Before "<slug:code>/": these names are not product codes.
    path("trial-policy/", views.trial_policy, name="trial_policy"),
    path("trial-requests/", views.trial_requests_list, name="trial_requests"),
    path("trial-requests/<int:pk>/approve/", views.trial_request_approve, name="trial_request_approve"),
    path("trial-requests/<int:pk>/decline/", views.trial_request_decline, name="trial_request_decline"),
    path("<slug:code>/", views.product_detail, name="detail"),
    path("<slug:code>/trial/", views.trial_start, name="trial_start"),
    path("<slug:code>/request/", views.trial_request_create, name="trial_request_create"),
    # Upsell: confirm (GET), add (POST), then the members' progress in the region.
    path("<slug:code>/regions/<slug:region>/add/", views.upsell_confirm, name="upsell_confirm"),
    path("<slug:code>/regions/<slug:region>/add/go/", views.upsell_add, name="upsell_add"),
    path("<slug:code>/regions/<slug:region>/progress/", views.upsell_progress, name="upsell_progress"),
]
