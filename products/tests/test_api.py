"""REST API v1 for the catalog, entitlements and trials: the same selectors and services as the
pages, the same permission table, tenant isolation (another account is a 404, also by guessing),
bad bodies a 400 JSON and never a 500, a fixed number of queries per list."""

import io
from datetime import timedelta

import pytest
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client, Token
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from conftest import make_user
from products.models import Entitlement
from products.services import entitlement_set, product_create
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_alice(api, alice, acme):
    api.force_login(alice)
    return api


@pytest.fixture
def acme_owns_backup(acme_everywhere, backup, regions):
    for code in ("us", "eu"):
        entitlement_set(account=acme_everywhere, product=backup, region=regions[code], status="active")
    return acme_everywhere


def _as(api, account, role):
    user = make_user(f"{role}@acme.test")
    membership_add(account=account, user=user, role=role)
    api.force_login(user)
    return api


def _trial(client, slug="acme", **body):
    return client.post(f"{API}/accounts/{slug}/trials/", body, format="json")


# --- catalog ------------------------------------------------------------------------------------
def test_an_anonymous_caller_is_told_to_authenticate(api, backup):
    response = api.get(f"{API}/products/")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_the_catalog_lists_every_product_with_its_regions_coming_soon_last(
    as_alice, backup, posture, insights
):
    body = as_alice.get(f"{API}/products/").json()
    assert body["count"] == 3
    assert [p["code"] for p in body["results"]] == ["backup", "posture", "insights"]
    backup_entry = body["results"][0]
    assert backup_entry["name"] == "Backup & Recovery" and backup_entry["trial_days"] == 30
    assert backup_entry["icon"] == "💾" and backup_entry["coming_soon"] is False
    assert [r["code"] for r in backup_entry["regions"]] == ["au", "eu", "us"]
    assert [r["code"] for r in body["results"][1]["regions"]] == ["eu", "us"]
    assert body["results"][2]["coming_soon"] is True and body["results"][2]["regions"] == []


def test_a_person_without_any_account_sees_the_catalog(api, backup):
    api.force_login(make_user("loner@example.test"))
    body = api.get(f"{API}/products/").json()
    assert [p["code"] for p in body["results"]] == ["backup"]


def test_the_catalog_costs_a_fixed_number_of_queries(as_alice, regions, django_assert_max_num_queries):
    for i in range(25):
        product_create(code=f"p{i}", name=f"Product {i}", regions=list(regions.values()))
    with django_assert_max_num_queries(6):
        response = as_alice.get(f"{API}/products/")
    assert response.status_code == 200 and response.json()["count"] == 25


def test_a_product_is_fetched_by_code(as_alice, posture):
    body = as_alice.get(f"{API}/products/posture/").json()
    assert body["code"] == "posture" and body["name"] == "Security Posture"
    assert [r["code"] for r in body["regions"]] == ["eu", "us"]


def test_an_unknown_product_is_a_404_json(as_alice, backup):
    response = as_alice.get(f"{API}/products/nothing/")
    assert response.status_code == 404
    assert "detail" in response.json()


# --- entitlements -------------------------------------------------------------------------------
def test_an_owner_lists_the_accounts_entitlements(as_alice, acme_owns_backup, posture, regions):
    entitlement_set(account=acme_owns_backup, product=posture, region=regions["eu"], status="expired")
    body = as_alice.get(f"{API}/accounts/acme/entitlements/").json()
    assert body["count"] == 3
    rows = [(e["product"], e["region"], e["status"]) for e in body["results"]]
    assert rows == [("backup", "eu", "active"), ("backup", "us", "active"), ("posture", "eu", "expired")]
    first = body["results"][0]
    assert first["product_name"] == "Backup & Recovery"
    assert first["starts_at"] and first["ends_at"] is None


def test_entitlements_of_other_accounts_never_show(as_alice, acme_owns_backup, globex_eu, backup, regions):
    entitlement_set(account=globex_eu, product=backup, region=regions["eu"], status="trial")
    body = as_alice.get(f"{API}/accounts/acme/entitlements/").json()
    assert {e["status"] for e in body["results"]} == {"active"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [("admin", 200), ("billing", 200), ("read_only", 200), ("member", 403)],
)
def test_who_sees_the_entitlements_follows_billing_view(api, acme_owns_backup, role, expected):
    response = _as(api, acme_owns_backup, role).get(f"{API}/accounts/acme/entitlements/")
    assert response.status_code == expected
    assert response.json()


def test_a_suspended_member_gets_a_403(api, acme_owns_backup):
    user = make_user("sam@acme.test")
    membership = membership_add(account=acme_owns_backup, user=user, role=Membership.Role.ADMIN)
    Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.SUSPENDED)
    api.force_login(user)
    assert api.get(f"{API}/accounts/acme/entitlements/").status_code == 403


@pytest.mark.parametrize("slug", ["acme", "initech", "ACME"])
def test_carol_cannot_see_acmes_entitlements_or_guess_slugs(api, carol, globex, acme_owns_backup, slug):
    api.force_login(carol)
    response = api.get(f"{API}/accounts/{slug}/entitlements/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_entitlements_list_costs_a_fixed_number_of_queries(
    as_alice, acme_everywhere, regions, django_assert_max_num_queries
):
    for i in range(15):
        product = product_create(code=f"p{i}", name=f"Product {i}", regions=list(regions.values()))
        for region in regions.values():
            entitlement_set(account=acme_everywhere, product=product, region=region, status="active")
    with django_assert_max_num_queries(8):
        response = as_alice.get(f"{API}/accounts/acme/entitlements/")
    assert response.status_code == 200 and response.json()["count"] == 45


# --- trials -------------------------------------------------------------------------------------
def test_an_owner_starts_a_trial_and_gets_its_entitlements(as_alice, acme, backup, regions):
    response = _trial(as_alice, product="backup", regions=["us", "eu"])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(e["product"], e["region"], e["status"]) for e in body] == [
        ("backup", "eu", "trial"),
        ("backup", "us", "trial"),
    ]
    assert body[0]["ends_at"] is not None
    assert set(AccountRegion.objects.filter(account=acme).values_list("region__code", flat=True)) == {
        "eu",
        "us",
    }
    record = ProvisioningRecord.objects.get(kind="entitlements", tenant="acme", region=regions["eu"])
    assert record.desired["products"][0]["status"] == "trial"
    assert AuditEvent.objects.get(action="trial.start").actor.email == "alice@acme.test"


def test_an_admin_may_start_a_trial(api, acme, posture):
    response = _trial(_as(api, acme, "admin"), product="posture", regions=["eu"])
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_roles_without_members_manage_cannot_start_a_trial(api, acme, backup, role):
    response = _trial(_as(api, acme, role), product="backup", regions=["eu"])
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Entitlement.objects.exists()


@pytest.mark.parametrize("slug", ["acme", "initech"])
def test_carol_cannot_start_a_trial_for_acme_or_guess_slugs(api, carol, globex, acme, backup, slug):
    api.force_login(carol)
    response = _trial(api, slug=slug, product="backup", regions=["eu"])
    assert response.status_code == 404
    assert not Entitlement.objects.exists()


def test_a_second_trial_of_the_same_product_is_a_400(as_alice, acme, backup):
    assert _trial(as_alice, product="backup", regions=["eu"]).status_code == 201
    response = _trial(as_alice, product="backup", regions=["us"])
    assert response.status_code == 400
    assert "one free trial per product" in response.json()["detail"][0]


def test_a_product_the_account_owns_cannot_be_tried(as_alice, acme_owns_backup):
    response = _trial(as_alice, product="backup", regions=["au"])
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product": "nothing", "regions": ["eu"]}, "product"),
        ({"product": "backup", "regions": ["mars"]}, "regions"),
        ({"product": "backup", "regions": []}, "regions"),
        ({"product": "backup"}, "regions"),
        ({"regions": ["eu"]}, "product"),
        ({"product": "backup", "regions": "eu"}, "regions"),
        ({"product": "backup", "regions": [{"code": "eu"}]}, "regions"),
        ({"product": "backup", "regions": [None]}, "regions"),
        ({"product": ["backup"], "regions": ["eu"]}, "product"),
        ({"product": True, "regions": ["eu"]}, "product"),
        ({"product": "../admin", "regions": ["eu"]}, "product"),
        ({"product": "backup", "regions": ["eu"] * 21}, "regions"),
    ],
)
def test_bad_trial_bodies_are_a_400_naming_the_field(as_alice, acme, backup, body, field):
    response = _trial(as_alice, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Entitlement.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", '"backup"', "42", ""])
def test_malformed_json_is_a_400(as_alice, acme, backup, raw):
    response = as_alice.post(f"{API}/accounts/acme/trials/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()


@pytest.mark.parametrize(
    ("code", "region_codes", "words"),
    [
        ("insights", ["eu"], "coming soon"),
        ("posture", ["au"], "not offered"),
        ("notrial", ["eu"], "no free trial"),
    ],
)
def test_products_that_cannot_be_tried_there_are_a_400(
    as_alice, acme, posture, insights, regions, code, region_codes, words
):
    product_create(code="notrial", name="No Trial", regions=[regions["eu"]], trial_days=0)
    response = _trial(as_alice, product=code, regions=region_codes)
    assert response.status_code == 400
    assert words in response.json()["detail"][0]
    assert not Entitlement.objects.exists()
    assert not AccountRegion.objects.filter(account=acme).exists()


def test_unknown_keys_are_ignored_and_duplicated_regions_count_once(as_alice, acme, backup):
    response = _trial(as_alice, product="backup", regions=["eu", "eu"], plan="gold")
    assert response.status_code == 201
    assert [e["region"] for e in response.json()] == ["eu"]


# --- authentication and schema ------------------------------------------------------------------
def _access_token(user, scopes: list[str]) -> str:
    client = Client.objects.create(id="customer-app", name="Customer app", type=Client.Type.CONFIDENTIAL)
    client.set_scopes(["openid", "atrium:api"])
    client.save()
    value = "test-access-token-" + "-".join(scopes)
    Token.objects.create(
        client=client, user=user, type=Token.Type.ACCESS_TOKEN, hash=get_adapter().hash_token(value),
        scopes="\n".join(scopes), expires_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    return value


def test_a_bearer_token_with_the_api_scope_starts_a_trial(api, alice, acme, backup):
    token = _access_token(alice, ["openid", "atrium:api"])
    body = {"product": "backup", "regions": ["eu"]}
    response = api.post(
        f"{API}/accounts/acme/trials/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 201


def test_a_bearer_token_without_the_api_scope_is_refused(api, alice, acme_owns_backup):
    token = _access_token(alice, ["openid"])
    for url in (f"{API}/products/", f"{API}/accounts/acme/entitlements/"):
        assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_a_session_post_without_the_csrf_token_is_refused(alice, acme, backup):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = _trial(client, product="backup", regions=["eu"])
    assert response.status_code == 403
    assert not Entitlement.objects.exists()


def test_the_endpoints_are_in_the_validated_schema():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for operation in ("products_list", "product_get", "entitlements_list", "trial_start"):
        assert f"operationId: {operation}" in schema
