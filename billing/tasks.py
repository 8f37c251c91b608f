"""Beat tasks: thin wrappers over the services (billing/invoicing.py, billing/payments.py)."""

from celery import shared_task
from django.utils import timezone


@shared_task
def run_invoices() -> dict:
    """Renew what ended and invoice it, then dun what is overdue (both idempotent)."""
    from billing.services import dunning_run, invoices_run

    now = timezone.now()
    run = invoices_run(now=now)
    dunning = dunning_run(now=now)
    return {
        "invoices": run.invoices_created,
        "renewed": run.subscriptions_renewed,
        "cancelled": run.cancelled,
        "reminders": dunning.reminders,
        "past_due": dunning.past_due,
        "expired": dunning.expired,
    }


@shared_task
def refresh_account_activity() -> int:
    """The sales dashboard's members' counts (billing/sales_activity.py)."""
    from billing.sales_activity import account_activity_refresh

    return account_activity_refresh()
