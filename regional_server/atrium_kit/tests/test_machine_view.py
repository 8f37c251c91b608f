"""`@machine_view(scope=...)` for product views on the machine listener: the view runs only for a
verified Atrium principal with the scope; JSON errors otherwise. Tokens are real JWTs checked
against a stand-in Atrium JWKS on loopback (test_machine_auth)."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.test import Client, RequestFactory, override_settings

from atrium_kit.machine_auth import MachinePrincipal, machine_view
from atrium_kit.tests.test_machine_auth import (
    KEY_1,
    KEY_2,
    FakeAtriumJwks,
    jwks_settings,
    machine_token,
    public_jwk,
)
from atrium_kit.tests.test_product_registration import MACHINE_STACK


@machine_view(scope="tenant")
def summary(request, tenant):
    return JsonResponse({"tenant": tenant, "client": request.user.client_id})


@machine_view(scope="reports:write")
def write(request, tenant):
    return JsonResponse({"ok": True})


@pytest.fixture
def atrium():
    fake = FakeAtriumJwks()
    fake.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(fake):
        yield fake
    fake.stop()


def call(view, authorization: str | None = None, user=None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    request = RequestFactory().get("/tenant/v1/acme/products/x/summary", **headers)
    request.user = user if user is not None else AnonymousUser()
    return view(request, tenant="acme")


def error_of(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)["detail"]


def test_a_token_with_the_scope_runs_the_view_even_without_the_middleware(atrium):
    response = call(summary, f"Bearer {machine_token(scope='tenant')}")
    assert response.status_code == 200
    assert json.loads(response.content) == {"tenant": "acme", "client": "atrium-provisioner"}


def test_no_token_is_401_with_a_bearer_challenge(atrium):
    response = call(summary)
    assert error_of(response) == (401, "A Bearer token from Atrium is required.")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_signed_by_a_key_atrium_does_not_publish_is_401(atrium):
    status, detail = error_of(call(summary, f"Bearer {machine_token(key=KEY_2, kid='k9', scope='tenant')}"))
    assert status == 401
    assert "does not publish" in detail


def test_a_token_for_another_regions_machine_url_is_401(atrium):
    token = machine_token(scope="tenant", aud="https://127.0.0.1:9199")
    assert error_of(call(summary, f"Bearer {token}"))[0] == 401


def test_a_token_without_the_views_scope_is_403_insufficient_scope(atrium):
    response = call(write, f"Bearer {machine_token(scope='tenant scim')}")
    assert error_of(response) == (403, "The token lacks scope 'reports:write'.")
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_the_principal_the_middleware_verified_is_checked_for_the_views_own_scope(atrium):
    tenant_only = MachinePrincipal(client_id="atrium-provisioner", scopes=frozenset({"tenant"}))
    both = MachinePrincipal(client_id="atrium-provisioner", scopes=frozenset({"tenant", "reports:write"}))
    assert call(summary, user=tenant_only).status_code == 200
    assert error_of(call(write, user=tenant_only)) == (403, "The token lacks scope 'reports:write'.")
    assert call(write, user=both).status_code == 200


def test_a_people_session_user_is_no_machine_principal(atrium):
    class SessionUser:
        is_authenticated = True
        scopes = frozenset({"tenant"})  # looks like one, is not one

    assert call(summary, user=SessionUser()).status_code == 401


def test_machine_views_are_csrf_exempt_machines_send_no_cookies():
    assert summary.csrf_exempt is True


def test_a_scope_must_be_named():
    for bad in ("", "tenant scim", None):
        with pytest.raises(ValueError):
            machine_view(scope=bad)


@pytest.mark.django_db
def test_through_the_machine_listener_the_middleware_and_the_view_both_check(atrium, fifth_product):
    with override_settings(**MACHINE_STACK):
        client = Client()
        write_url = "/tenant/v1/acme/products/fifth/write"
        tenant_only = {"HTTP_AUTHORIZATION": f"Bearer {machine_token(scope='tenant')}"}
        both = {"HTTP_AUTHORIZATION": f"Bearer {machine_token(scope='tenant fifth:write')}"}
        only_write = {"HTTP_AUTHORIZATION": f"Bearer {machine_token(scope='fifth:write')}"}
        assert client.post(write_url, **tenant_only).status_code == 403
        assert client.post(write_url, **only_write).status_code == 403  # /tenant/ needs `tenant` first
        assert client.post(write_url, **both).json() == {"written": "acme"}
