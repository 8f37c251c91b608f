from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            client_secrets,
            connected_apps,
            oidc,
            receivers,  # noqa: F401 - connects the ledger signal receivers
            refresh_tokens,
            signing_keys,
        )
        from accounts.home_panels import home_panel_register

        # allauth.idp.oidc has no adapter hook for these (see each module's docstring).
        client_secrets.install()
        refresh_tokens.install()
        signing_keys.install()
        oidc.authorization_app_gate_install()
        # The app launcher on the account home.
        home_panel_register(
            name="apps",
            template="accounts/_apps_panel.html",
            context=connected_apps.apps_home_panel,
            order=50,
        )
