"""Hostile review of the sales side: who counts as sales staff (staff AND in a sales group), whom a
manager may assign an account to, CSV numbers and the 360's invoice CSV, and malformed input on
the sales URLs (a 4xx, never a 500)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, User
from billing.models import Invoice, SalesOwner, Subscription
from billing.sales import MANAGER_GROUP, REP_GROUP, sales_groups_ensure, sales_owner_assign, sales_reps
from billing.tests import test_sales_views
from billing.tests.test_sales_selectors import event
from billing.tests.test_sales_views import body, populate, urls_of
from conftest import make_user

catalog, staff = test_sales_views.catalog, test_sales_views.staff  # the fixtures


def _grouped(email: str, group: str, *, is_staff: bool) -> User:
    user = make_user(email)
    user.is_staff = is_staff
    user.save(update_fields=["is_staff"])
    user.groups.add(sales_groups_ensure()[group])
    return user


@pytest.mark.parametrize("group", [REP_GROUP, MANAGER_GROUP])
def test_a_customer_put_in_a_sales_group_without_being_staff_gets_403_everywhere(client, staff, group):
    # alice owns Acme, a customer; someone adds her to a sales group in the Django admin
    alice = User.objects.get(email="owner@acme.test")
    alice.groups.add(sales_groups_ensure()[group])
    SalesOwner.objects.filter(account=staff["acme"]).update(rep=alice)
    client.force_login(alice)
    for url in urls_of("acme") + urls_of("globex"):
        response = client.get(url)
        assert response.status_code == 403, url
        if "/api/" in url:
            assert response.json()["error"] == "forbidden"
    assert client.post("/sales/accounts/globex/owner/", {"rep": alice.pk}).status_code == 403
    assert SalesOwner.objects.get(account=staff["globex"]).rep == staff["rob"]
    assert alice not in sales_reps()


def test_a_manager_cannot_give_an_account_to_a_group_member_who_is_not_staff(client, staff):
    outsider = _grouped("contractor@example.test", REP_GROUP, is_staff=False)
    client.force_login(staff["maya"])
    page = client.get("/sales/accounts/acme/").content.decode()
    assert "contractor@example.test" not in page  # not offered
    assert client.post("/sales/accounts/acme/owner/", {"rep": outsider.pk}).status_code == 400
    with pytest.raises(ValidationError):
        sales_owner_assign(account=staff["acme"], rep=outsider, actor=staff["maya"])
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]
    assert not AuditEvent.objects.filter(action="sales_owner.assign").exists()


def test_a_manager_cannot_give_an_account_to_a_deactivated_rep(client, staff):
    rob = staff["rob"]
    rob.is_active = False
    rob.save(update_fields=["is_active"])
    client.force_login(staff["maya"])
    assert client.post("/sales/accounts/acme/owner/", {"rep": rob.pk}).status_code == 400
    with pytest.raises(ValidationError):
        sales_owner_assign(account=staff["acme"], rep=rob, actor=staff["maya"])
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]


def test_a_staff_member_in_no_sales_group_cannot_reassign_through_the_service(staff):
    ops = User.objects.create_user(email="ops@atrium.test", password="x", is_staff=True)
    with pytest.raises(Exception) as raised:
        sales_owner_assign(account=staff["acme"], rep=staff["rob"], actor=ops)
    assert raised.type.__name__ == "PermissionDenied"
    with pytest.raises(Exception) as raised:
        sales_owner_assign(account=staff["acme"], rep=staff["rob"], actor=staff["sam"])
    assert raised.type.__name__ == "PermissionDenied"
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]


@pytest.mark.parametrize("rep", ["abc", "99999999999999999999999", "-1", "1\x00", "1' OR '1'='1", "x" * 5000])
def test_a_malformed_reassignment_is_a_form_error_not_a_500(client, staff, rep):
    client.force_login(staff["maya"])
    assert client.post("/sales/accounts/acme/owner/", {"rep": rep}).status_code == 400
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]


def test_unknown_and_other_reps_slugs_answer_the_same_404_so_slugs_cannot_be_probed(client, staff):
    client.force_login(staff["sam"])
    for suffix in ("", "invoices.csv"):
        theirs = client.get(f"/sales/accounts/globex/{suffix}")
        missing = client.get(f"/sales/accounts/no-such-account/{suffix}")
        assert theirs.status_code == missing.status_code == 404
        assert "Globex" not in theirs.content.decode()  # the 404 page does not name the account
    assert client.post("/sales/accounts/globex/owner/", {"rep": staff["sam"].pk}).status_code == 403


def test_huge_or_malformed_query_parameters_do_not_break_the_json_endpoints(client, staff):
    client.force_login(staff["sam"])
    for name in ("mrr", "trials", "conversion", "risk"):
        for query in ("months=999999999999", "weeks=-1&months=abc", "slug=globex", "x=" + "9" * 10000):
            response = client.get(f"/sales/api/{name}/?{query}")
            assert response.status_code == 200, (name, query)
            slugs = {row.get("slug") for row in response.json()["rows"]} - {None}
            assert "globex" not in slugs
        # a NUL byte is refused before any view runs (the portal's middleware): a 400, not a 500
        assert client.get(f"/sales/api/{name}/?a=%00").status_code == 400


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_negative_movements_stay_numbers_in_the_mrr_csv_and_match_the_json(client, staff):
    # Acme (sam's, 40.00 EUR) churns yesterday: the CSV's churn is -40.00, a number, not the text
    # "'-40.00" the formula guard would make of it.
    sub = Subscription.objects.get(account=staff["acme"])
    event(sub, "cancel", timezone.now() - timedelta(hours=1), "40", "0")
    client.force_login(staff["sam"])
    rows = _csv(body(client.get("/sales/export/mrr.csv")))
    churn = [row["Churn"] for row in rows if row["Churn"] not in ("0.00",)]
    assert churn == ["-40.00"]
    assert all(not value.startswith("'") for row in rows for value in row.values())
    api = client.get("/sales/api/mrr/").json()["rows"]
    assert [row["churn"] for row in api if Decimal(row["churn"])] == ["-40.00"]


def test_names_that_look_like_formulas_are_still_made_text_in_every_csv(client, staff, catalog):
    catalog["backup"].name = "@SUM(A1)"
    catalog["backup"].save(update_fields=["name"])
    populate(catalog, name="-2+3", slug="minus", rep=staff["sam"], past_due=True)
    client.force_login(staff["sam"])
    seats = body(client.get("/sales/export/seats.csv"))
    assert "'@SUM(A1)" in seats and "\n@SUM" not in seats
    risk = body(client.get("/sales/export/risk.csv"))
    assert "'-2+3" in risk and "\n-2+3" not in risk


def test_the_account_invoice_csv_holds_every_invoice_not_only_the_24_shown(client, staff):
    acme = staff["acme"]
    sub = Subscription.objects.get(account=acme)
    start = sub.current_period_start
    for n in range(30):
        Invoice.objects.create(
            number=f"ATR-HIST-{n:03d}", account=acme, subscription=sub, period_start=start - timedelta(days=31 * (n + 1)),
            period_end=start - timedelta(days=31 * n), currency="EUR", total=Decimal("40.00"),
            due_at=start - timedelta(days=31 * n - 14),
        )  # fmt: skip
    client.force_login(staff["sam"])
    page = client.get("/sales/accounts/acme/").content.decode()
    assert page.count("data-invoice=") == 24
    rows = _csv(body(client.get("/sales/accounts/acme/invoices.csv")))
    assert len(rows) == 31 == Invoice.objects.filter(account=acme).count()
    assert {row["Total"] for row in rows} == {"40.00"}


def test_the_json_endpoints_refuse_other_methods_with_a_json_405(client, staff):
    client.force_login(staff["maya"])
    for url in ["/sales/api/", "/sales/api/mrr/", "/sales/api/nope/"]:
        for method in (client.post, client.put, client.delete):
            response = method(url, data="{}", content_type="application/json")
            assert response.status_code == 405, url
            assert response.json()["error"] == "method_not_allowed"
            assert response["Allow"] == "GET, HEAD"


def test_names_with_markup_are_escaped_on_the_dashboard_the_360_and_never_parsed_by_sales_js(
    client, staff, catalog
):
    evil = '<img src=x onerror="alert(1)">'
    populate(catalog, name=evil, slug="evil", rep=staff["sam"], past_due=True)
    catalog["backup"].name = "<script>alert(2)</script>"
    catalog["backup"].save(update_fields=["name"])
    client.force_login(staff["maya"])
    for url in ("/sales/", "/sales/accounts/evil/"):
        page = client.get(url).content.decode()
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page, url
        assert evil not in page and "<script>alert(2)" not in page, url
    response = client.post("/sales/accounts/evil/owner/", {"rep": staff["rob"].pk}, follow=True)
    assert evil not in response.content.decode()  # the flash message names the account, escaped
    # the charts' script builds no HTML from the data (labels go to the canvas, options via Option())
    script = (settings.BASE_DIR / "static" / "js" / "sales.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script
