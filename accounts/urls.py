from django.urls import include, path

from accounts import views, views_mfa, views_sessions

app_name = "accounts"

# A member action's URL answers GET with a confirmation page naming the person and POST by
# doing it (so every change works without JavaScript); another account's id is a 404.
urlpatterns = [
    path("", views.account_home, name="home"),
    path("members/", views.members, name="members"),
    path("members/badges/", views.members_badges, name="members_badges"),
    path("members/bulk/", views.members_bulk, name="members_bulk"),
    path("members/<int:membership_id>/rename/", views.member_rename, name="member_rename"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/regions/", views.member_regions, name="member_regions"),
    path("members/<int:membership_id>/suspend/", views.member_suspend, name="member_suspend"),
    path("members/<int:membership_id>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("members/<int:membership_id>/transfer/", views.member_transfer, name="member_transfer"),
    path("members/<int:membership_id>/sign-out/", views_sessions.member_sign_out, name="member_sign_out"),
    path("members/<int:membership_id>/mfa-reset/", views_mfa.member_mfa_reset, name="member_mfa_reset"),
    path("sync/<int:record_id>/retry/", views.sync_retry, name="sync_retry"),
    # Each feature's account pages live in its own URL module (names join this namespace).
    path("invitations/", include("accounts.urls_invitations")),
    path("groups/", include("accounts.urls_groups")),
    path("audit/", include("accounts.urls_audit")),
    path("settings/", include("accounts.urls_settings")),
    path("apps/", include("accounts.urls_apps")),
]
