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
            security_events,  # noqa: F401 - connects the sign-in/out audit receivers
            security_policy,  # noqa: F401 - connects the region-added and login-time receivers
            sessions,  # noqa: F401 - connects the portal-session login/logout receivers
            signing_keys,
            sso,  # noqa: F401 - sets or clears the federated-login flag at every login
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
