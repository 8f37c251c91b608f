"""A person's own portal sessions: /profile/sessions/ (namespace `sessions`)."""

from django.urls import path

from accounts import views_sessions

app_name = "sessions"
urlpatterns = [
    path("", views_sessions.sessions_index, name="index"),
    path("<int:session_id>/revoke/", views_sessions.session_revoke, name="revoke"),
    path("revoke-others/", views_sessions.sessions_revoke_others, name="revoke_others"),
]
