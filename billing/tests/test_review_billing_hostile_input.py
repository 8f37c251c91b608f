"""Hostile review: bad input to the billing pages and API is a 4xx (JSON for the API), never a 500,
and another account's invoice numbers are 404 in HTML, CSV and the API."""

from datetime import UTC, datetime

import pytest
import time_machine

from billing.services import subscription_convert_trial
from billing.tests.conftest import make_plan

NOW = datetime(2027, 3, 17, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def paid(acme_everywhere, backup, plans, owner):
    return subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )


BAD_SEATS = [
    {"seats": {"eu": 1.5}},
    {"seats": {"eu": 10**30}},
    {"seats": {"eu": -1}},
    {"seats": {"eu": "NaN"}},
    {"seats": {"eu": None}},
    {"seats": {"eu": {"x": 1}}},
    {"seats": [1, 2]},
    {"seats": "eu"},
    {"seats": {"e\x00u": 3}},
    {"seats": {"x" * 5000: 3}},
    {"seats": {"eu": 3}, "preview": "maybe"},
    {},
]


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("body", BAD_SEATS)
def test_bad_seat_bodies_are_a_json_400(client, paid, alice, body, preview):
    client.force_login(alice)
    body = {"preview": preview, **body}
    response = client.post(
        f"/api/v1/accounts/acme/subscriptions/{paid.pk}/seats/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"product": "backup", "plan": "basic-monthly", "seats": {"e\x00u": 1}},
        {"product": "back\x00up", "plan": "basic-monthly", "seats": {"eu": 1}},
        {"product": "backup", "plan": "basic-monthly", "seats": {"eu": 1, "zz": 1}},
        {"product": "backup", "plan": "basic-monthly", "seats": {"eu": 0}},
        {"product": "backup", "plan": ["basic-monthly"], "seats": {"eu": 1}},
    ],
)
def test_bad_subscribe_bodies_are_a_json_400(client, acme_everywhere, plans, alice, body):
    client.force_login(alice)
    for preview in (True, False):
        response = client.post(
            "/api/v1/accounts/acme/subscriptions/",
            {**body, "preview": preview},
            content_type="application/json",
        )
        assert response.status_code == 400, response.content
        assert response.json()


def test_non_json_bodies_are_a_400(client, paid, alice):
    client.force_login(alice)
    for url in (
        f"/api/v1/accounts/acme/subscriptions/{paid.pk}/seats/",
        f"/api/v1/accounts/acme/subscriptions/{paid.pk}/plan/",
        "/api/v1/accounts/acme/subscriptions/",
    ):
        response = client.post(url, "{not json", content_type="application/json")
        assert response.status_code == 400, (url, response.content)


def test_a_plan_of_another_product_or_currency_is_refused(client, paid, alice, posture):
    make_plan(posture, "basic-monthly-p", "7.00")
    client.force_login(alice)
    url = f"/api/v1/accounts/acme/subscriptions/{paid.pk}/plan/"
    for plan in ("basic-monthly-p", "nope", "a" * 60, "\x00"):
        response = client.post(url, {"plan": plan, "preview": True}, content_type="application/json")
        assert response.status_code == 400, (plan, response.content)
    paid.refresh_from_db()
    assert paid.plan.code == "basic-monthly"


def test_bad_seat_forms_are_a_form_error(client, paid, alice):
    client.force_login(alice)
    url = f"/a/acme/billing/subscriptions/{paid.pk}/seats/"
    for value in ("abc", "-1", "1.5", "1e9", "\x00", "9" * 40):
        response = client.post(url, {"seats_eu": value, "confirm": "1"})
        assert response.status_code == 400, value
    paid.refresh_from_db()
    assert {i.region.code: i.seats for i in paid.items.select_related("region")} == {"eu": 5}


def test_bad_subscribe_forms_are_a_form_error(client, acme_everywhere, plans, alice):
    client.force_login(alice)
    for data in (
        {"plan": "abc", "seats_eu": "1"},
        {"plan": str(plans["basic"].pk), "seats_eu": "\x00"},
        {"plan": "\x00", "seats_eu": "1"},
        {"plan": str(plans["basic"].pk)},
    ):
        response = client.post("/a/acme/billing/subscribe/backup/", {**data, "confirm": "1"})
        assert response.status_code == 400, data
    assert not acme_everywhere.subscriptions.exists()


def test_another_accounts_invoice_number_is_404_everywhere(client, paid, globex_eu, carol):
    number = paid.invoices.get().number
    client.force_login(carol)
    assert client.get(f"/a/globex/billing/invoices/{number}/").status_code == 404
    assert client.get(f"/a/globex/billing/invoices/{number}.csv").status_code == 404
    assert client.get(f"/api/v1/accounts/globex/invoices/{number}/").status_code == 404
    assert number not in client.get("/a/globex/billing/invoices.csv").content.decode()
    # And the account in the URL is not hers.
    assert client.get(f"/a/acme/billing/invoices/{number}/").status_code == 404
    assert client.get(f"/api/v1/accounts/acme/invoices/{number}/").status_code == 404


@pytest.mark.parametrize("number", ["ATR-\x00-1", "%00", "x" * 3000, "ATR-1-202703-1'--"])
def test_odd_invoice_numbers_are_404(client, paid, alice, number):
    client.force_login(alice)
    assert client.get(f"/a/acme/billing/invoices/{number}/").status_code == 404
    assert client.get(f"/a/acme/billing/invoices/{number}.csv").status_code == 404
    assert client.get(f"/api/v1/accounts/acme/invoices/{number}/").status_code == 404


def test_a_member_posting_to_change_endpoints_is_403_and_changes_nothing(client, paid, bob, plans):
    client.force_login(bob)
    base = f"/a/acme/billing/subscriptions/{paid.pk}"
    assert client.post(f"{base}/seats/", {"seats_eu": "9", "confirm": "1"}).status_code == 403
    assert client.post(f"{base}/plan/", {"plan": plans["team"].pk, "confirm": "1"}).status_code == 403
    assert client.post(f"{base}/cancel/").status_code == 403
    api = f"/api/v1/accounts/acme/subscriptions/{paid.pk}"
    for path, body in (("seats", {"seats": {"eu": 9}}), ("plan", {"plan": "team-monthly"}), ("cancel", {})):
        assert client.post(f"{api}/{path}/", body, content_type="application/json").status_code == 403
    paid.refresh_from_db()
    assert (paid.plan_id, paid.cancel_at_period_end) == (plans["basic"].pk, False)
    assert paid.items.get().seats == 5
