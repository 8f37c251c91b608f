from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from products import (
            alerts,  # noqa: F401 - registers the account home's security alerts panel
            crosssell,  # noqa: F401 - registers the account home's products panel
            receivers,  # noqa: F401 - connects the signal receivers
        )
