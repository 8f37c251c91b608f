from django.apps import AppConfig


class FifthConfig(AppConfig):
    name = "atrium_kit.tests.fifth_product"
    label = "fifth"
    verbose_name = "Fifth Product"
