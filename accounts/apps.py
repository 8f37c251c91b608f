from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            client_secrets,
            receivers,  # noqa: F401 - connects the ledger signal receivers
            refresh_tokens,
            signing_keys,
        )

        # allauth.idp.oidc has no adapter hook for these (see each module's docstring).
        client_secrets.install()
        refresh_tokens.install()
        signing_keys.install()
