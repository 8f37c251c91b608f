"""Connected apps of an account, mounted at /a/<slug>/apps/ inside the `accounts` namespace."""

from django.urls import path

from accounts import views_apps as views

urlpatterns = [
    path("", views.apps, name="apps"),
    path("enable/<int:app_id>/", views.app_enable, name="app_enable"),
    path("<int:enablement_id>/", views.app_audience, name="app_audience"),
    path("<int:enablement_id>/disable/", views.app_disable, name="app_disable"),
]
