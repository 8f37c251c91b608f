"""`/p/<code>/` on the people port: the product page for members of an entitled tenant, the
403 page linking to the portal's product page for everyone else, login first."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from atrium_kit.entitlements import document_parse
from atrium_kit.services import tenant_entitlements_put, user_upsert_local

pytestmark = pytest.mark.django_db

PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = PEOPLE_HOST
    return client


def entitle(tenant: str, version: int, *products: dict) -> None:
    body = {"tenant": tenant, "version": version, "products": list(products)}
    tenant_entitlements_put(tenant_slug=tenant, update=document_parse(body, tenant_slug=tenant))


def product(code: str, status: str = "active", ends_at: str | None = None) -> dict:
    return {"code": code, "status": status, "ends_at": ends_at}


@pytest.fixture
def alice():
    return user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="alice@acme.test")


@pytest.fixture
def carol():
    return user_upsert_local(tenant_slug="globex", external_id=str(uuid.uuid4()), email="carol@globex.test")


def test_an_anonymous_visitor_is_sent_into_the_atrium_login(client):
    response = client.get("/p/backup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/oidc/authenticate/")
    assert "next=/p/backup/" in response["Location"]


def test_a_member_of_an_entitled_tenant_sees_the_product_and_the_enforced_version(client, alice):
    entitle("acme", 4, product("backup"))
    client.force_login(alice)
    response = client.get("/p/backup/")
    assert response.status_code == 200
    assert b'data-testid="product-code">backup<' in response.content
    assert b'data-testid="product-tenant">acme<' in response.content
    assert b'data-testid="entitlements-version">4<' in response.content


def test_a_trial_that_has_not_ended_opens_the_product(client, alice):
    ends = (timezone.now() + timedelta(days=3)).isoformat()
    entitle("acme", 1, product("posture", "trial", ends))
    client.force_login(alice)
    response = client.get("/p/posture/")
    assert response.status_code == 200
    assert b'data-testid="product-status">trial<' in response.content


def test_a_product_the_tenant_lacks_is_403_linking_to_the_portals_product_page(client, alice):
    entitle("acme", 1, product("backup"))
    client.force_login(alice)
    response = client.get("/p/posture/")
    assert response.status_code == 403
    link = f'href="{settings.ATRIUM_PORTAL_URL}/products/posture/?account=acme"'
    assert link.encode() in response.content
    assert b"Start a trial or request access" in response.content


def test_a_tenant_without_any_document_is_403(client, alice):
    client.force_login(alice)
    assert client.get("/p/backup/").status_code == 403


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_an_expired_or_cancelled_entitlement_is_403(client, alice, status):
    entitle("acme", 1, product("backup", status))
    client.force_login(alice)
    assert client.get("/p/backup/").status_code == 403


def test_an_entitlement_past_its_end_is_403_whatever_its_status(client, alice):
    ended = (timezone.now() - timedelta(minutes=1)).isoformat()
    entitle("acme", 1, product("backup", "trial", ended), product("archiver", "active", ended))
    client.force_login(alice)
    assert client.get("/p/backup/").status_code == 403
    assert client.get("/p/archiver/").status_code == 403


def test_another_tenants_entitlements_are_never_visible(client, alice, carol):
    # given only globex is entitled to posture
    entitle("globex", 9, product("posture"))
    entitle("acme", 1, product("backup"))
    # then carol (globex) opens it, alice (acme) does not, and neither sees the other's version
    client.force_login(carol)
    assert b'data-testid="entitlements-version">9<' in client.get("/p/posture/").content
    assert client.get("/p/backup/").status_code == 403
    client.force_login(alice)
    refused = client.get("/p/posture/")
    assert refused.status_code == 403
    assert b"globex" not in refused.content


def test_a_newer_document_without_the_product_closes_it(client, alice):
    entitle("acme", 1, product("backup"))
    client.force_login(alice)
    assert client.get("/p/backup/").status_code == 200
    entitle("acme", 2)
    assert client.get("/p/backup/").status_code == 403


def test_a_code_that_is_not_a_product_code_is_404(client, alice):
    client.force_login(alice)
    assert client.get("/p/" + "a" * 80 + "/").status_code == 404
    assert client.get("/p/Back_up/").status_code == 404
