"""Hostile review: a plan change into another currency would renew onto an invoice in the new
currency carrying the old period's prorations, which were computed in the old one (USD amounts
billed as EUR). Staff may create such a PlanChange pair in Django admin; the service refuses it."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from billing.models import PlanChange
from billing.services import (
    invoices_run,
    subscription_convert_trial,
    subscription_plan_change,
    subscription_plan_change_preview,
    subscription_seats_change,
)
from billing.tests.conftest import make_plan


def test_a_plan_change_into_another_currency_is_refused(acme_everywhere, backup, plans, owner):
    euro = make_plan(backup, "basic-monthly-eur", "9.00", currency="EUR", position=3)
    PlanChange.objects.create(
        from_plan=plans["basic"], to_plan=euro, direction=PlanChange.Direction.DOWNGRADE
    )
    sub = subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )
    mid = datetime(2027, 3, 17, 9, tzinfo=UTC)
    subscription_seats_change(subscription=sub, seats_by_region={"eu": 8}, actor=owner, now=mid)

    with pytest.raises(ValidationError) as refused:
        subscription_plan_change_preview(subscription=sub, plan=euro, now=mid)
    assert "is billed in EUR" in refused.value.message_dict["plan"][0]
    with pytest.raises(ValidationError):
        subscription_plan_change(subscription=sub, plan=euro, actor=owner, now=mid)

    invoices_run(now=datetime(2027, 4, 1, 0, 5, tzinfo=UTC))
    april = sub.invoices.get(period_start=datetime(2027, 4, 1, tzinfo=UTC))
    assert april.currency == "USD"
    assert {line.kind for line in april.lines.all()} == {"recurring", "proration"}
