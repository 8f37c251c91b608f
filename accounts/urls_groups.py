"""Groups of an account, mounted at /a/<slug>/groups/ inside the `accounts` namespace."""

from django.urls import path

from accounts import views_groups as views

urlpatterns = [
    path("", views.group_list, name="groups"),
    path("new/", views.group_create, name="group_create"),
    path("<int:group_id>/", views.group_detail, name="group_detail"),
    path("<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("<int:group_id>/members/add/", views.group_members_add, name="group_members_add"),
    path("<int:group_id>/members/remove/", views.group_members_remove, name="group_members_remove"),
]
