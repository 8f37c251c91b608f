"""/a/<slug>/sso/: claimed domains and the account's IdP (owners, admins)."""

from django.urls import path

from accounts import views_sso

app_name = "sso"
urlpatterns = [
    path("", views_sso.sso_page, name="index"),
    path("domains/", views_sso.domain_claim, name="domain_claim"),
    path("domains/<int:claim_id>/check/", views_sso.domain_check, name="domain_check"),
    path("domains/<int:claim_id>/remove/", views_sso.domain_remove, name="domain_remove"),
    path("connection/", views_sso.connection_save, name="connection"),
]
