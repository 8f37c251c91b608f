"""/a/<slug>/invitations/… (inside the `accounts` namespace; see accounts/urls.py)."""

from django.urls import path

from accounts import views_invitations as views

urlpatterns = [
    path("", views.invitations_page, name="invitations"),
    path("new/", views.invitation_create, name="invitation_create"),
    path("import/", views.invitations_import, name="invitations_import"),
    path("<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]
