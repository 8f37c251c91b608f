"""REST API v1 (accounts/api.py); schema at /api/schema/."""

from django.urls import path

from accounts import api

app_name = "api"

ACCOUNT = "accounts/<slug:slug>/"

urlpatterns = [
    path("accounts/", api.MyAccountsAPI.as_view(), name="my_accounts"),
    path(f"{ACCOUNT}members/", api.MembersAPI.as_view(), name="members"),
    path(f"{ACCOUNT}members/<int:member_id>/", api.MemberAPI.as_view(), name="member"),
    path(
        f"{ACCOUNT}members/<int:member_id>/transfer-ownership/",
        api.OwnershipTransferAPI.as_view(),
        name="ownership_transfer",
    ),
    path(f"{ACCOUNT}groups/", api.GroupsAPI.as_view(), name="groups"),
    path(f"{ACCOUNT}groups/<int:group_id>/", api.GroupAPI.as_view(), name="group"),
    path(f"{ACCOUNT}groups/<int:group_id>/members/", api.GroupMembersAPI.as_view(), name="group_members"),
    path(f"{ACCOUNT}invitations/", api.InvitationsAPI.as_view(), name="invitations"),
    path(f"{ACCOUNT}invitations/import/", api.InvitationsImportAPI.as_view(), name="invitations_import"),
    path(f"{ACCOUNT}invitations/<int:invitation_id>/", api.InvitationAPI.as_view(), name="invitation"),
    path(
        f"{ACCOUNT}invitations/<int:invitation_id>/resend/",
        api.InvitationResendAPI.as_view(),
        name="invitation_resend",
    ),
    path(f"{ACCOUNT}audit/", api.AuditAPI.as_view(), name="audit"),
]
