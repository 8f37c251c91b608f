"""The Content-Security-Policy in a real browser (Playwright + Debian's Chromium): the portal's
pages an owner and a sales manager open — sign-in, account home, members (htmx), audit log,
billing, an invoice (its print link and print style are static files), the sales dashboard
(Chart.js) — work with no policy violation reported by the browser."""

import pytest
from playwright.sync_api import sync_playwright

from conftest import PASSWORD
from tests.e2e import test_sales_dashboard_browser as sales_browser

CHROMIUM, CHROMIUM_ARGS = sales_browser.CHROMIUM, sales_browser.CHROMIUM_ARGS
sales_world = sales_browser.sales_world  # the fixture: Acme and Globex paying, a sales manager

pytestmark = pytest.mark.e2e

# Every violation the page sees, recorded before any of its own scripts runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile);
});
"""


@pytest.fixture
def context(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_context()
        browser.close()


def watched_page(context):
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, console, errors


def violations(page) -> list[str]:
    return page.evaluate("() => window.__cspViolations")


def sign_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def test_an_owners_pages_run_under_the_policy_without_a_violation(context, live_server, sales_world):
    base = live_server.url
    page, console, errors = watched_page(context)
    sign_in(page, base, "owner@acme.test", "/a/acme/")
    seen = {}
    for path in ("/a/acme/", "/a/acme/members/", "/a/acme/audit/?group=security", "/a/acme/billing/"):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        seen[path] = violations(page)
    # the sign-in just now is on the audit page, as a security event of this member
    page.goto(f"{base}/a/acme/audit/?group=security")
    assert page.locator("tr[data-action='auth.login']").count() >= 1
    # an invoice: the print link calls window.print from a static script
    page.goto(f"{base}/a/acme/billing/")
    page.locator("a[href*='/invoices/']").first.click()
    page.wait_for_load_state("networkidle")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.click("a[data-print]")
    assert page.evaluate("() => window.__printed") == 1
    seen["invoice"] = violations(page)
    assert all(v == [] for v in seen.values()), seen
    assert console == [] and errors == []


def test_the_sales_dashboard_draws_its_charts_under_the_policy(context, live_server, sales_world):
    base = live_server.url
    page, console, errors = watched_page(context)
    sign_in(page, base, "maya@atrium.test", "/sales/")
    page.wait_for_function("() => window.salesCharts && Object.keys(window.salesCharts).length === 4")
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every((c) => c.width > 0 && Chart.getChart(c))"
    )
    assert drawn
    assert violations(page) == [] and console == [] and errors == []
