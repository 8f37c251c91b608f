"""/a/<slug>/security/ (namespace `security`): the account security policy."""

from django.urls import path

from accounts import views_security

app_name = "security"
urlpatterns = [
    path("", views_security.policy_page, name="policy"),
]
