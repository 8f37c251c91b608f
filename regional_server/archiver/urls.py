from django.urls import path

from archiver import views

app_name = "archiver"
urlpatterns = [
    path("", views.holds, name="holds"),
    path("holds/", views.hold_place, name="hold_place"),
    path("holds/<int:hold_id>/release/", views.hold_release, name="hold_release"),
]
