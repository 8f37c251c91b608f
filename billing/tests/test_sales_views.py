"""The sales pages, JSON endpoints and CSV exports: who reaches them (sales staff only), what a rep
sees (their accounts, in every table, endpoint, CSV and 360), a manager's reassignment, and query
counts that do not grow with the number of accounts."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent, Membership, User
from accounts.services import account_create, account_region_add, membership_add
from billing.models import Invoice, SalesOwner
from billing.sales_activity import account_activity_refresh
from billing.sales_selectors import TABLES
from billing.tests.test_sales_selectors import event, own, sales_user, subscription
from conftest import make_region, make_user
from products.models import TrialRequest
from products.services import product_create
from products.trials import trial_start

TABLE_NAMES = list(TABLES)


@pytest.fixture
def catalog(db):
    eu = make_region("eu", 8102, 9102)
    return {
        "eu": eu,
        "backup": product_create(code="backup", name="Backup & Recovery", regions=[eu], trial_days=30),
        "posture": product_create(code="posture", name="Security Posture", regions=[eu], trial_days=2),
        "archiver": product_create(code="archiver", name="Archiver", regions=[eu], trial_days=30),
    }


def populate(catalog, *, name: str, slug: str, rep: User | None, past_due: bool = False):
    """An account present in every dashboard table: paying for backup (seats, MRR, an invoice),
    in a posture trial ending within 2 days (to call today), a pending archiver request."""
    owner = make_user(f"owner@{slug}.test")
    account = account_create(name=name, slug=slug, owner=owner)
    membership_add(account=account, user=make_user(f"member@{slug}.test"))
    account_region_add(account=account, region=catalog["eu"])
    now = timezone.now()
    sub = subscription(account, catalog["backup"], currency="EUR", started_at=now - timedelta(days=3),
                       seats={catalog["eu"]: 4}, status="past_due" if past_due else "active")  # fmt: skip
    event(sub, "start", now - timedelta(days=3), "0", "40")
    Invoice.objects.create(
        number=f"ATR-{account.pk}-{slug}", account=account, subscription=sub, period_start=sub.current_period_start,
        period_end=sub.current_period_end, currency="EUR", total=Decimal("40.00"), due_at=now + timedelta(days=14),
    )  # fmt: skip
    trial_start(account=account, product=catalog["posture"], regions=[catalog["eu"]],
                actor=Membership.objects.get(account=account, user=owner))  # fmt: skip
    request = TrialRequest.objects.create(account=account, product=catalog["archiver"],
                                          requester_email=f"member@{slug}.test")  # fmt: skip
    request.regions.set([catalog["eu"]])
    if rep is not None:
        own(account, rep)
    return account


@pytest.fixture
def staff(catalog):
    sam, rob = sales_user("sam@atrium.test"), sales_user("rob@atrium.test")
    maya = sales_user("maya@atrium.test", manager=True)
    acme = populate(catalog, name="Acme", slug="acme", rep=sam)
    globex = populate(catalog, name="Globex", slug="globex", rep=rob, past_due=True)
    return {"sam": sam, "rob": rob, "maya": maya, "acme": acme, "globex": globex}


def urls_of(slug: str) -> list[str]:
    return [
        "/sales/",
        "/sales/api/",
        *[f"/sales/api/{name}/" for name in TABLE_NAMES],
        *[f"/sales/export/{name}.csv" for name in TABLE_NAMES],
        f"/sales/accounts/{slug}/",
        f"/sales/accounts/{slug}/invoices.csv",
    ]


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# Who gets in --------------------------------------------------------------------------------------


def test_customers_and_other_staff_get_403_on_every_sales_page_and_endpoint(client, staff):
    alice = User.objects.get(email="owner@acme.test")  # the owner of an account sam sells to
    other_staff = User.objects.create_user(email="ops@atrium.test", password="x", is_staff=True)
    for person in (alice, other_staff):
        client.force_login(person)
        for url in urls_of("acme"):
            response = client.get(url)
            assert response.status_code == 403, (person, url)
            if "/api/" in url:
                assert response.json()["error"] == "forbidden"
        response = client.post("/sales/accounts/acme/owner/", {"rep": staff["sam"].pk})
        assert response.status_code == 403
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]


def test_signed_out_visitors_are_sent_to_sign_in_and_the_api_answers_401(client, staff):
    for url in urls_of("acme"):
        response = client.get(url)
        if "/api/" in url:
            assert response.status_code == 401
            assert response.json()["error"] == "not_authenticated"
        else:
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_table_is_a_404_with_a_json_body_on_the_api(client, staff):
    client.force_login(staff["maya"])
    assert client.get("/sales/export/nope.csv").status_code == 404
    response = client.get("/sales/api/nope/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# Rep isolation ------------------------------------------------------------------------------------


def test_a_manager_sees_every_account_in_every_table(client, staff):
    client.force_login(staff["maya"])
    for name in TABLE_NAMES:
        text = json.dumps(client.get(f"/sales/api/{name}/").json())
        if name in ("mrr", "seats", "conversion", "coverage"):  # figures, not named accounts
            continue
        assert "Acme" in text and "Globex" in text, name
    assert "EUR" in json.dumps(client.get("/sales/api/mrr/").json())


def test_a_rep_never_sees_another_reps_account_in_any_table_endpoint_csv_or_360(client, staff):
    client.force_login(staff["sam"])
    page = client.get("/sales/")
    assert page.status_code == 200
    assert "Acme" in page.content.decode()
    assert "Globex" not in page.content.decode() and "globex" not in page.content.decode()
    for name in TABLE_NAMES:
        data = client.get(f"/sales/api/{name}/").json()
        assert "globex" not in json.dumps(data).lower(), name
        assert "globex" not in body(client.get(f"/sales/export/{name}.csv")).lower(), name
    # the figures are his alone: one account's seats and MRR
    [seats] = client.get("/sales/api/seats/").json()["rows"]
    assert (seats["accounts"], seats["purchased"]) == (1, 4)
    mrr = client.get("/sales/api/mrr/").json()["rows"]
    assert mrr[-1]["mrr"] == "40.00"
    [coverage] = client.get("/sales/api/coverage/").json()["rows"]
    assert (coverage["product"], coverage["trial"]) == ("Security Posture", 1)
    weeks = client.get("/sales/api/conversion/").json()["rows"]
    assert sum(row["trials"] for row in weeks if row["product"] == "All products") == 1
    # another rep's account answers 404, like an account that does not exist
    for url in ("/sales/accounts/globex/", "/sales/accounts/globex/invoices.csv", "/sales/accounts/nope/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/sales/accounts/acme/").status_code == 200


def test_an_unassigned_account_is_seen_by_managers_only(client, staff, catalog):
    populate(catalog, name="Initech", slug="initech", rep=None)
    client.force_login(staff["sam"])
    assert client.get("/sales/accounts/initech/").status_code == 404
    client.force_login(staff["maya"])
    assert client.get("/sales/accounts/initech/").status_code == 200


# Account 360 and reassignment --------------------------------------------------------------------


def test_the_account_360_shows_products_subscriptions_trials_invoices_members_and_activity(client, staff):
    client.force_login(staff["sam"])
    html = client.get("/sales/accounts/acme/").content.decode()
    for text in ("Backup &amp; Recovery", "Security Posture", "EU 4", "trial.start",
                 f"ATR-{staff['acme'].pk}-acme", "40.00 EUR", 'data-fact="members">2<', "sam@atrium.test"):  # fmt: skip
        assert text in html, text
    assert "data-reassign" not in html  # a rep does not reassign
    rows = list(
        csv.reader(io.StringIO(body(client.get("/sales/accounts/acme/invoices.csv")).lstrip("\ufeff")))
    )
    assert rows[0][0] == "Number"
    assert [row[0] for row in rows[1:]] == [f"ATR-{staff['acme'].pk}-acme"]


def test_a_manager_reassigns_an_account_and_the_change_is_audited(client, staff):
    client.force_login(staff["maya"])
    assert "data-reassign" in client.get("/sales/accounts/globex/").content.decode()
    response = client.post("/sales/accounts/globex/owner/", {"rep": staff["sam"].pk})
    assert response.status_code == 302
    assert SalesOwner.objects.get(account=staff["globex"]).rep == staff["sam"]
    audit = AuditEvent.objects.get(account=staff["globex"], action="sales_owner.assign")
    assert (audit.actor, audit.before, audit.after) == (
        staff["maya"],
        {"rep": "rob@atrium.test"},
        {"rep": "sam@atrium.test"},
    )
    # sam now sees it; rob no longer does
    client.force_login(staff["sam"])
    assert client.get("/sales/accounts/globex/").status_code == 200
    client.force_login(staff["rob"])
    assert client.get("/sales/accounts/globex/").status_code == 404


def test_a_manager_unassigns_and_a_customer_cannot_become_an_owner(client, staff):
    client.force_login(staff["maya"])
    customer = User.objects.get(email="owner@acme.test")
    response = client.post("/sales/accounts/acme/owner/", {"rep": customer.pk})
    assert response.status_code == 400
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]
    assert client.post("/sales/accounts/acme/owner/", {"rep": ""}).status_code == 302
    assert not SalesOwner.objects.filter(account=staff["acme"]).exists()
    assert AuditEvent.objects.get(account=staff["acme"], action="sales_owner.assign").after == {"rep": None}


def test_a_rep_cannot_reassign(client, staff):
    client.force_login(staff["sam"])
    assert client.post("/sales/accounts/acme/owner/", {"rep": staff["rob"].pk}).status_code == 403
    assert SalesOwner.objects.get(account=staff["acme"]).rep == staff["sam"]
    assert not AuditEvent.objects.filter(action="sales_owner.assign").exists()


# CSV ----------------------------------------------------------------------------------------------


def test_every_table_exports_as_csv_with_its_header_and_rows(client, staff):
    client.force_login(staff["maya"])
    for name in TABLE_NAMES:
        response = client.get(f"/sales/export/{name}.csv")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f"sales-{name}-" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))
        api = client.get(f"/sales/api/{name}/").json()
        assert rows[0] == [column["label"] for column in api["columns"]], name
        assert len(rows) - 1 == len(api["rows"]) > 0, name


def test_csv_cells_that_look_like_formulas_are_made_text(client, staff, catalog):
    populate(catalog, name="=HYPERLINK(evil)", slug="evil", rep=staff["sam"], past_due=True)
    client.force_login(staff["sam"])
    text = body(client.get("/sales/export/risk.csv"))
    assert "'=HYPERLINK(evil)" in text
    assert "\n=HYPERLINK" not in text


# Query counts ------------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# the session, the user and their sales groups, then the eight tables (the members counted once:
# the rollup read, and without a fresh rollup the live scan after it)
DASHBOARD_QUERIES = 22
DASHBOARD_QUERIES_ROLLED_UP = 21


def test_the_dashboard_and_its_endpoints_cost_the_same_queries_for_5_and_50_accounts(
    client, staff, catalog, django_assert_num_queries
):
    urls = ["/sales/", *[f"/sales/api/{name}/" for name in TABLE_NAMES], "/sales/accounts/acme/"]
    client.force_login(staff["maya"])
    for n in range(3):
        populate(catalog, name=f"Small {n}", slug=f"small-{n}", rep=staff["rob"], past_due=n % 2 == 0)
    small = {url: _queries(client, url) for url in urls}
    for n in range(45):
        populate(catalog, name=f"Big {n}", slug=f"big-{n}", rep=staff["sam"], past_due=n % 2 == 0)
    assert {url: _queries(client, url) for url in urls} == small
    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get("/sales/")
    account_activity_refresh()
    rolled_up = {url: _queries(client, url) for url in urls}
    with django_assert_num_queries(DASHBOARD_QUERIES_ROLLED_UP):
        client.get("/sales/")
    # a rep's scope costs the same (their 360 has no reassignment form: one query less)
    client.force_login(staff["sam"])
    assert {url: _queries(client, url) for url in urls} == rolled_up | {
        "/sales/accounts/acme/": rolled_up["/sales/accounts/acme/"] - 1
    }
