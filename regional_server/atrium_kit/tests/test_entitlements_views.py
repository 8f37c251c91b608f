"""The entitlement check for product pages on the people port: `@product_view(code)` on a product
app's views (the fifth test product) and the generic page at `/p/<code>/` for codes no product
app serves (here `insights` and `reports`), both through the same check: entitled → the page;
expired → the "buy it" page; none/cancelled → the 403 page offering the portal; login first."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from atrium_kit.entitlements import document_parse
from atrium_kit.models import Tenant
from atrium_kit.services import tenant_entitlements_put, user_upsert_local

pytestmark = pytest.mark.django_db


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


def portal_link(code: str, tenant: str) -> bytes:
    return f'href="{settings.ATRIUM_PORTAL_URL}/products/{code}/?account={tenant}"'.encode()


# --- @product_view on a product app's views ---------------------------------------------------
def test_product_view_runs_the_view_for_an_entitled_tenant_with_tenant_and_entitlement_set(
    people, alice, fifth_product
):
    entitle("acme", 3, product("fifth"))
    people.force_login(alice)
    response = people.get("/p/fifth/")
    assert response.status_code == 200
    assert b'data-testid="fifth-greeting">Hello acme<' in response.content
    assert b'data-testid="fifth-context">fifth acme active<' in response.content
    # product_base.html: the shared navigation and the enforced version around the product
    assert b'data-testid="product-switcher"' in response.content
    assert b'data-testid="entitlements-version">3<' in response.content


def test_product_view_sends_an_anonymous_visitor_into_the_atrium_login(people, fifth_product):
    response = people.get("/p/fifth/")
    assert response.status_code == 302
    assert response["Location"].startswith("/oidc/authenticate/")
    assert "next=/p/fifth/" in response["Location"]


def test_product_view_refuses_a_tenant_without_the_product_with_the_portal_offer(
    people, alice, fifth_product
):
    entitle("acme", 1, product("insights"))
    people.force_login(alice)
    response = people.get("/p/fifth/")
    assert response.status_code == 403
    assert b'data-testid="product-refusal"' in response.content
    assert portal_link("fifth", "acme") in response.content
    assert b"Start a trial or request access" in response.content
    assert b"Hello" not in response.content


def test_product_view_refuses_a_cancelled_entitlement_with_the_portal_offer(people, alice, fifth_product):
    entitle("acme", 1, product("fifth", "cancelled"))
    people.force_login(alice)
    response = people.get("/p/fifth/")
    assert response.status_code == 403
    assert b'data-testid="product-refusal"' in response.content
    assert b'data-testid="product-expired"' not in response.content


def test_product_view_offers_to_buy_when_the_trial_ended(people, alice, fifth_product):
    entitle("acme", 2, product("fifth", "expired", "2026-11-20T12:00:00+00:00"))
    people.force_login(alice)
    response = people.get("/p/fifth/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="product-expired"' in page
    assert "Your trial of <strong>Fifth Product</strong>" in page
    assert "ended on" in page and "20 November 2026" in page
    assert portal_link("fifth", "acme").decode() in page
    assert "Buy it in the Atrium portal" in page
    assert 'data-testid="product-refusal"' not in page


def test_a_trial_past_its_end_is_expired_here_before_atrium_pushes_the_expiry(people, alice, fifth_product):
    ends = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    entitle("acme", 1, product("fifth", "trial", ends.isoformat()))
    people.force_login(alice)
    with time_machine.travel(ends - timedelta(minutes=1), tick=False):
        assert people.get("/p/fifth/").status_code == 200
    with time_machine.travel(ends, tick=False):
        ended = people.get("/p/fifth/")
    assert ended.status_code == 403
    assert b'data-testid="product-expired"' in ended.content
    assert f'datetime="{ends.isoformat()}"'.encode() in ended.content


def test_an_active_entitlement_past_its_end_offers_to_buy_as_a_subscription(people, alice, fifth_product):
    ended = (timezone.now() - timedelta(days=1)).isoformat()
    entitle("acme", 1, product("fifth", "active", ended))
    people.force_login(alice)
    response = people.get("/p/fifth/")
    assert response.status_code == 403
    assert b'data-testid="product-expired"' in response.content
    assert b"Your subscription to" in response.content


def test_a_view_the_product_app_forgot_to_decorate_is_checked_all_the_same(people, alice, fifth_product):
    people.force_login(alice)
    entitle("acme", 1, product("insights"))
    assert people.get("/p/fifth/undecorated/").status_code == 403
    entitle("acme", 2, product("fifth", "trial", (timezone.now() + timedelta(days=2)).isoformat()))
    assert people.get("/p/fifth/undecorated/").json() == {"tenant": "acme", "entitlement": "trial"}


def test_a_session_whose_tenant_was_deactivated_is_sent_to_login_not_shown_the_product(
    people, alice, fifth_product
):
    entitle("acme", 1, product("fifth"))
    people.force_login(alice)
    Tenant.objects.filter(slug="acme").update(is_active=False)
    response = people.get("/p/fifth/")
    assert response.status_code == 302
    assert response["Location"].startswith("/oidc/authenticate/")


def test_a_tenant_unknown_to_the_entitlements_is_403_for_every_product(people, carol, fifth_product):
    # globex exists here (carol was provisioned) but Atrium never sent it a document
    people.force_login(carol)
    for path in ("/p/fifth/", "/p/insights/"):
        response = people.get(path)
        assert response.status_code == 403
        assert b'data-testid="product-refusal"' in response.content


# --- the generic product page (codes without a product app) -----------------------------------
def test_a_member_of_an_entitled_tenant_sees_the_generic_page_and_the_enforced_version(people, alice):
    entitle("acme", 4, product("insights"))
    people.force_login(alice)
    response = people.get("/p/insights/")
    assert response.status_code == 200
    assert b'data-testid="product-code">insights<' in response.content
    assert b'data-testid="product-tenant">acme<' in response.content
    assert b'data-testid="product-status">active<' in response.content
    assert b'data-testid="entitlements-version">4<' in response.content


def test_a_trial_that_has_not_ended_opens_the_generic_page(people, alice):
    ends = (timezone.now() + timedelta(days=3)).isoformat()
    entitle("acme", 1, product("reports", "trial", ends))
    people.force_login(alice)
    response = people.get("/p/reports/")
    assert response.status_code == 200
    assert b'data-testid="product-status">trial<' in response.content


def test_a_code_the_tenant_lacks_is_403_linking_to_the_portals_product_page(people, alice):
    entitle("acme", 1, product("insights"))
    people.force_login(alice)
    response = people.get("/p/reports/")
    assert response.status_code == 403
    assert portal_link("reports", "acme") in response.content
    assert b"Start a trial or request access" in response.content


def test_the_generic_page_of_an_expired_code_offers_to_buy(people, alice):
    entitle("acme", 1, product("insights", "expired"))
    people.force_login(alice)
    response = people.get("/p/insights/")
    assert response.status_code == 403
    assert b'data-testid="product-expired"' in response.content
    assert b"has ended" in response.content
    assert portal_link("insights", "acme") in response.content


def test_a_generic_code_past_its_end_is_expired_whatever_its_status(people, alice):
    ended = (timezone.now() - timedelta(minutes=1)).isoformat()
    entitle("acme", 1, product("insights", "trial", ended), product("reports", "active", ended))
    people.force_login(alice)
    for path in ("/p/insights/", "/p/reports/"):
        response = people.get(path)
        assert response.status_code == 403
        assert b'data-testid="product-expired"' in response.content


def test_an_anonymous_visitor_of_a_generic_page_is_sent_into_the_atrium_login(people):
    response = people.get("/p/insights/")
    assert response.status_code == 302
    assert "next=/p/insights/" in response["Location"]


def test_another_tenants_entitlements_are_never_visible(people, alice, carol):
    # given only globex is entitled to insights
    entitle("globex", 9, product("insights"))
    entitle("acme", 1, product("reports"))
    # then carol (globex) opens it, alice (acme) does not, and neither sees the other's version
    people.force_login(carol)
    assert b'data-testid="entitlements-version">9<' in people.get("/p/insights/").content
    assert people.get("/p/reports/").status_code == 403
    people.force_login(alice)
    refused = people.get("/p/insights/")
    assert refused.status_code == 403
    assert b"globex" not in refused.content
    assert b'data-testid="entitlements-version">9<' not in refused.content


def test_a_newer_document_without_the_product_closes_it(people, alice):
    entitle("acme", 1, product("insights"))
    people.force_login(alice)
    assert people.get("/p/insights/").status_code == 200
    entitle("acme", 2)
    assert people.get("/p/insights/").status_code == 403


def test_a_code_that_is_not_a_product_code_is_404(people, alice):
    people.force_login(alice)
    assert people.get("/p/" + "a" * 80 + "/").status_code == 404
    assert people.get("/p/Back_up/").status_code == 404


def test_tenant_entitled_answers_for_one_tenant_and_code_now(alice, carol):
    from atrium_kit.products import tenant_entitled

    ended = (timezone.now() - timedelta(minutes=1)).isoformat()
    entitle("acme", 1, product("insights"), product("reports", "trial", ended), product("vault", "cancelled"))
    assert tenant_entitled(alice.tenant, "insights") is True
    assert tenant_entitled(alice.tenant, "reports") is False  # past its end
    assert tenant_entitled(alice.tenant, "vault") is False
    assert tenant_entitled(carol.tenant, "insights") is False  # another tenant's document
