"""Hostile review of the shared navigation: the directory answering junk or another tenant's
data never fails a page, never shows another tenant's products or regions, and never turns an
`href` into something other than a link."""

# ruff: noqa: F401, F811 - `alice` is test_navigation's fixture, imported and requested by name
import copy
import re

import pytest

from atrium_kit.tests.directory_support import tenant_document
from atrium_kit.tests.test_entitlements_views import entitle, product
from atrium_kit.tests.test_navigation import ACME, CATALOG, alice, by_key, switcher

pytestmark = pytest.mark.django_db


def test_another_tenants_answer_never_reaches_the_bar(people, alice, fake_atrium):
    fake_atrium.serve_catalog(CATALOG)
    globex = tenant_document("globex", [("lens", "active", "eu")], regions=("us", "eu"))
    fake_atrium.routes["/directory/v1/tenants/acme"] = (200, globex)
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with fake_atrium.settings():
        page = people.get("/p/vault/").content.decode()
    assert 'data-testid="nav-degraded"' in page
    assert list(by_key(switcher(page, "product-switcher"))) == ["vault"]
    assert "Lens Analytics" not in page


JUNK_CATALOGS = {
    "product codes of the wrong type": {
        **CATALOG,
        "products": [{"code": ["vault"]}, {"code": {"a": 1}}, None, 7],
    },
    "regions of the wrong type": {**CATALOG, "regions": [None, "eu", {"code": ["eu"]}]},
}
JUNK_TENANTS = {
    "tenant regions of the wrong type": {**ACME, "regions": [{"code": ["eu"], "people_url": "x"}, "us", None]},
    "products of the wrong type": {**ACME, "products": [{"code": ["vault"], "status": "active", "region": "eu"},
                                                         {"code": "vault", "status": ["x"], "region": {}}, None]},
    "a region without a people URL": {**ACME, "regions": [{"code": "eu", "people_url": None}]},
}  # fmt: skip


@pytest.mark.parametrize(
    "catalog, tenant",
    [*((c, ACME) for c in JUNK_CATALOGS.values()), *((CATALOG, t) for t in JUNK_TENANTS.values())],
    ids=[*JUNK_CATALOGS, *JUNK_TENANTS],
)
def test_junk_from_the_directory_never_fails_the_page(people, alice, fake_atrium, catalog, tenant):
    fake_atrium.serve_catalog(copy.deepcopy(catalog))
    fake_atrium.routes["/directory/v1/tenants/acme"] = (200, copy.deepcopy(tenant))
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with fake_atrium.settings():
        page = people.get("/p/vault/")
    assert page.status_code == 200
    assert "vault" in by_key(switcher(page.content.decode(), "product-switcher"))


@pytest.mark.parametrize(
    "bad_url", ["javascript:alert(document.cookie)", "data:text/html,x", "", None, "//evil.test"]
)
def test_a_region_or_portal_link_that_is_no_web_address_never_becomes_an_href(
    people,
    alice,
    fake_atrium,
    bad_url,
):
    tenant = copy.deepcopy(ACME)
    eu = next(r for r in tenant["regions"] if r["code"] == "eu")
    eu["people_url"] = bad_url
    fake_atrium.serve_catalog({**copy.deepcopy(CATALOG), "portal_url": bad_url})
    fake_atrium.routes["/directory/v1/tenants/acme"] = (200, tenant)
    entitle("acme", 1, product("vault"))
    people.force_login(alice)
    with fake_atrium.settings():
        page = people.get("/p/vault/").content.decode()
    assert 'data-testid="product-switcher"' in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("/", "http://", "https://")) and not h.startswith("//") for h in hrefs), hrefs
    assert "eu" not in by_key(switcher(page, "region-switcher"))
