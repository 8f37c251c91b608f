"""The billing API: same services, same numbers, same isolation as the pages."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Membership
from billing.models import Subscription
from billing.services import subscription_convert_trial
from conftest import make_user

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
        seats_by_region={"eu": 5, "us": 2},
        actor=owner,
        now=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )


def test_plans_are_listed_with_exact_prices(client, plans, alice):
    client.force_login(alice)
    body = client.get("/api/v1/plans/?product=backup").json()
    assert [(p["code"], p["unit_price"], p["interval"]) for p in body["results"]] == [
        ("basic-monthly", "10.00", "month"),
        ("team-monthly", "15.00", "month"),
        ("basic-yearly", "100.00", "year"),
    ]


def test_subscribe_preview_then_create_through_the_api(client, acme_everywhere, plans, alice):
    client.force_login(alice)
    body = {"product": "backup", "plan": "team-monthly", "seats": {"us": 3, "au": 1}}
    preview = client.post(
        "/api/v1/accounts/acme/subscriptions/", {**body, "preview": True}, content_type="application/json"
    )
    assert preview.status_code == 200 and preview.json()["total"] == "60.00"
    assert not Subscription.objects.exists()
    created = client.post("/api/v1/accounts/acme/subscriptions/", body, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["seats"] == {"au": 1, "us": 3}


def test_bad_input_is_a_400_with_a_json_body(client, acme_everywhere, plans, alice, paid):
    client.force_login(alice)
    for body in ({"product": "backup", "plan": "nope", "seats": {"us": 1}},
                 {"product": "backup", "plan": "team-monthly", "seats": {"us": -1}},
                 {"product": "backup", "plan": "team-monthly", "seats": {"mars": 1}}):  # fmt: skip
        response = client.post("/api/v1/accounts/acme/subscriptions/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()
    response = client.post(
        f"/api/v1/accounts/acme/subscriptions/{paid.pk}/plan/",
        {"plan": "basic-yearly-x"},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_seat_change_preview_has_the_exact_amount(client, paid, alice):
    client.force_login(alice)
    url = f"/api/v1/accounts/acme/subscriptions/{paid.pk}/seats/"
    preview = client.post(url, {"seats": {"eu": 8}, "preview": True}, content_type="application/json").json()
    assert (preview["charge_now"], preview["next_invoice"]["total"]) == ("14.52", "114.52")
    changed = client.post(url, {"seats": {"eu": 8}}, content_type="application/json")
    assert changed.status_code == 202 and changed.json()["seats"] == {"eu": 8, "us": 2}


def test_a_member_is_refused_and_another_account_sees_404(client, paid, acme, carol, globex):
    invoice = paid.invoices.get()
    bob = Membership.objects.get(account=acme, role="member").user
    client.force_login(bob)
    for url in ("/api/v1/accounts/acme/subscriptions/", "/api/v1/accounts/acme/invoices/",
                f"/api/v1/accounts/acme/invoices/{invoice.number}/"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    client.force_login(carol)
    for url in ("/api/v1/accounts/acme/subscriptions/", "/api/v1/accounts/acme/invoices/",
                f"/api/v1/accounts/acme/invoices/{invoice.number}/", f"/api/v1/accounts/globex/invoices/{invoice.number}/",
                f"/api/v1/accounts/globex/subscriptions/{paid.pk}/"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    response = client.post(f"/api/v1/accounts/globex/subscriptions/{paid.pk}/cancel/")
    assert response.status_code == 404


def test_invoice_detail_lists_lines_and_the_list_is_the_accounts_own(client, paid, alice):
    client.force_login(alice)
    number = paid.invoices.get().number
    listing = client.get("/api/v1/accounts/acme/invoices/").json()
    assert [i["number"] for i in listing["results"]] == [number]
    detail = client.get(f"/api/v1/accounts/acme/invoices/{number}/").json()
    assert detail["total"] == "70.00"
    assert [(line["region"], line["seats"], line["amount"]) for line in detail["lines"]] == [
        ("eu", 5, "50.00"),
        ("us", 2, "20.00"),
    ]
    assert Decimal(detail["total"]) == sum(Decimal(line["amount"]) for line in detail["lines"])


def test_a_billing_role_may_manage_through_the_api(client, paid, acme):
    from accounts.services import membership_add

    user = make_user("bill@acme.test")
    membership_add(account=acme, user=user, role="billing")
    client.force_login(user)
    response = client.post(f"/api/v1/accounts/acme/subscriptions/{paid.pk}/cancel/")
    assert response.status_code == 202 and response.json()["cancel_at_period_end"] is True
