from django.urls import path

from backup import views

app_name = "backup"
urlpatterns = [
    path("", views.sources, name="sources"),
    path("sources/<int:source_id>/", views.source_detail, name="source_detail"),
]
