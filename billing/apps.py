from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from billing import panels  # noqa: F401 - registers the account home's billing panel
        from billing.upsell_hook import subscription_page
        from products import upsell

        if subscription_page not in upsell.BILLED_AT:
            upsell.BILLED_AT.append(subscription_page)
