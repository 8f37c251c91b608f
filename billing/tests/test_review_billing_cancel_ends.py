"""Hostile review: a cancelling subscription's access carries its end in every region, including a
region added after the cancel and access given back by a payment, so regions stop on time even if
the worker is late (README: "entitlements carry that end")."""

from datetime import UTC, datetime

import pytest

from billing.services import (
    dunning_run,
    invoice_mark_paid,
    invoices_run,
    subscription_cancel,
    subscription_convert_trial,
    subscription_seats_change,
)
from billing.tests.conftest import MAR_1
from products.models import Entitlement


@pytest.fixture
def staff(db):
    from conftest import make_user

    user = make_user("ops-cancel@atrium.test")
    user.is_staff = True
    user.save()
    return user


def ends(account):
    return dict(Entitlement.objects.filter(account=account).values_list("region__code", "ends_at"))


def test_a_region_added_after_the_cancel_ends_with_the_period(acme_everywhere, backup, plans, owner):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=MAR_1,
    )  # fmt: skip
    subscription_cancel(subscription=sub, actor=owner, now=datetime(2027, 3, 10, tzinfo=UTC))
    subscription_seats_change(
        subscription=sub, seats_by_region={"au": 2}, actor=owner, now=datetime(2027, 3, 17, tzinfo=UTC)
    )
    apr_1 = datetime(2027, 4, 1, tzinfo=UTC)
    assert ends(acme_everywhere) == {"eu": apr_1, "au": apr_1}


def test_access_given_back_by_a_payment_keeps_the_cancellation_end(
    acme_everywhere, backup, plans, owner, staff, django_capture_on_commit_callbacks
):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=MAR_1,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        invoices_run(now=datetime(2027, 4, 1, 0, 5, tzinfo=UTC))
        dunning_run(now=datetime(2027, 4, 16, 12, tzinfo=UTC))  # past due, April's access expired
    subscription_cancel(subscription=sub, actor=owner, now=datetime(2027, 4, 16, 13, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        for invoice in sub.invoices.all():
            invoice_mark_paid(invoice=invoice, actor=staff, now=datetime(2027, 4, 17, tzinfo=UTC))
    assert set(Entitlement.objects.filter(account=acme_everywhere).values_list("status", flat=True)) == {
        "active"
    }
    assert ends(acme_everywhere) == {"eu": datetime(2027, 5, 1, tzinfo=UTC)}


def test_cancelling_a_past_due_subscription_does_not_give_back_access_dunning_took(
    acme_everywhere, backup, plans, owner, django_capture_on_commit_callbacks
):
    sub = subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=MAR_1,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(now=datetime(2027, 3, 16, 12, tzinfo=UTC))  # March unpaid past grace: expired
    assert set(Entitlement.objects.filter(account=acme_everywhere).values_list("status", flat=True)) == {
        "expired"
    }
    subscription_cancel(subscription=sub, actor=owner, now=datetime(2027, 3, 17, tzinfo=UTC))
    entitlement = Entitlement.objects.get(account=acme_everywhere)
    assert (entitlement.status, entitlement.ends_at) == ("expired", datetime(2027, 4, 1, tzinfo=UTC))
