"""The directory API's views in process (the real listener, with mutual TLS, is in
tests/e2e/test_directory_api.py): real tokens from Atrium's token endpoint, then the machine URL
configuration (portal.urls_machine) answers. Tenant isolation by region, JSON errors, pagination
and query counts that do not grow with the account."""

import time
import uuid
from urllib.parse import unquote

import jwt
import pytest
from allauth.core.internal import jwkkit
from allauth.idp.oidc.models import Token
from django.conf import settings
from django.test import Client

from accounts.groups import group_create, group_members_add
from accounts.models import Membership
from accounts.services import account_region_add, membership_add, membership_update, user_set_active
from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, region_with_login_client
from conftest import make_user
from products.models import Entitlement, Product, ProductRegion

pytestmark = pytest.mark.django_db

USERS = "/directory/v1/tenants/acme/users"


@pytest.fixture
def eu(db, tmp_path):
    return region_with_login_client("eu", tmp_path, 8102, 9102)


@pytest.fixture
def us(db, tmp_path):
    return region_with_login_client("us", tmp_path, 8101, 9101)


def token_for(client, region, *, scope="directory:read", resource=None) -> str:
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "scope": scope,
            "resource": resource or settings.ATRIUM_MACHINE_URL,
        },
        HTTP_AUTHORIZATION=basic_auth(region.oidc_client_id, region.secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def machine(settings):
    """GET on the machine listener's configuration (its URLs and middleware), as a fresh client
    that loads them; fetch tokens (portal URLs) before the first call."""
    http = Client()

    def get(path, token, **params):
        settings.ROOT_URLCONF = settings.MACHINE_ROOT_URLCONF
        settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
        return http.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


@pytest.fixture
def acme_eu(acme, eu):
    account_region_add(account=acme, region=eu)
    return acme


def test_a_region_token_has_atriums_machine_url_as_its_only_audience(client, eu):
    claims = jwt.decode(token_for(client, eu), options={"verify_signature": False})
    assert claims["aud"] in (settings.ATRIUM_MACHINE_URL, [settings.ATRIUM_MACHINE_URL])
    assert claims["client_id"] == "region-eu"
    assert claims["scope"] == "directory:read"
    assert "sub" not in claims


def test_users_lists_the_members_provisioned_in_the_calling_region(client, machine, eu, acme_eu, alice, bob):
    token = token_for(client, eu)
    response = machine(USERS, token)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert sorted(u["email"] for u in body["users"]) == ["alice@acme.test", "bob@acme.test"]
    alice_row = next(u for u in body["users"] if u["email"] == "alice@acme.test")
    assert alice_row == {
        "id": str(alice.public_id),
        "email": "alice@acme.test",
        "display_name": "Alice Anders",
        "role": "owner",
        "active": True,
        "groups": [],
    }
    assert body["next"] is None


def test_another_regions_token_gets_404_for_a_tenant_only_in_eu(client, machine, us, eu, acme_eu):
    token = token_for(client, us)
    for path in ("/directory/v1/tenants/acme", USERS, "/directory/v1/tenants/acme/groups"):
        response = machine(path, token)
        assert response.status_code == 404, path
        assert response.json() == {"error": "not_found", "detail": "No such tenant in this region."}


def test_a_closed_account_is_404(client, machine, eu, acme_eu):
    from accounts.services import account_close

    token = token_for(client, eu)
    account_close(account=acme_eu)
    assert machine(USERS, token).status_code == 404


def test_a_revoked_token_is_401(client, machine, eu, acme_eu):
    token = token_for(client, eu)
    Token.objects.filter(client_id="region-eu", type=Token.Type.ACCESS_TOKEN).delete()
    response = machine(USERS, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def signed(pem: str, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.ATRIUM_ISSUER,
        "aud": [settings.ATRIUM_MACHINE_URL],
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "token_use": "access",
        "client_id": "region-eu",
        "scope": "directory:read",
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    jwk_dict, private_key = jwkkit.load_jwk_from_pem(pem)
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": jwk_dict["kid"]})


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        # also valid elsewhere: whoever holds it there could replay it here
        ({"aud": [settings.ATRIUM_MACHINE_URL, "https://127.0.0.1:9102"]}, "audience is not Atrium's machine URL"),
        ({"aud": "https://127.0.0.1:9102"}, "Audience doesn't match"),  # a region's machine URL
        ({"aud": None}, 'missing the "aud" claim'),
        ({"iss": "http://evil.test"}, "Invalid issuer"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"sub": str(uuid.uuid4())}, "a person's token"),
        ({"token_use": "id"}, "not an access token"),
        ({}, "revoked or unknown"),  # right in every claim, yet never issued by the token endpoint
    ],
    ids=["two-audiences", "region-audience", "no-audience", "other-issuer", "expired", "person", "id-token",
         "never-issued"],
)  # fmt: skip
def test_tokens_atrium_did_not_issue_for_this_port_are_401(
    machine, eu, acme_eu, oidc_signing_key, overrides, reason
):
    response = machine(USERS, signed(oidc_signing_key, **overrides))
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["detail"]
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_of_another_key_or_algorithm_is_401(machine, eu, acme_eu, oidc_signing_key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = jwkkit.load_jwk_from_pem(oidc_signing_key)[0]["kid"]
    forged = jwt.encode({"client_id": "region-eu"}, other, algorithm="RS256", headers={"kid": kid})
    hs256 = jwt.encode({"client_id": "region-eu"}, "secret", algorithm="HS256", headers={"kid": kid})
    for token in (signed(other_pem), forged, hs256, "not-a-jwt"):
        assert machine(USERS, token).status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [{"scope": "scim"}, {"scope": None}, {"client_id": "atrium-provisioner"}, {"client_id": "region-zz"}],
    ids=["scim-only", "no-scope", "provisioner", "unknown-region"],
)
def test_verified_tokens_without_the_right_are_403(machine, eu, acme_eu, oidc_signing_key, overrides):
    response = machine(USERS, signed(oidc_signing_key, **overrides))
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "insufficient_scope"


def test_a_real_token_with_other_scopes_only_is_403(client, machine, eu, acme_eu):
    token = token_for(client, eu, scope="openid")
    assert machine(USERS, token).status_code == 403


def test_writes_are_405_and_unknown_paths_404_in_json(client, settings, eu, acme_eu):
    token = token_for(client, eu)
    settings.ROOT_URLCONF = settings.MACHINE_ROOT_URLCONF
    settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
    http = Client()
    response = http.post(USERS, {}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    for path in ("/", "/admin/", "/accounts/login/", "/identity/o/api/token", "/api/v1/accounts/"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
        assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage!",
        "cursor=dTE6",
        "cursor=" + "A" * 60,
        "cursor=%00",
        "limit=0",
        "limit=501",
        "limit=x",
        "limit=%00",
    ],
)
def test_bad_paging_parameters_are_400(client, machine, eu, acme_eu, query):
    token = token_for(client, eu)
    key, _, value = query.partition("=")
    response = machine(USERS, token, **{key: unquote(value)})
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"


def test_pages_are_cut_by_limit_and_follow_the_cursor(client, machine, eu, acme_eu):
    for n in range(4):
        membership_add(account=acme_eu, user=make_user(f"m{n}@acme.test"))
    token = token_for(client, eu)
    first = machine(USERS, token, limit=4).json()
    assert len(first["users"]) == 4
    second = machine(USERS, token, limit=4, cursor=first["next"]).json()
    assert len(second["users"]) == 2
    assert second["next"] is None
    ids = [u["id"] for u in first["users"] + second["users"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 6


def test_members_removed_or_added_between_pages_do_not_shift_the_others(client, machine, eu, acme_eu):
    from accounts.services import membership_remove

    for n in range(4):
        membership_add(account=acme_eu, user=make_user(f"m{n}@acme.test"))
    token = token_for(client, eu)
    everyone = {str(u) for u in Membership.objects.values_list("user__public_id", flat=True)}
    first = machine(USERS, token, limit=3).json()
    page_one = [u["id"] for u in first["users"]]
    # when a member already listed leaves and another joins before the next page
    listed = Membership.objects.filter(user__public_id__in=page_one).exclude(role=Membership.Role.OWNER)
    membership_remove(membership=listed.first())
    membership_add(account=acme_eu, user=make_user("late@acme.test"))
    rest = [u["id"] for u in machine(USERS, token, limit=10, cursor=first["next"]).json()["users"]]
    # then the next page is exactly who is there after the cursor: nobody repeated or skipped
    current = Membership.objects.exclude(status=Membership.Status.REMOVING).values_list(
        "user__public_id", flat=True
    )
    assert rest == sorted(str(u) for u in current if str(u) > page_one[-1])
    assert everyone - set(page_one) <= set(rest)


def test_listed_users_are_exactly_those_the_ledger_provisions_there(
    client, machine, us, eu, acme, alice, bob
):
    from regions.models import ProvisioningRecord

    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)
    carl = make_user("carl@acme.test")
    dora = make_user("dora@acme.test")
    membership_add(account=acme, user=carl, regions=[us])  # US only
    membership_add(account=acme, user=dora, regions=[eu])  # EU only
    membership_update(membership=Membership.objects.get(user=bob), status=Membership.Status.SUSPENDED)
    user_set_active(user=dora, active=False)
    token = token_for(client, eu)
    users = {u["id"]: u for u in machine(USERS, token).json()["users"]}
    provisioned = ProvisioningRecord.objects.filter(
        kind="user", tenant="acme", region=eu, desired__isnull=False
    ).values_list("object_key", "desired")
    assert {key: desired["active"] for key, desired in provisioned} == {
        k: u["active"] for k, u in users.items()
    }
    assert str(carl.public_id) not in users
    assert users[str(bob.public_id)]["active"] is False
    assert users[str(dora.public_id)]["active"] is False


def test_groups_name_only_members_provisioned_in_the_region(client, machine, us, eu, acme, alice, bob):
    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)
    carl = make_user("carl@acme.test")
    carl_m = membership_add(account=acme, user=carl, regions=[us])
    group = group_create(account=acme, actor=None, name="Ops")
    group_members_add(group=group, actor=None, memberships=[Membership.objects.get(user=bob), carl_m])
    empty = group_create(account=acme, actor=None, name="Empty")
    eu_token, us_token = token_for(client, eu), token_for(client, us)
    eu_groups = machine("/directory/v1/tenants/acme/groups", eu_token).json()["groups"]
    us_groups = machine("/directory/v1/tenants/acme/groups", us_token).json()["groups"]
    assert eu_groups == [
        {"id": str(empty.public_id), "name": "Empty", "members": []},
        {"id": str(group.public_id), "name": "Ops", "members": [str(bob.public_id)]},
    ]
    us_ops = next(g for g in us_groups if g["name"] == "Ops")
    assert sorted(us_ops["members"]) == sorted([str(bob.public_id), str(carl.public_id)])
    users = {u["email"]: u for u in machine(USERS, eu_token).json()["users"]}
    assert users["bob@acme.test"]["groups"] == [str(group.public_id)]


def test_the_tenant_lists_its_regions_and_entitlements_everywhere(client, machine, us, eu, acme_eu, globex):
    backup = Product.objects.create(code="backup", name="Backup & Recovery")
    posture = Product.objects.create(code="posture", name="Security Posture")
    Entitlement.objects.create(account=acme_eu, product=backup, region=eu, status="active")
    Entitlement.objects.create(account=acme_eu, product=posture, region=eu, status="expired")
    Entitlement.objects.create(account=globex, product=backup, region=eu, status="trial")
    body = machine("/directory/v1/tenants/acme", token_for(client, eu)).json()
    assert body == {
        "tenant": "acme",
        "name": "Acme",
        "regions": [{"code": "eu", "name": "EU", "people_url": "http://127.0.0.1:8102"}],
        "products": [
            {"code": "backup", "name": "Backup & Recovery", "status": "active", "region": "eu"},
            {"code": "posture", "name": "Security Posture", "status": "expired", "region": "eu"},
        ],
    }


def test_the_catalog_lists_every_product_and_region(client, machine, us, eu):
    backup = Product.objects.create(code="backup", name="Backup & Recovery", tagline="Safe", icon="💾")
    Product.objects.create(code="insights", name="Data Insights", coming_soon=True)
    ProductRegion.objects.create(product=backup, region=us)
    ProductRegion.objects.create(product=backup, region=eu)
    body = machine("/directory/v1/catalog", token_for(client, eu)).json()
    assert body["portal_url"] == settings.ATRIUM_ISSUER
    assert [r["code"] for r in body["regions"]] == ["eu", "us"]
    assert body["products"] == [
        {"code": "backup", "name": "Backup & Recovery", "tagline": "Safe", "icon": "💾", "coming_soon": False,
         "regions": ["eu", "us"]},
        {"code": "insights", "name": "Data Insights", "tagline": "", "icon": "", "coming_soon": True, "regions": []},
    ]  # fmt: skip


# --- bounded queries ------------------------------------------------------------------------
def _grow(account, n: int, groups: int = 3) -> None:
    made = [group_create(account=account, actor=None, name=f"G{g}") for g in range(groups)]
    for i in range(n):
        m = membership_add(account=account, user=make_user(f"p{i}@acme.test", "P", str(i)))
        group_members_add(group=made[i % groups], actor=None, memberships=[m])


# Per request: the token's region, the token's row, the tenant, then the selector's own queries.
USERS_QUERIES = 3 + 2
GROUPS_QUERIES = 3 + 2
TENANT_QUERIES = 3 + 2
CATALOG_QUERIES = 2 + 3


@pytest.mark.parametrize("members", [1, 50])
def test_users_and_groups_take_the_same_queries_for_1_and_50_members(
    client, machine, eu, acme_eu, django_assert_num_queries, members
):
    _grow(acme_eu, members - 1 if members > 1 else 0)
    token = token_for(client, eu)
    with django_assert_num_queries(USERS_QUERIES):
        body = machine(USERS, token, limit=500).json()
    assert len(body["users"]) == members + 1  # alice and bob were there already
    with django_assert_num_queries(GROUPS_QUERIES):
        machine("/directory/v1/tenants/acme/groups", token)


@pytest.mark.parametrize("entitlements", [1, 3])
def test_tenant_and_catalog_queries_are_fixed(
    client, machine, us, eu, acme_eu, django_assert_num_queries, entitlements
):
    for i in range(entitlements):
        product = Product.objects.create(code=f"p{i}", name=f"P{i}")
        ProductRegion.objects.create(product=product, region=eu)
        ProductRegion.objects.create(product=product, region=us)
        Entitlement.objects.create(account=acme_eu, product=product, region=eu, status="active")
    token = token_for(client, eu)
    with django_assert_num_queries(TENANT_QUERIES):
        assert len(machine("/directory/v1/tenants/acme", token).json()["products"]) == entitlements
    with django_assert_num_queries(CATALOG_QUERIES):
        assert len(machine("/directory/v1/catalog", token).json()["products"]) == entitlements
