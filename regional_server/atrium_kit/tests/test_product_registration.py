"""Registering a product on the kit = an INSTALLED_APPS entry and its name in ATRIUM_KIT_PRODUCTS.

The fifth test product (atrium_kit/tests/fifth_product/) is what a product team writes; the
kit builds `p/<code>/` from its `urls` and the machine include from its `urls_machine`. Nothing
of the kit or of region/ names a product."""

import ast
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import resolve, reverse

from atrium_kit.products import ProductApp, registered_products
from atrium_kit.services import user_upsert_local
from atrium_kit.tests.conftest import urls_reload
from atrium_kit.tests.test_entitlements_views import entitle, product
from atrium_kit.tests.test_machine_auth import KEY_1, FakeAtriumJwks, jwks_settings, machine_token, public_jwk

REGIONAL_SERVER = Path(__file__).resolve().parents[2]
KIT = REGIONAL_SERVER / "atrium_kit"
FIFTH = KIT / "tests" / "fifth_product"

MACHINE_STACK = {
    "ROOT_URLCONF": "region.urls_machine",
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "atrium_kit.machine_auth.MachineTokenMiddleware",
        "atrium_kit.scim.ScimTenantMiddleware",
    ],
}


def test_a_product_app_is_a_urls_module_views_and_templates_and_optionally_machine_urls():
    files = sorted(
        str(p.relative_to(FIFTH)) for p in FIFTH.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert files == [
        "__init__.py",
        "apps.py",
        "templates/fifth/index.html",
        "urls.py",
        "urls_machine.py",
        "views.py",
    ]
    # it imports only Django and the kit's public modules
    imports = set()
    for source in FIFTH.rglob("*.py"):
        imports |= set(re.findall(r"^(?:from|import) ([\w.]+)", source.read_text(), re.M))
    kit_modules = {i for i in imports if i.startswith("atrium_kit") and not i.startswith("atrium_kit.tests")}
    assert kit_modules == {"atrium_kit.products", "atrium_kit.machine_auth"}
    assert all(i.startswith(("django", "atrium_kit")) for i in imports)


def test_the_settings_register_every_product_and_nothing_else_names_one():
    assert settings.ATRIUM_KIT_PRODUCTS == ["backup", "posture", "archiver"]
    assert [p.code for p in registered_products()] == ["backup", "posture", "archiver"]
    for code in settings.ATRIUM_KIT_PRODUCTS:
        assert code in settings.INSTALLED_APPS
    # region/urls*.py and the kit's code (outside its tests) neither import a product nor use its
    # code as a value; the kit's templates do not mention one
    codes = {"backup", "posture", "archiver", "fifth"}
    sources = [REGIONAL_SERVER / "region" / "urls.py", REGIONAL_SERVER / "region" / "urls_machine.py"]
    sources += [p for p in KIT.rglob("*.py") if "tests" not in p.relative_to(KIT).parts]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in codes for n in names), f"{source} imports a product"
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in codes and not any(
                    f"{c}." in node.value or f"/{c}/" in node.value for c in codes
                ), f"{source} names a product: {node.value!r}"
    for template in (KIT / "templates").rglob("*.html"):
        text = template.read_text().lower()
        assert not any(c in text for c in codes), f"{template} names a product"


@pytest.mark.django_db
def test_a_registered_product_is_served_at_p_code_with_its_namespace(people, fifth_product):
    assert reverse("fifth:index") == "/p/fifth/"
    assert resolve("/p/fifth/undecorated/").namespace == "fifth"
    alice = user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="alice@acme.test")
    entitle("acme", 1, product("fifth"))
    people.force_login(alice)
    assert people.get("/p/fifth/").status_code == 200


@pytest.mark.django_db
def test_without_its_setting_entry_an_installed_app_is_not_served(people):
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "atrium_kit.tests.fifth_product"]):
        urls_reload()
        try:
            alice = user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="a@acme.test")
            entitle("acme", 1, product("fifth"))
            people.force_login(alice)
            # the generic product page answers instead of the app
            response = people.get("/p/fifth/")
            assert b'data-testid="product-code">fifth<' in response.content
            assert people.get("/p/fifth/undecorated/").status_code == 404
        finally:
            urls_reload()
    urls_reload()


def test_a_dict_maps_a_code_an_app_label_cannot_spell():
    with override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "atrium_kit.tests.fifth_product"],
        ATRIUM_KIT_PRODUCTS={"fifth-product": "fifth"},
    ):
        assert registered_products() == [
            ProductApp(code="fifth-product", app_label="fifth", module="atrium_kit.tests.fifth_product",
                       name="Fifth Product")
        ]  # fmt: skip
        urls_reload()
        assert reverse("fifth:index") == "/p/fifth-product/"
    urls_reload()


@pytest.mark.parametrize(
    ("products", "message"),
    [
        (["nope"], "not in INSTALLED_APPS"),
        ({"Bad_Code": "backup"}, "not a product code"),
        ({"backup": "backup", "again": "backup", "x": "nope"}, "not in INSTALLED_APPS"),
        ("backup", "must be a list"),
        (["contenttypes"], "has no urls module"),
    ],
)
def test_a_misregistered_product_stops_the_server_at_start_with_the_fix(products, message):
    with override_settings(ATRIUM_KIT_PRODUCTS=products), pytest.raises(ImproperlyConfigured, match=message):
        registered_products()


def test_a_code_registered_twice_is_refused():
    with (
        override_settings(ATRIUM_KIT_PRODUCTS=["backup", "backup"]),
        pytest.raises(ImproperlyConfigured, match="twice"),
    ):
        registered_products()


# --- machine URLs -----------------------------------------------------------------------------
@pytest.fixture
def machine(db, fifth_product):
    atrium = FakeAtriumJwks()
    atrium.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(atrium), override_settings(**MACHINE_STACK):
        yield Client()
    atrium.stop()


def bearer(**claims) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {machine_token(**claims)}"}


def test_a_products_machine_urls_are_mounted_under_the_tenant_api(machine):
    response = machine.get("/tenant/v1/acme/products/fifth/ping", **bearer(scope="tenant"))
    assert response.status_code == 200
    assert response.json() == {"tenant": "acme", "client_id": "atrium-provisioner"}


def test_a_products_machine_urls_need_the_tenant_scope_before_the_view_runs(machine):
    response = machine.get("/tenant/v1/acme/products/fifth/ping", **bearer(scope="scim"))
    assert response.status_code == 403
    assert response.json()["detail"] == "The token lacks scope 'tenant'."
    assert machine.get("/tenant/v1/acme/products/fifth/ping").status_code == 401


def test_a_product_without_urls_machine_gets_no_machine_urls(machine):
    # the generic products (and unknown codes) have nothing on the machine port
    response = machine.get("/tenant/v1/acme/products/insights/ping", **bearer(scope="tenant"))
    assert response.status_code == 404


def test_a_tenant_that_is_not_a_slug_does_not_reach_a_products_machine_view(machine):
    response = machine.get("/tenant/v1/Not_A_Slug/products/fifth/ping", **bearer(scope="tenant"))
    assert response.status_code == 404


def test_the_system_check_names_a_misregistered_product():
    from atrium_kit.checks import products_registered

    assert products_registered() == []
    with override_settings(ATRIUM_KIT_PRODUCTS=["backup", "nope"]):
        (error,) = products_registered()
    assert error.id == "atrium_kit.E001"
    assert "'nope', which is not in INSTALLED_APPS" in error.msg
