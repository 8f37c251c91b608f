"""The shared navigation on every kit page: a product switcher and a region switcher fed by
Atrium's directory (a real local stand-in over mutual TLS), cached per tenant, and degrading to
this region's entitled products plus a link to the portal when the directory does not answer."""

import re
import time
import uuid

import pytest
import time_machine
from django.conf import settings

from atrium_kit.services import user_upsert_local
from atrium_kit.tests.directory_support import tenant_document
from atrium_kit.tests.test_entitlements_views import entitle, product

pytestmark = pytest.mark.django_db

EU = "http://127.0.0.1:8102"
CATALOG = {
    "portal_url": "http://portal.test",
    "regions": [
        {"code": "us", "name": "United States", "people_url": settings.REGION_PEOPLE_URL},
        {"code": "eu", "name": "Europe", "people_url": EU},
    ],
    "products": [
        {"code": code, "name": name, "tagline": "", "icon": "", "coming_soon": soon, "regions": ["us", "eu"]}
        for code, name, soon in [
            ("vault", "Vault Storage", False),
            ("lens", "Lens Analytics", False),
            ("ledger", "Ledger Books", False),
            ("scope", "Scope Monitor", False),
            ("soon", "Soon Thing", True),
        ]
    ],
}
ACME = tenant_document(
    "acme",
    [
        ("vault", "active", "us"),
        ("vault", "active", "eu"),
        ("lens", "trial", "eu"),
        ("ledger", "expired", "us"),
    ],
    regions=("us", "eu"),
)


@pytest.fixture
def alice():
    return user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="alice@acme.test")


@pytest.fixture
def atrium(fake_atrium):
    fake_atrium.serve_catalog(CATALOG)
    fake_atrium.serve_tenant(ACME)
    with fake_atrium.settings():
        yield fake_atrium


def switcher(html: str, testid: str) -> list[dict]:
    block = re.search(rf'data-testid="{testid}".*?</details>', html, re.S)
    assert block, f"no {testid} on the page"
    return [
        {
            "href": href,
            "key": key,
            "attrs": attrs,
            "text": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip(),
        }
        for href, key, attrs, text in re.findall(
            r'<a href="([^"]*)" data-(?:product|region)="([^"]+)"([^>]*)>(.*?)</a>', block.group(0), re.S
        )
    ]


def by_key(entries: list[dict]) -> dict[str, dict]:
    return {e["key"]: e for e in entries}


def test_the_product_switcher_opens_here_elsewhere_or_offers_the_portal(people, alice, atrium):
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    page = people.get("/p/vault/").content.decode()
    products = by_key(switcher(page, "product-switcher"))
    assert list(products) == ["vault", "lens", "ledger", "scope"]  # the catalog's order; coming soon hidden
    assert products["vault"]["href"] == "/p/vault/"
    assert 'aria-current="true"' in products["vault"]["attrs"]
    assert products["lens"]["href"] == f"{EU}/p/lens/"
    assert products["lens"]["text"] == "Lens Analytics open in Europe"
    portal = settings.ATRIUM_PORTAL_URL
    assert products["ledger"]["href"] == f"{portal}/products/ledger/?account=acme"
    assert products["ledger"]["text"] == "Ledger Books Buy it"
    assert products["scope"]["href"] == f"{portal}/products/scope/?account=acme"
    assert products["scope"]["text"] == "Scope Monitor Try it"
    assert "Soon Thing" not in page


def test_the_region_switcher_lists_the_tenants_regions_keeping_the_product_where_it_is_held(
    people, alice, atrium
):
    entitle("acme", 1, product("vault"), product("scope"))
    people.force_login(alice)
    regions = by_key(switcher(people.get("/p/vault/").content.decode(), "region-switcher"))
    assert list(regions) == ["us", "eu"]
    assert regions["us"]["href"] == f"{settings.REGION_PEOPLE_URL}/p/vault/"
    assert 'aria-current="true"' in regions["us"]["attrs"]
    assert regions["eu"]["href"] == f"{EU}/p/vault/"
    assert regions["eu"]["text"] == "Europe (eu)"
    # scope is held here only: in Europe the switcher goes to the region's home
    regions = by_key(switcher(people.get("/p/scope/").content.decode(), "region-switcher"))
    assert regions["eu"]["href"] == f"{EU}/"


def test_open_here_follows_the_document_this_region_enforces_not_the_directory(people, alice, atrium):
    # the directory says vault is active in us, but the document here has not (yet) got it
    entitle("acme", 1, product("scope"))
    people.force_login(alice)
    products = by_key(switcher(people.get("/").content.decode(), "product-switcher"))
    assert products["vault"]["href"] == f"{EU}/p/vault/"
    assert products["scope"]["href"] == "/p/scope/"


def test_a_product_entitled_here_but_missing_from_the_catalog_still_opens_here(people, alice, atrium):
    entitle("acme", 1, product("soon"), product("extra"))
    people.force_login(alice)
    products = by_key(switcher(people.get("/").content.decode(), "product-switcher"))
    assert products["soon"]["href"] == "/p/soon/"
    assert products["extra"]["href"] == "/p/extra/"


def test_the_directory_is_asked_once_per_tenant_per_minute(people, alice, atrium):
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with time_machine.travel(time.time(), tick=False) as traveller:
        for _ in range(3):
            assert people.get("/p/vault/").status_code == 200
        assert [r["path"] for r in atrium.requests] == ["/directory/v1/catalog", "/directory/v1/tenants/acme"]
        traveller.shift(61)
        people.get("/p/vault/")
    assert len(atrium.requests) == 4


def test_each_tenant_has_its_own_cached_navigation(people, alice, atrium):
    carol = user_upsert_local(tenant_slug="globex", external_id=str(uuid.uuid4()), email="carol@globex.test")
    atrium.serve_tenant(tenant_document("globex", [("lens", "active", "us")], regions=("us",)))
    entitle("acme", 1, product("vault"))
    entitle("globex", 1, product("lens"))
    people.force_login(alice)
    acme_products = by_key(switcher(people.get("/").content.decode(), "product-switcher"))
    people.force_login(carol)
    globex_page = people.get("/").content.decode()
    globex_products = by_key(switcher(globex_page, "product-switcher"))
    assert acme_products["vault"]["href"] == "/p/vault/"
    assert globex_products["vault"]["href"].endswith("/products/vault/?account=globex")
    assert globex_products["lens"]["href"] == "/p/lens/"
    assert list(by_key(switcher(globex_page, "region-switcher"))) == ["us"]
    assert "account=acme" not in globex_page


def test_when_the_directory_is_down_the_bar_shows_this_regions_products_and_the_portal(
    people, alice, fake_atrium
):
    fake_atrium.machine_server.stop()
    entitle("acme", 1, product("vault"), product("scope"), product("ledger", "expired"))
    people.force_login(alice)
    with fake_atrium.settings():
        response = people.get("/p/vault/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="nav-degraded"' in page
    products = by_key(switcher(page, "product-switcher"))
    assert list(products) == ["scope", "vault"]  # by code, as the document lists them
    assert products["vault"]["href"] == "/p/vault/"
    assert f'href="{settings.ATRIUM_PORTAL_URL}/products/" data-testid="nav-portal-products"' in page
    assert list(by_key(switcher(page, "region-switcher"))) == [settings.REGION_CODE]


def test_a_failing_directory_is_not_asked_again_for_every_page(people, alice, fake_atrium):
    fake_atrium.routes["/directory/v1/catalog"] = (503, {"error": "unavailable", "detail": "restarting"})
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with fake_atrium.settings(), time_machine.travel(time.time(), tick=False) as traveller:
        assert b'data-testid="nav-degraded"' in people.get("/").content
        assert b'data-testid="nav-degraded"' in people.get("/p/vault/").content
        assert len(fake_atrium.requests) == 1
        traveller.shift(settings.ATRIUM_KIT_NAV_FAILURE_CACHE_SECONDS + 1)
        people.get("/")
    assert len(fake_atrium.requests) == 2


def test_a_tenant_atrium_does_not_answer_for_gets_the_local_bar(people, alice, fake_atrium):
    fake_atrium.serve_catalog(CATALOG)  # but no tenant document: the directory answers 404
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with fake_atrium.settings():
        page = people.get("/").content.decode()
    assert 'data-testid="nav-degraded"' in page
    assert list(by_key(switcher(page, "product-switcher"))) == ["vault"]


def test_the_refusal_and_expiry_pages_carry_the_bar_and_the_catalogs_name(people, alice, atrium):
    entitle("acme", 1, product("vault"), product("ledger", "expired"))
    people.force_login(alice)
    refused = people.get("/p/scope/")
    assert refused.status_code == 403
    assert b"<strong>Scope Monitor</strong> in this region" in refused.content
    assert b'data-testid="product-switcher"' in refused.content
    expired = people.get("/p/ledger/")
    assert expired.status_code == 403
    assert b"Your trial of <strong>Ledger Books</strong>" in expired.content
    assert b'data-testid="region-switcher"' in expired.content


def test_anonymous_pages_show_no_bar_and_never_ask_the_directory(people, atrium):
    page = people.get("/refused/?reason=not_provisioned")
    assert page.status_code == 403
    assert b'data-testid="product-switcher"' not in page.content
    assert atrium.requests == [] and atrium.token_requests == []


def test_a_product_page_with_the_bar_costs_a_fixed_number_of_queries(
    people, alice, atrium, django_assert_num_queries
):
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    people.get("/p/vault/")  # the directory's answer is now cached
    # session, user (+ tenant), the entitlements document once (shared by the check and the bar),
    # and the transaction of ATOMIC_REQUESTS
    with django_assert_num_queries(5):
        assert people.get("/p/vault/").status_code == 200
