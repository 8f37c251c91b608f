from django.apps import AppConfig


class ArchiverConfig(AppConfig):
    name = "archiver"
    default_auto_field = "django.db.models.BigAutoField"
