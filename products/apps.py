from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from products import receivers  # noqa: F401 - connects the signal receivers
