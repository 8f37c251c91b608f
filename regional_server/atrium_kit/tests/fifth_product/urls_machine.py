from django.urls import path

from atrium_kit.tests.fifth_product import views

app_name = "fifth_machine"
urlpatterns = [
    path("ping", views.ping, name="ping"),
    path("write", views.write, name="write"),
]
