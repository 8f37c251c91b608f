"""Atrium's machine port, for real: the portal under gunicorn with ATRIUM_LISTENER=machine and
mutual TLS, a region's own client certificate, and a real token from Atrium's token endpoint
(client credentials with the region's login client, scope directory:read, resource = Atrium's
machine URL). A region reads only tenants that use it; every refusal is JSON."""

import ssl
import time
import uuid

import httpx
import jwt
import pytest
from allauth.core.internal import jwkkit
from django.conf import settings

from accounts.groups import group_create, group_members_add
from accounts.models import Membership
from accounts.services import membership_add, membership_update
from conftest import make_user
from products.models import Entitlement, Product, ProductRegion
from tests.e2e.conftest import M2M_SECRET, account_uses, directory_token

pytestmark = pytest.mark.e2e


@pytest.fixture
def tokens(live_server, region_processes, regions):
    """Each region's real directory token, from the live server's token endpoint."""
    issued = {}
    for code, proc in region_processes.items():
        response = directory_token(live_server.url, code, proc.secret)
        assert response.status_code == 200, response.text
        issued[code] = response.json()["access_token"]
    return issued


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signed(claims: dict, pem: str) -> str:
    """A token signed with Atrium's own key (only Atrium could mint it)."""
    jwk_dict, private_key = jwkkit.load_jwk_from_pem(pem)
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": jwk_dict["kid"]})


def machine_claims(**overrides) -> dict:
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
    }
    return {**claims, **overrides}


@pytest.fixture
def acme_in_eu(regions, acme, alice, bob):
    account_uses(acme, [regions["eu"]])
    return acme


def test_a_region_reads_users_groups_tenant_and_catalog_of_a_tenant_using_it(
    atrium_machine, tokens, regions, acme_in_eu, alice, bob
):
    # given acme (in EU) has a group with bob, and backup active in EU
    operators = group_create(account=acme_in_eu, actor=None, name="Backup operators")
    group_members_add(group=operators, actor=None, memberships=[Membership.objects.get(user=bob)])
    backup = Product.objects.create(code="backup", name="Backup & Recovery", tagline="Keep it", icon="💾")
    ProductRegion.objects.create(product=backup, region=regions["eu"])
    Entitlement.objects.create(account=acme_in_eu, product=backup, region=regions["eu"], status="active")

    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        # when EU's service reads acme's directory over mTLS
        users = http.get("/directory/v1/tenants/acme/users")
        groups = http.get("/directory/v1/tenants/acme/groups")
        tenant = http.get("/directory/v1/tenants/acme")
        catalog = http.get("/directory/v1/catalog")

    # then it gets exactly contract A's shapes
    assert users.status_code == 200, users.text
    by_email = {u["email"]: u for u in users.json()["users"]}
    assert set(by_email) == {"alice@acme.test", "bob@acme.test"}
    assert by_email["bob@acme.test"] == {
        "id": str(bob.public_id),
        "email": "bob@acme.test",
        "display_name": "Bob Brown",
        "role": "member",
        "active": True,
        "groups": [str(operators.public_id)],
    }
    assert users.json()["next"] is None
    assert groups.json() == {
        "groups": [
            {"id": str(operators.public_id), "name": "Backup operators", "members": [str(bob.public_id)]}
        ]
    }
    assert tenant.json() == {
        "tenant": "acme",
        "name": "Acme",
        "regions": [{"code": "eu", "name": "European Union", "people_url": regions["eu"].people_url}],
        "products": [{"code": "backup", "name": "Backup & Recovery", "status": "active", "region": "eu"}],
    }
    assert catalog.json()["portal_url"] == settings.ATRIUM_ISSUER
    assert {r["code"] for r in catalog.json()["regions"]} == {"us", "eu"}
    assert catalog.json()["products"] == [
        {"code": "backup", "name": "Backup & Recovery", "tagline": "Keep it", "icon": "💾",
         "coming_soon": False, "regions": ["eu"]}
    ]  # fmt: skip


def test_a_region_cannot_read_a_tenant_that_does_not_use_it(
    atrium_machine, tokens, regions, acme_in_eu, globex
):
    # acme uses EU only; globex uses no region at all
    with atrium_machine.http("us", headers=bearer(tokens["us"])) as http:
        for path in ("", "/users", "/groups"):
            response = http.get(f"/directory/v1/tenants/acme{path}")
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "not_found"
    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        # a tenant that exists but uses no region answers exactly like one that does not exist
        unknown = http.get("/directory/v1/tenants/nobody/users")
        unused = http.get("/directory/v1/tenants/globex/users")
    assert unknown.status_code == unused.status_code == 404
    assert unknown.json() == unused.json()


def test_a_regions_token_over_another_regions_client_certificate_is_403(
    atrium_machine, tokens, regions, acme_in_eu
):
    # a token copied off US's host is no use over EU's certificate (nor the other way round)
    with atrium_machine.http("eu", headers=bearer(tokens["us"])) as http:
        response = http.get("/directory/v1/tenants/acme/users")
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
    with atrium_machine.http("us", headers=bearer(tokens["eu"])) as http:
        assert http.get("/directory/v1/tenants/acme/users").status_code == 403


def test_without_a_client_certificate_the_handshake_fails(atrium_machine, tokens):
    with atrium_machine.http(None, headers=bearer(tokens["eu"])) as http, pytest.raises(httpx.TransportError):
        http.get("/directory/v1/catalog")


def test_a_client_certificate_of_another_ca_fails_the_handshake(atrium_machine, tokens, tmp_path):
    import trustme

    foreign = trustme.CA()
    cert = foreign.issue_cert("region-eu-client")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "foreign.pem"))
    context = ssl.create_default_context(cafile=str(atrium_machine.pki.ca_cert))
    context.load_cert_chain(str(tmp_path / "foreign.pem"))
    with (
        httpx.Client(base_url=atrium_machine.url, verify=context, timeout=10) as http,
        pytest.raises(httpx.TransportError),
    ):
        http.get("/directory/v1/catalog", headers=bearer(tokens["eu"]))


def test_a_token_for_a_regions_machine_url_is_401(
    atrium_machine, live_server, region_processes, regions, provisioner_token
):
    # the provisioner's real token for EU's machine port: aud is EU, not Atrium
    with atrium_machine.http("eu", headers=bearer(provisioner_token)) as http:
        response = http.get("/directory/v1/catalog")
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.fixture
def provisioner_token(live_server, regions):
    response = httpx.post(
        f"{live_server.url}/identity/o/api/token",
        data={"grant_type": "client_credentials", "scope": "scim", "resource": regions["eu"].machine_url},
        auth=(settings.ATRIUM_M2M_CLIENT_ID, M2M_SECRET),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_the_token_endpoint_refuses_the_machine_audience_to_the_provisioner(live_server, regions):
    for scope in ("directory:read", "scim"):
        response = httpx.post(
            f"{live_server.url}/identity/o/api/token",
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "resource": settings.ATRIUM_MACHINE_URL,
            },
            auth=(settings.ATRIUM_M2M_CLIENT_ID, M2M_SECRET),
            timeout=10,
        )
        assert response.status_code >= 400, response.text
        assert "access_token" not in response.json()


def test_a_provisioner_token_for_atriums_machine_url_is_403(atrium_machine, regions, oidc_signing_key):
    # only Atrium could mint it (the token endpoint refuses it, above): the client is no region
    token = signed(machine_claims(client_id=settings.ATRIUM_M2M_CLIENT_ID), oidc_signing_key)
    with atrium_machine.http("eu", headers=bearer(token)) as http:
        response = http.get("/directory/v1/catalog")
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"


def test_an_expired_token_is_401(atrium_machine, regions, oidc_signing_key):
    past = int(time.time()) - 3600
    token = signed(machine_claims(iat=past - 300, exp=past), oidc_signing_key)
    with atrium_machine.http("eu", headers=bearer(token)) as http:
        response = http.get("/directory/v1/catalog")
    assert response.status_code == 401, response.text
    assert "expired" in response.json()["detail"]


def test_a_scim_only_token_is_403(atrium_machine, regions, oidc_signing_key):
    token = signed(machine_claims(scope="scim"), oidc_signing_key)
    with atrium_machine.http("eu", headers=bearer(token)) as http:
        response = http.get("/directory/v1/catalog")
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"


def test_a_real_region_token_without_directory_scope_is_403(
    atrium_machine, live_server, region_processes, regions
):
    response = directory_token(live_server.url, "eu", region_processes["eu"].secret, scope="openid")
    assert response.status_code == 200, response.text
    with atrium_machine.http("eu", headers=bearer(response.json()["access_token"])) as http:
        assert http.get("/directory/v1/catalog").status_code == 403


def test_no_token_is_401_and_a_malformed_cursor_is_400(atrium_machine, tokens, acme_in_eu):
    with atrium_machine.http("eu") as http:
        missing = http.get("/directory/v1/catalog")
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_token"
    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        for cursor in ("not-a-cursor", "%00", "dTE6"):
            response = http.get(f"/directory/v1/tenants/acme/users?cursor={cursor}")
            assert response.status_code == 400, (cursor, response.text)
            assert response.json()["error"] == "invalid_request"
        assert http.get("/directory/v1/tenants/acme/users?limit=0").status_code == 400
        assert http.get("/directory/v1/tenants/acme/users?limit=501").status_code == 400
        # the rest of the portal does not exist on this port; answers stay JSON
        other = http.get("/admin/")
    assert other.status_code == 404
    assert other.json()["error"] == "not_found"


def test_pages_follow_the_cursor_to_every_member_once_even_while_members_join(
    atrium_machine, tokens, regions, acme_in_eu
):
    for n in range(5):
        membership_add(account=acme_in_eu, user=make_user(f"user{n}@acme.test"), role=Membership.Role.MEMBER)
    expected = set(Membership.objects.filter(account=acme_in_eu).values_list("user__public_id", flat=True))
    seen, cursor, pages = [], None, 0
    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = http.get("/directory/v1/tenants/acme/users", params=params).json()
            seen += [uuid.UUID(u["id"]) for u in body["users"]]
            pages += 1
            if pages == 1:
                # a member joining mid-listing: never repeats or hides anyone already there
                joined = make_user("late@acme.test")
                membership_add(account=acme_in_eu, user=joined, role=Membership.Role.MEMBER)
            cursor = body["next"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen))
    assert expected <= set(seen)
    assert pages >= 4


def test_suspended_members_are_listed_inactive_and_region_less_members_not_at_all(
    atrium_machine, tokens, regions, acme_in_eu, alice, bob
):
    # dave may use only regions of his choosing, none so far: he is provisioned nowhere
    membership_add(account=acme_in_eu, user=make_user("dave@acme.test"), regions=[])
    membership_update(membership=Membership.objects.get(user=bob), status=Membership.Status.SUSPENDED)
    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        users = {u["email"]: u for u in http.get("/directory/v1/tenants/acme/users").json()["users"]}
    assert users["bob@acme.test"]["active"] is False
    assert users["alice@acme.test"]["active"] is True
    assert "dave@acme.test" not in users


def test_the_listener_answers_healthz_and_serves_no_session_cookie(atrium_machine, tokens):
    with atrium_machine.http("eu", headers=bearer(tokens["eu"])) as http:
        health = http.get("/healthz")
        catalog = http.get("/directory/v1/catalog")
    assert health.json() == {"status": "ok"}
    assert catalog.status_code == 200
    assert "set-cookie" not in catalog.headers
