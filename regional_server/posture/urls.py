from django.urls import path

from posture import views

app_name = "posture"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("scan/", views.scan, name="scan"),
    path("alerts/", views.alerts, name="alerts"),
]
