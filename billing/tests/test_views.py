"""The customer billing pages: owner and billing roles only, tenant isolation, preview then confirm,
exact amounts on the pages and in the CSV, pinned query counts."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Membership
from billing.models import Invoice, Subscription
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


@pytest.fixture
def globex_paid(globex_eu, backup, plans):
    carol_m = Membership.objects.get(account=globex_eu)
    return subscription_convert_trial(
        account=globex_eu,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 1},
        actor=carol_m,
        now=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )


def member_with_role(account, role):
    from accounts.services import membership_add

    user = make_user(f"{role}@acme.test")
    membership_add(account=account, user=user, role=role)
    return user


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("billing", 200), ("admin", 403), ("read_only", 403), ("member", 403)],
)
def test_the_billing_page_is_for_owner_and_billing_roles_only(client, paid, acme, alice, role, status):
    user = alice if role == "owner" else member_with_role(acme, role)
    client.force_login(user)
    invoice = paid.invoices.get()
    urls = ["/a/acme/billing/", f"/a/acme/billing/invoices/{invoice.number}/",
            f"/a/acme/billing/invoices/{invoice.number}.csv", "/a/acme/billing/invoices.csv"]  # fmt: skip
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, status)


@pytest.mark.parametrize("role", ["read_only", "member", "admin"])
def test_roles_without_billing_manage_cannot_change_anything(client, paid, acme, role):
    client.force_login(member_with_role(acme, role))
    responses = [
        client.post(f"/a/acme/billing/subscriptions/{paid.pk}/seats/", {"seats_eu": 9, "confirm": "1"}),
        client.post(f"/a/acme/billing/subscriptions/{paid.pk}/cancel/"),
        client.get("/a/acme/billing/subscribe/backup/"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert paid.items.get(region__code="eu").seats == 5
    assert not Subscription.objects.filter(cancel_at_period_end=True).exists()


def test_another_accounts_billing_and_invoices_are_404(client, paid, globex_paid, carol):
    client.force_login(carol)
    number = paid.invoices.get().number
    for url in ["/a/acme/billing/", f"/a/acme/billing/invoices/{number}/", f"/a/acme/billing/invoices/{number}.csv",
                f"/a/globex/billing/invoices/{number}/", f"/a/globex/billing/invoices/{number}.csv",
                f"/a/globex/billing/subscriptions/{paid.pk}/seats/"]:  # fmt: skip
        assert client.get(url).status_code == 404, url
    response = client.post(f"/a/globex/billing/subscriptions/{paid.pk}/cancel/")
    assert response.status_code == 404
    own = client.get("/a/globex/billing/invoices.csv").content.decode()
    assert number not in own and globex_paid.invoices.get().number in own


def test_the_billing_page_shows_seats_in_use_purchased_and_the_upcoming_charge(
    client, paid, alice, acme, owner
):
    from billing.services import subscription_seats_change

    subscription_seats_change(subscription=paid, seats_by_region={"eu": 8}, actor=owner, now=NOW)
    client.force_login(alice)
    page = client.get("/a/acme/billing/").content.decode()
    # alice (owner) and bob (member) have access to all regions: 2 seats in use in each.
    assert '<tr data-region="eu"><td>EU</td><td data-used>2</td><td data-purchased>8</td>' in page
    # Next invoice: 8 × 10 + 2 × 10 + proration 3 × 10 × 15/31 = 14.52
    assert "<strong data-upcoming>114.52 USD</strong>" in page
    assert paid.invoices.get().number in page


def test_subscribe_shows_the_first_invoice_then_confirms(client, acme_everywhere, backup, plans, alice):
    client.force_login(alice)
    assert client.get("/a/acme/billing/subscribe/backup/").status_code == 200
    form = {"plan": plans["team"].pk, "seats_us": 3, "seats_eu": "", "seats_au": 1}
    preview = client.post("/a/acme/billing/subscribe/backup/", form)
    assert preview.status_code == 200
    assert "<th data-total>60.00 USD</th>" in preview.content.decode()
    assert not Subscription.objects.exists()
    confirmed = client.post("/a/acme/billing/subscribe/backup/", {**form, "confirm": "1"})
    assert confirmed.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.invoices.get().total == Decimal("60.00")


def test_subscribe_with_bad_input_is_a_form_error(client, acme_everywhere, backup, plans, alice):
    client.force_login(alice)
    for form in ({"plan": plans["team"].pk, "seats_us": -2}, {"plan": plans["team"].pk, "seats_us": "lots"},
                 {"plan": 999999, "seats_us": 1}, {"plan": plans["team"].pk}):  # fmt: skip
        response = client.post("/a/acme/billing/subscribe/backup/", {**form, "confirm": "1"})
        assert response.status_code == 400, form
    assert not Subscription.objects.exists()


def test_seat_change_preview_then_confirm(client, paid, alice):
    client.force_login(alice)
    url = f"/a/acme/billing/subscriptions/{paid.pk}/seats/"
    preview = client.post(url, {"seats_eu": 8, "seats_us": 2})
    assert "<strong data-charge>14.52 USD</strong>" in preview.content.decode()
    assert paid.items.get(region__code="eu").seats == 5
    assert client.post(url, {"seats_eu": 8, "seats_us": 2, "confirm": "1"}).status_code == 302
    assert paid.items.get(region__code="eu").seats == 8


def test_plan_change_without_a_pair_is_a_clear_form_error(client, paid, alice, backup):
    from billing.tests.conftest import make_plan

    other = make_plan(backup, "enterprise-monthly", "40.00")
    client.force_login(alice)
    response = client.post(f"/a/acme/billing/subscriptions/{paid.pk}/plan/", {"plan": other.pk})
    assert response.status_code == 400
    assert "is not offered" in response.content.decode()


def test_invoice_csv_has_exact_amounts(client, paid, alice):
    client.force_login(alice)
    number = paid.invoices.get().number
    rows = list(
        csv.reader(io.StringIO(client.get(f"/a/acme/billing/invoices/{number}.csv").content.decode()))
    )
    assert [row[4:8] for row in rows[1:]] == [["5", "10.00", "50.00", "USD"], ["2", "10.00", "20.00", "USD"],
                                              ["", "", "70.00", "USD"]]  # fmt: skip


def test_the_product_page_links_to_buy(client, acme_everywhere, backup, plans, alice):
    client.force_login(alice)
    page = client.get("/products/backup/?account=acme").content.decode()
    assert 'href="/a/acme/billing/subscribe/backup/"' in page


def _more_subscriptions(acme, regions, owner, count):
    from billing.tests.conftest import make_plan
    from products.services import product_create

    for n in range(count):
        product = product_create(code=f"extra{n}", name=f"Extra {n}", regions=list(regions.values()))
        plan = make_plan(product, "monthly", "3.00")
        subscription_convert_trial(
            account=acme,
            product=product,
            plan=plan,
            seats_by_region={"eu": 2, "us": 1},
            actor=owner,
            now=datetime(2027, 3, 1, 9, tzinfo=UTC),
        )


def test_billing_page_and_invoice_list_queries_do_not_grow(
    client, paid, alice, acme, regions, owner, django_assert_num_queries
):
    client.force_login(alice)
    client.get("/a/acme/billing/")  # warm the session
    with django_assert_num_queries(10) as small:
        client.get("/a/acme/billing/")
    with django_assert_num_queries(4):
        client.get("/a/acme/billing/invoices.csv")
    _more_subscriptions(acme, regions, owner, 4)
    assert Invoice.objects.filter(account=acme).count() == 5
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/a/acme/billing/")
    with django_assert_num_queries(4):
        client.get("/a/acme/billing/invoices.csv")


def test_the_account_home_links_billing_for_owner_but_not_for_a_member(client, acme, alice, bob):
    client.force_login(alice)
    assert 'href="/a/acme/billing/" data-link="billing"' in client.get("/a/acme/").content.decode()
    client.force_login(bob)
    assert 'data-link="billing"' not in client.get("/a/acme/").content.decode()
