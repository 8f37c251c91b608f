from django.urls import include, path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_home, name="home"),
    path("members/", views.members, name="members"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/<int:membership_id>/rename/", views.member_rename, name="member_rename"),
    path("members/<int:membership_id>/suspend/", views.member_suspend, name="member_suspend"),
    path("members/<int:membership_id>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("sync/<int:record_id>/retry/", views.sync_retry, name="sync_retry"),
    # Each feature's account pages live in its own URL module (names join this namespace).
    path("invitations/", include("accounts.urls_invitations")),
    path("groups/", include("accounts.urls_groups")),
    path("audit/", include("accounts.urls_audit")),
]
