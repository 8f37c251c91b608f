"""The account's settings: /a/<slug>/settings/ (names join the `accounts` namespace)."""

from django.urls import path

from accounts import views_account_settings

urlpatterns = [
    path("", views_account_settings.settings_page, name="settings"),
    path("close/", views_account_settings.account_close, name="account_close"),
]
