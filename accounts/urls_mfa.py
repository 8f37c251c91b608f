"""/accounts/mfa/ (namespace `mfa`): a person's own two-factor authentication, the MFA step of
the login, and step-up (`verify`). The admin reset of a member's MFA lives with the other member
actions, under /a/<slug>/members/<id>/mfa-reset/ (accounts/urls.py)."""

from django.urls import path

from accounts import views_mfa

app_name = "mfa"
urlpatterns = [
    path("", views_mfa.mfa_index, name="index"),
    path("enrol/", views_mfa.mfa_enrol, name="enrol"),
    path("recovery-codes/", views_mfa.mfa_recovery_codes, name="recovery_codes"),
    path("remove/", views_mfa.mfa_remove, name="remove"),
    path("authenticate/", views_mfa.mfa_authenticate, name="authenticate"),
    path("verify/", views_mfa.mfa_verify, name="verify"),
]
