"""Hostile review: the customer buys at the price the preview showed. Staff editing the plan's price
between the preview and the confirmation must not charge a price nobody saw."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import Invoice

NOW = datetime(2027, 3, 17, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_price_edited_after_the_preview_is_shown_again_before_anyone_is_charged(
    client, acme_everywhere, plans, alice
):
    client.force_login(alice)
    url = "/a/acme/billing/subscribe/backup/"
    form = {"plan": str(plans["basic"].pk), "seats_eu": "5"}
    preview = client.post(url, form)
    assert preview.status_code == 200
    assert 'name="expected_total" value="50.00 USD"' in preview.content.decode()

    plans["basic"].unit_price = Decimal("12.00")  # staff edit the price in Django admin meanwhile
    plans["basic"].save()

    refused = client.post(url, {**form, "confirm": "1", "expected_total": "50.00 USD"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "The first invoice is now 60.00 USD, not 50.00 USD" in page
    assert 'name="expected_total" value="60.00 USD"' in page
    assert not acme_everywhere.subscriptions.exists()

    bought = client.post(url, {**form, "confirm": "1", "expected_total": "60.00 USD"})
    assert bought.status_code == 302
    assert Invoice.objects.get(account=acme_everywhere).total == Decimal("60.00")


def test_the_api_refuses_to_buy_at_a_total_other_than_the_previews(client, acme_everywhere, plans, alice):
    client.force_login(alice)
    url = "/api/v1/accounts/acme/subscriptions/"
    body = {"product": "backup", "plan": "basic-monthly", "seats": {"eu": 5}}
    preview = client.post(url, {**body, "preview": True}, content_type="application/json").json()
    shown = f"{preview['total']} {preview['currency']}"
    assert shown == "50.00 USD"
    plans["basic"].unit_price = Decimal("12.00")
    plans["basic"].save()
    refused = client.post(url, {**body, "expected_total": shown}, content_type="application/json")
    assert refused.status_code == 400
    assert "60.00 USD" in str(refused.json())
    assert not acme_everywhere.subscriptions.exists()
    bought = client.post(url, {**body, "expected_total": "60.00 USD"}, content_type="application/json")
    assert bought.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_conversions_make_one_subscription_and_one_invoice(request):
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    from billing.services import subscription_convert_trial

    acme = request.getfixturevalue("acme_everywhere")
    owner = request.getfixturevalue("owner")
    backup, plans = request.getfixturevalue("backup"), request.getfixturevalue("plans")
    barrier = threading.Barrier(2)
    outcomes = []

    def convert():
        try:
            barrier.wait(timeout=10)
            subscription_convert_trial(
                account=acme,
                product=backup,
                plan=plans["basic"],
                seats_by_region={"eu": 5},
                actor=owner,
                now=NOW,
            )
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "subscribed"]
    assert acme.subscriptions.count() == 1
    assert Invoice.objects.filter(account=acme).count() == 1
