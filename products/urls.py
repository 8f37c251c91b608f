from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<slug:code>/", views.product_detail, name="detail"),
    path("<slug:code>/trial/", views.trial_start, name="trial_start"),
]
