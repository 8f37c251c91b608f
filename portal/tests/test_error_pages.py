"""400/403/404/500 on the portal are Atrium's own pages (templates/<code>.html), never Django's
debug page, and they say nothing of the failure's internals."""

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.tests.urls_failing")]


@pytest.fixture
def browser():
    # A 500 is answered as a person would see it, not re-raised into the test.
    return Client(raise_request_exception=False)


def assert_atrium_page(response, status: int, title: bytes) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b'data-testid="error-page"' in response.content
    assert title in response.content
    assert b'class="atrium-brand"' in response.content  # Atrium's own layout (base.html)
    assert b"Traceback" not in response.content
    assert b"SECRET-IN-TRACEBACK" not in response.content


@override_settings(DEBUG=False)
def test_an_unknown_page_is_atriums_404(browser):
    assert_atrium_page(browser.get("/no-such-page/"), 404, b"Page not found")


@override_settings(DEBUG=False)
def test_another_accounts_page_is_atriums_404(browser, carol, acme):
    browser.force_login(carol)
    assert_atrium_page(browser.get("/a/acme/"), 404, b"Page not found")


@override_settings(DEBUG=False)
def test_a_bug_is_atriums_500_without_a_traceback(browser):
    assert_atrium_page(browser.get("/test-only/broken/"), 500, b"Something went wrong")


@override_settings(DEBUG=False)
def test_a_forbidden_action_is_atriums_403(browser):
    assert_atrium_page(browser.get("/test-only/forbidden/"), 403, b"Forbidden")


@override_settings(DEBUG=False)
def test_a_suspicious_request_is_atriums_400(browser):
    assert_atrium_page(browser.get("/test-only/suspicious/"), 400, b"Bad request")


@override_settings(DEBUG=False)
def test_a_host_name_atrium_does_not_serve_is_atriums_400(browser):
    assert_atrium_page(browser.get("/", HTTP_HOST="evil.test"), 400, b"Bad request")


@override_settings(DEBUG=False)
def test_a_form_without_its_csrf_token_is_atriums_403():
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"login": "a@b.test", "password": "x"})
    assert response.status_code == 403
    assert b'data-testid="error-page"' in response.content
    assert b"security token" in response.content
