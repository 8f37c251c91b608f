"""A sales manager in a real browser (Playwright + Debian's Chromium): signs in, opens /sales/,
finds its four charts drawn by Chart.js from the JSON endpoints (canvases with a size and a
Chart instance holding data), and opens an account 360 from a table."""

import pytest
from playwright.sync_api import sync_playwright

from billing.tests.test_sales_selectors import sales_user
from billing.tests.test_sales_views import populate
from conftest import PASSWORD, make_region
from products.services import product_create

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread (as test_browser_journey).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_context().new_page()
        browser.close()


@pytest.fixture
def sales_world(transactional_db):
    eu = make_region("eu", 8102, 9102)
    catalog = {
        "eu": eu,
        "backup": product_create(code="backup", name="Backup & Recovery", regions=[eu], trial_days=30),
        "posture": product_create(code="posture", name="Security Posture", regions=[eu], trial_days=2),
        "archiver": product_create(code="archiver", name="Archiver", regions=[eu], trial_days=30),
    }
    sam = sales_user("sam@atrium.test")
    maya = sales_user("maya@atrium.test", manager=True)
    maya.is_staff = True  # the nav's "Sales" link
    maya.save(update_fields=["is_staff"])
    populate(catalog, name="Acme", slug="acme", rep=sam)
    populate(catalog, name="Globex", slug="globex", rep=None, past_due=True)
    return maya


def test_a_manager_opens_the_dashboard_sees_its_charts_drawn_and_opens_an_account_360(
    page, live_server, sales_world
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/?next=/sales/")
    page.fill("input[name=login]", "maya@atrium.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/sales/")
    assert page.locator("[data-nav=sales]").count() == 1
    # every chart is drawn: a Chart.js instance with data on a canvas of non-zero size
    page.wait_for_function("() => window.salesCharts && Object.keys(window.salesCharts).length === 4")
    charts = page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
            const chart = Chart.getChart(canvas);
            return {name: canvas.dataset.chart, width: canvas.width, height: canvas.height,
                    points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0};
        })"""
    )
    assert {chart["name"] for chart in charts} == {"mrr", "movements", "conversion", "seats"}
    for chart in charts:
        assert chart["width"] > 0 and chart["height"] > 0, chart
        assert chart["points"] > 0, chart
    assert page.locator("[data-currency] option").all_inner_texts() == ["EUR"]
    assert errors == []
    # from the risk table to Globex's 360
    page.click("[data-table=risk] tr[data-account=globex] a")
    page.wait_for_url(f"{live_server.url}/sales/accounts/globex/")
    assert "Globex" in page.get_by_test_id("account-360").inner_text()
    assert page.locator("[data-section=invoices] tr[data-invoice]").count() == 1
    assert page.locator("[data-reassign]").count() == 1
