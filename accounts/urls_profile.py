"""URL module of one feature (see accounts/urls.py and portal/urls.py); filled by that feature."""

app_name = "profile"
urlpatterns: list = []
