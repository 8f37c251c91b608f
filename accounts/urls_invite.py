"""/invite/<token>/: the invitee's link (the path every invitation mail carries)."""

from django.urls import path

from accounts import views_invitations as views

app_name = "invite"
urlpatterns = [
    path("<str:token>/", views.invite, name="accept"),
]
