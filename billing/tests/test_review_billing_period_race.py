"""Hostile review: a change whose moment was taken before the renewal it waited for (the invoice run
held the account lock) must not land in the period that has just ended, where no invoice will ever
charge it."""

import threading
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from billing.services import (
    invoices_run,
    subscription_convert_trial,
    subscription_plan_change,
    subscription_seats_change,
    subscription_seats_change_preview,
)
from billing.tests.conftest import MAR_1

LAST_SECOND_OF_MARCH = datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def renewed(acme_everywhere, backup, plans, owner):
    subscription = subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=MAR_1,
    )
    invoices_run(now=datetime(2027, 4, 1, 0, 0, 1, tzinfo=UTC))
    subscription.refresh_from_db()
    assert subscription.current_period_start == datetime(2027, 4, 1, tzinfo=UTC)
    return subscription


def test_a_seat_change_dated_in_the_period_just_renewed_is_refused_not_lost(renewed, owner):
    with pytest.raises(ValidationError) as refused:
        subscription_seats_change(
            subscription=renewed, seats_by_region={"eu": 9}, actor=owner, now=LAST_SECOND_OF_MARCH
        )
    assert refused.value.code == "renewing"
    with pytest.raises(ValidationError):
        subscription_seats_change_preview(
            subscription=renewed, seats_by_region={"eu": 9}, now=LAST_SECOND_OF_MARCH
        )
    assert {i.region.code: i.seats for i in renewed.items.select_related("region")} == {"eu": 5}


def test_an_upgrade_dated_in_the_period_just_renewed_is_refused(renewed, owner, plans):
    with pytest.raises(ValidationError):
        subscription_plan_change(
            subscription=renewed, plan=plans["team"], actor=owner, now=LAST_SECOND_OF_MARCH
        )
    renewed.refresh_from_db()
    assert renewed.plan_id == plans["basic"].pk


def test_the_same_seat_change_a_second_later_is_billed_in_the_new_period(renewed, owner):
    subscription_seats_change(
        subscription=renewed,
        seats_by_region={"eu": 9},
        actor=owner,
        now=datetime(2027, 4, 1, 0, 0, 2, tzinfo=UTC),
    )
    result = invoices_run(now=datetime(2027, 5, 1, 0, 5, tzinfo=UTC))
    assert result.invoices_created == 1
    may = renewed.invoices.get(period_start=datetime(2027, 5, 1, tzinfo=UTC))
    proration = may.lines.get(kind="proration")
    # 4 seats × 10.00 for all 30 of April's 30 days.
    assert proration.amount == 40
    assert may.total == 90 + 40


@pytest.mark.django_db(transaction=True)
def test_a_seat_change_that_waited_for_the_renewal_is_refused_in_a_real_race(request):
    # Two connections: the invoice run holds the account lock while a change dated 23:59:59 waits on it.
    from django.db import connection, transaction

    from accounts.locks import account_lock
    from billing.models import SubscriptionEvent

    acme = request.getfixturevalue("acme_everywhere")
    owner = request.getfixturevalue("owner")
    subscription = subscription_convert_trial(
        account=acme,
        product=request.getfixturevalue("backup"),
        plan=request.getfixturevalue("plans")["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=MAR_1,
    )
    outcome = []

    def change():
        try:
            subscription_seats_change(
                subscription=subscription, seats_by_region={"eu": 9}, actor=owner, now=LAST_SECOND_OF_MARCH
            )
            outcome.append("changed")
        except ValidationError as exc:
            outcome.append(exc.code)
        finally:
            connection.close()

    with transaction.atomic():
        account_lock(acme.pk)  # what the run's first statement takes
        racer = threading.Thread(target=change)
        racer.start()
        invoices_run(now=datetime(2027, 4, 1, 0, 0, 1, tzinfo=UTC))
    racer.join(timeout=30)
    assert outcome == ["renewing"]
    assert not SubscriptionEvent.objects.filter(subscription=subscription, kind="seats").exists()
    assert subscription.items.get().seats == 5
