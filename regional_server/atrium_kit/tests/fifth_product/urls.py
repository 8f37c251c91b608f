from django.urls import path

from atrium_kit.tests.fifth_product import views

app_name = "fifth"
urlpatterns = [
    path("", views.index, name="index"),
    path("undecorated/", views.undecorated, name="undecorated"),
]
