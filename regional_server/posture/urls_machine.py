"""Mounted by the kit at <machine URL>/tenant/v1/<tenant>/products/posture/ (contract C)."""

from django.urls import path

from posture import views_machine

app_name = "posture_machine"
urlpatterns = [path("alerts/summary", views_machine.alerts_summary, name="alerts_summary")]
