"""The audit log of an account: /a/<slug>/audit/ (names join the `accounts` namespace)."""

from django.urls import path

from accounts import views_audit

urlpatterns = [
    path("", views_audit.audit_log, name="audit"),
    path("export.csv", views_audit.audit_csv, name="audit_csv"),
]
