from django.apps import AppConfig


class AtriumKitConfig(AppConfig):
    """The platform kit: everything a product on a regional server gets from Atrium (OIDC login,
    machine tokens, SCIM and entitlement receivers, the entitlement check, shared navigation,
    the directory client). The label stays "tenants": the tables and migrations predate the name."""

    name = "atrium_kit"
    label = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from atrium_kit import checks  # noqa: F401 - registers the kit's system checks
