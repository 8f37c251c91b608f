"""/welcome/: onboarding after self-serve sign-up (namespace `signup`)."""

from django.urls import path

from accounts import views_signup

app_name = "signup"
urlpatterns = [
    path("", views_signup.welcome, name="welcome"),
]
