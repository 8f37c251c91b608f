"""The invoice run: one invoice per subscription and period, whatever runs it how often."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from billing.invoicing import invoice_number
from billing.models import Invoice, SubscriptionEvent
from billing.services import invoices_run, subscription_convert_trial
from billing.tests.conftest import MAR_1

APR_1 = datetime(2027, 4, 1, 0, 5, tzinfo=UTC)


@pytest.fixture
def paid(acme_everywhere, backup, plans, owner):
    return subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5, "us": 2},
        actor=owner,
        now=MAR_1,
    )


def test_running_twice_makes_no_second_invoice(paid):
    first = invoices_run(now=APR_1)
    second = invoices_run(now=APR_1)
    assert (first.invoices_created, second.invoices_created) == (1, 0)
    assert Invoice.objects.filter(subscription=paid).count() == 2  # March (conversion) and April
    assert SubscriptionEvent.objects.filter(subscription=paid, kind="renew").count() == 1


def test_nothing_is_due_before_the_period_ends(paid):
    assert invoices_run(now=datetime(2027, 3, 31, 23, 59, tzinfo=UTC)).invoices_created == 0


def test_a_run_after_the_worker_was_down_catches_up_every_period(paid, acme):
    result = invoices_run(now=datetime(2027, 6, 2, tzinfo=UTC))
    assert result.invoices_created == 3
    numbers = sorted(Invoice.objects.filter(subscription=paid).values_list("number", flat=True))
    assert numbers == [f"ATR-{acme.pk}-2027{m:02d}-{paid.pk}" for m in (3, 4, 5, 6)]
    assert set(Invoice.objects.filter(subscription=paid).values_list("total", flat=True)) == {
        Decimal("70.00")
    }


def test_the_database_refuses_a_second_invoice_for_the_same_period(paid):
    invoice = paid.invoices.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            number="OTHER-1",
            account=invoice.account,
            subscription=paid,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            currency="USD",
            total=Decimal("1.00"),
            due_at=invoice.due_at,
        )


def test_invoice_numbers_are_deterministic():
    assert invoice_number(account_id=7, period_start=APR_1, subscription_id=42) == "ATR-7-202704-42"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_make_one_invoice_per_subscription(request):
    # Fixtures need a committed database here: the runs are two threads, two connections.
    request.getfixturevalue("acme_everywhere")
    paid = request.getfixturevalue("paid")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(invoices_run(now=APR_1).invoices_created)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert Invoice.objects.filter(subscription=paid, period_start__month=4).count() == 1
    assert SubscriptionEvent.objects.filter(subscription=paid, kind="renew").count() == 1
