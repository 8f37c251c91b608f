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
