"""A person's own profile: /profile/ (namespace `profile`)."""

from django.urls import path

from accounts import views_profile

app_name = "profile"
urlpatterns = [
    path("", views_profile.profile_index, name="index"),
    path("name/", views_profile.profile_name, name="name"),
    path("email/", views_profile.profile_email, name="email"),
    path("email/confirm/<str:token>/", views_profile.profile_email_confirm, name="email_confirm"),
    path("export/", views_profile.profile_export, name="export"),
    path("delete/", views_profile.profile_delete, name="delete"),
]
