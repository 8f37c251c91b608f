"""Hostile review: paying the invoice of the period running now gives that period its access back,
even while an older invoice is still overdue (dunning never blocks prepaid time)."""

from datetime import UTC, datetime

import pytest

from billing.models import Invoice, Subscription
from billing.services import dunning_run, invoice_mark_paid, invoices_run, subscription_convert_trial
from billing.tests.conftest import MAR_1
from products.models import Entitlement


@pytest.fixture
def staff(db):
    from conftest import make_user

    user = make_user("ops-review@atrium.test")
    user.is_staff = True
    user.save()
    return user


def test_paying_the_running_period_restores_access_while_an_older_invoice_stays_overdue(
    acme_everywhere, backup, plans, owner, staff, django_capture_on_commit_callbacks
):
    subscription = subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=MAR_1,
    )
    apr_16 = datetime(2027, 4, 16, 12, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        invoices_run(now=datetime(2027, 4, 1, 0, 5, tzinfo=UTC))  # April's invoice, due 1 April
        dunning_run(now=apr_16)  # both invoices past grace: past due, April's access expires
    assert set(Entitlement.objects.filter(account=acme_everywhere).values_list("status", flat=True)) == {
        "expired"
    }
    april = subscription.invoices.get(period_start=datetime(2027, 4, 1, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(invoice=april, actor=staff, now=apr_16)
        dunning_run(now=datetime(2027, 4, 17, 12, tzinfo=UTC))

    # March is still unpaid: the subscription stays past due, but April is paid for and runs.
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    assert (
        subscription.invoices.get(period_start=MAR_1.replace(hour=0, minute=0)).status == Invoice.Status.OPEN
    )
    assert set(Entitlement.objects.filter(account=acme_everywhere).values_list("status", flat=True)) == {
        "active"
    }
