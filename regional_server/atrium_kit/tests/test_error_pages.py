"""400/403/404/500 on a region are the region's own pages, never Django's debug page."""

import pytest
from django.conf import settings
from django.test import Client, override_settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("atrium_kit.tests.urls_failing"),
]

PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]


@pytest.fixture
def browser():
    # A 500 is answered as a person would see it, not re-raised into the test.
    return Client(raise_request_exception=False, HTTP_HOST=PEOPLE_HOST)


def assert_region_page(response, status: int, title: bytes) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b'data-testid="error-page"' in response.content
    assert title in response.content
    assert f"Region {settings.REGION_NAME}".encode() in response.content
    assert b"Traceback" not in response.content
    assert b"SECRET-IN-TRACEBACK" not in response.content


@override_settings(DEBUG=False)
def test_an_unknown_page_is_the_region_404(browser):
    assert_region_page(browser.get("/no-such-page/"), 404, b"Page not found")


@override_settings(DEBUG=False)
def test_a_bug_is_the_region_500_without_a_traceback(browser):
    assert_region_page(browser.get("/test-only/broken/"), 500, b"Something went wrong")


@override_settings(DEBUG=False)
def test_a_forbidden_page_is_the_region_403(browser):
    assert_region_page(browser.get("/test-only/forbidden/"), 403, b"Forbidden")


@override_settings(DEBUG=False)
def test_a_suspicious_request_is_the_region_400(browser):
    assert_region_page(browser.get("/test-only/suspicious/"), 400, b"Bad request")


@override_settings(DEBUG=False)
def test_a_host_name_the_region_does_not_serve_is_the_region_400(browser):
    assert_region_page(browser.get("/", HTTP_HOST="evil.test"), 400, b"Bad request")


@override_settings(DEBUG=False)
def test_a_post_without_a_csrf_token_is_the_region_403(acme_user):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST=PEOPLE_HOST)
    browser.force_login(acme_user)
    response = browser.post("/tenants/globex/switch/")
    assert response.status_code == 403
    assert b'data-testid="error-page"' in response.content
    assert b"security token" in response.content


@pytest.fixture
def acme_user():
    import uuid

    from atrium_kit.services import user_upsert_local

    return user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="a@acme.test")


@override_settings(DEBUG=False, ROOT_URLCONF="region.urls_machine")
def test_an_unknown_path_on_the_machine_listener_is_a_404_not_a_500(browser):
    # The machine listener has no people URLs (no logout, no home): the page must not need them.
    response = browser.get("/no-such-page/")
    assert response.status_code == 404
    assert b'data-testid="error-page"' in response.content
