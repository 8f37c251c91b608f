from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<slug:code>/", views.product_detail, name="detail"),
    path("<slug:code>/trial/", views.trial_start, name="trial_start"),
    # Upsell: confirm (GET), add (POST), then the members' progress in the region.
    path("<slug:code>/regions/<slug:region>/add/", views.upsell_confirm, name="upsell_confirm"),
    path("<slug:code>/regions/<slug:region>/add/go/", views.upsell_add, name="upsell_add"),
    path("<slug:code>/regions/<slug:region>/progress/", views.upsell_progress, name="upsell_progress"),
]
