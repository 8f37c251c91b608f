"""`PUT /tenant/v1/<tenant>/entitlements` on the machine port, through the real machine
middleware (tokens signed by a stand-in Atrium JWKS on loopback): scope `tenant` required, the
highest version wins, bad documents are 400 JSON, each tenant holds its own document."""

import json

import pytest
from django.test import Client, override_settings

from atrium_kit.models import Tenant, TenantEntitlements
from atrium_kit.tests.test_machine_auth import KEY_1, FakeAtriumJwks, jwks_settings, machine_token, public_jwk

pytestmark = pytest.mark.django_db

MACHINE_STACK = {
    "ROOT_URLCONF": "region.urls_machine",
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "atrium_kit.machine_auth.MachineTokenMiddleware",
        "atrium_kit.scim.ScimTenantMiddleware",
    ],
}


def document(tenant: str = "acme", version: int = 1, products=None) -> dict:
    if products is None:
        products = [{"code": "backup", "status": "active", "ends_at": None}]
    return {"tenant": tenant, "products": products, "version": version}


@pytest.fixture
def machine():
    atrium = FakeAtriumJwks()
    atrium.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(atrium), override_settings(**MACHINE_STACK):
        yield Client()
    atrium.stop()


def put(http: Client, body, *, tenant: str = "acme", scope: str = "tenant", token: str | None = None):
    token = token or machine_token(scope=scope)
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return http.put(
        f"/tenant/v1/{tenant}/entitlements",
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def held(tenant: str = "acme") -> TenantEntitlements:
    return TenantEntitlements.objects.get(tenant__slug=tenant)


def test_a_document_creates_the_tenant_and_answers_its_version(machine):
    response = put(machine, document(version=3))
    assert response.status_code == 200, response.content
    assert response.json() == {"version": 3}
    assert Tenant.objects.filter(slug="acme").exists()
    assert held().version == 3
    assert held().document == {
        "tenant": "acme",
        "products": [{"code": "backup", "status": "active", "ends_at": None}],
    }


def test_a_newer_version_replaces_the_document(machine):
    put(machine, document(version=1))
    response = put(machine, document(version=2, products=[]))
    assert response.json() == {"version": 2}
    assert held().document["products"] == []


def test_an_older_version_never_overwrites_a_newer_one(machine):
    # given the region holds version 5
    put(machine, document(version=5, products=[]))
    # when a late push of version 4 arrives
    response = put(machine, document(version=4))
    # then it is acknowledged with the stored version, and nothing changes
    assert response.status_code == 200
    assert response.json() == {"version": 5}
    assert held().version == 5 and held().document["products"] == []


def test_the_same_version_again_is_idempotent(machine):
    put(machine, document(version=2))
    assert put(machine, document(version=2)).json() == {"version": 2}
    assert TenantEntitlements.objects.count() == 1


def test_products_are_stored_sorted_by_code_with_normalised_times(machine):
    products = [
        {"code": "posture", "status": "trial", "ends_at": "2027-01-01T00:00:00Z"},
        {"code": "backup", "status": "active", "ends_at": None},
    ]
    put(machine, document(products=products))
    assert held().document["products"] == [
        {"code": "backup", "status": "active", "ends_at": None},
        {"code": "posture", "status": "trial", "ends_at": "2027-01-01T00:00:00+00:00"},
    ]


def test_each_tenant_holds_only_its_own_document(machine):
    put(machine, document(tenant="acme", version=1))
    put(machine, document(tenant="globex", version=7, products=[]), tenant="globex")
    assert held("acme").version == 1 and held("acme").document["products"][0]["code"] == "backup"
    assert held("globex").version == 7 and held("globex").document == {"tenant": "globex", "products": []}


# --- machine tokens ---------------------------------------------------------------------------
def test_a_token_without_scope_tenant_is_403_json(machine):
    response = put(machine, document(), scope="scim logout")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "tenant" in response.json()["detail"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert not TenantEntitlements.objects.exists()


def test_a_token_for_another_regions_audience_is_401(machine):
    token = machine_token(scope="tenant", aud="https://eu.region.example:9101")
    response = put(machine, document(), token=token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert not Tenant.objects.exists()


def test_no_token_is_401(machine):
    response = machine.put("/tenant/v1/acme/entitlements", data="{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["status"] == "401"


def test_a_scim_token_still_works_for_scim_and_not_for_the_tenant_api(machine):
    scim = machine.get("/scim/v2/acme/Users", HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='scim')}")
    assert scim.status_code == 200
    assert put(machine, document(), scope="scim").status_code == 403


def test_a_tenant_token_does_not_open_scim(machine):
    scim = machine.get("/scim/v2/acme/Users", HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='tenant')}")
    assert scim.status_code == 403
    assert scim["Content-Type"] == "application/scim+json"


# --- bad input is a 400 JSON, never a 500 ------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe",
        "[1, 2]",
        "null",
        "[" * 5000 + "]" * 5000,
        json.dumps(document(tenant="globex")),  # names another tenant than the URL
        json.dumps({**document(), "version": 0}),
        json.dumps({**document(), "version": "3"}),
        json.dumps({**document(), "version": True}),
        json.dumps({**document(), "version": 2**40}),
        json.dumps({"tenant": "acme", "version": 1}),
        json.dumps(document(products={"code": "backup"})),
        json.dumps(document(products=["backup"])),
        json.dumps(document(products=[{"code": "Backup!", "status": "active", "ends_at": None}])),
        json.dumps(document(products=[{"code": "a\u0000b", "status": "active", "ends_at": None}])),
        json.dumps(document(products=[{"code": "backup", "status": "active", "ends_at": "tomorrow"}])),
        json.dumps(
            document(products=[{"code": "backup", "status": "active", "ends_at": "2027-01-01T00:00"}])
        ),
        json.dumps(document(products=[{"code": "backup", "status": "active", "ends_at": 1767225600}])),
        json.dumps(document(products=[{"code": "backup", "status": "active", "ends_at": "\ud800"}])),
        json.dumps(
            document(
                products=[
                    {"code": "backup", "status": "active", "ends_at": None},
                    {"code": "backup", "status": "trial", "ends_at": None},
                ]
            )
        ),
    ],
)
def test_a_bad_body_is_a_400_json_and_stores_nothing(machine, body):
    response = put(machine, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert not TenantEntitlements.objects.exists()


@pytest.mark.parametrize("status", ["paused", "ACTIVE", "", None, 1])
def test_an_unknown_product_status_is_a_400(machine, status):
    response = put(machine, document(products=[{"code": "backup", "status": status, "ends_at": None}]))
    assert response.status_code == 400
    assert "status" in response.json()["detail"]
    assert not TenantEntitlements.objects.exists()


def test_an_invalid_document_leaves_the_stored_one_untouched(machine):
    put(machine, document(version=1))
    response = put(machine, document(version=2, products=[{"code": "backup", "status": "gold"}]))
    assert response.status_code == 400
    assert held().version == 1


def test_other_methods_are_405_json(machine):
    response = machine.get(
        "/tenant/v1/acme/entitlements", HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='tenant')}"
    )
    assert response.status_code == 405
    assert response["Allow"] == "PUT"


def test_a_malformed_tenant_in_the_path_is_404(machine):
    assert put(machine, document(), tenant="Acme_").status_code == 404
