"""Hostile review: the dashboard, its endpoints and the 360 cost the same queries for one currency
and product as for several currencies, products, movements and many invoices."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Invoice
from billing.sales_selectors import TABLES
from billing.tests import test_sales_views
from billing.tests.test_sales_selectors import event, subscription
from products.services import product_create

URLS = ["/sales/", *[f"/sales/api/{name}/" for name in TABLES], "/sales/accounts/acme/"]

catalog, staff = test_sales_views.catalog, test_sales_views.staff  # the fixtures


def _counts(client) -> dict[str, int]:
    counts = {}
    for url in URLS:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_more_currencies_products_and_invoices_cost_no_more_queries(client, staff, catalog):
    client.force_login(staff["maya"])
    before = _counts(client)
    acme, now = staff["acme"], timezone.now()
    catalog["vault"] = product_create(code="vault", name="Vault", regions=[catalog["eu"]], trial_days=30)
    for n, (product, currency) in enumerate([("archiver", "USD"), ("posture", "AUD"), ("vault", "GBP")]):
        sub = subscription(acme, catalog[product], currency=currency, started_at=now - timedelta(days=40 + n),
                           seats={catalog["eu"]: 2 + n})  # fmt: skip
        event(sub, "start", now - timedelta(days=40 + n), "0", "20")
        event(sub, "seats", now - timedelta(days=10 + n), "20", "30")
        event(sub, "renew", now - timedelta(days=5), "30", "27")
        for k in range(5):
            Invoice.objects.create(
                number=f"ATR-Q-{n}-{k}", account=acme, subscription=sub, period_start=now - timedelta(days=31 * k),
                period_end=now - timedelta(days=31 * k - 30), currency=currency, total=Decimal("20.00"),
                due_at=now,
            )  # fmt: skip
    assert _counts(client) == before
    mrr = client.get("/sales/api/mrr/").json()["rows"]
    assert {row["currency"] for row in mrr} >= {"USD", "AUD", "GBP", "EUR"}
