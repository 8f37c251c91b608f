"""The regions' machine port: mutual TLS, Atrium's machine tokens, SCIM per tenant."""

import io
import time
import uuid

import httpx
import jwt
import pytest
import trustme
from allauth.core.internal import jwkkit
from django.conf import settings
from django.core.management import call_command

from regions import client as region_client
from tests.e2e.conftest import machine_http

pytestmark = pytest.mark.e2e

SCIM = "application/scim+json"


def user_resource(email: str, external_id: str | None = None, **extra) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": external_id or str(uuid.uuid4()),
        "userName": email,
        "name": {"givenName": "Test", "familyName": "Person"},
        "emails": [{"value": email, "primary": True}],
        "active": True,
        **extra,
    }


@pytest.fixture
def eu(regions, region_processes):
    return region_processes["eu"]


@pytest.fixture
def scim(eu):
    """An authenticated SCIM session on EU's machine port, as the worker has."""
    token = region_client.m2m_token(audience=eu.machine_url, scope="scim", fresh=True)
    with machine_http(eu, headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM}) as http:
        yield http


def signed_token(**claims) -> str:
    """A token signed with Atrium's own key, for claims the token endpoint would never issue."""
    jwk, key = jwkkit.load_jwk_from_pem(settings.IDP_OIDC_PRIVATE_KEY)
    now = int(time.time())
    payload = {"iss": settings.ATRIUM_ISSUER, "iat": now, "exp": now + 300, "scope": "scim", **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": jwk["kid"]})


# --- mutual TLS ------------------------------------------------------------------------------
def test_without_a_client_certificate_the_handshake_fails(eu, pki):
    import ssl

    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    with pytest.raises(httpx.TransportError), httpx.Client(verify=context, timeout=5) as http:
        http.get(eu.machine_url + "/scim/v2/acme/Users")


def test_a_client_certificate_from_another_ca_fails(eu, pki, tmp_path):
    import ssl

    rogue_ca = trustme.CA()
    rogue_cert = rogue_ca.issue_cert("atrium")
    rogue_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "rogue.pem"))
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(tmp_path / "rogue.pem"))
    with pytest.raises(httpx.TransportError), httpx.Client(verify=context, timeout=5) as http:
        http.get(eu.machine_url + "/scim/v2/acme/Users")


# --- machine tokens --------------------------------------------------------------------------
def test_no_token_is_401_in_scim_error_format(eu):
    with machine_http(eu) as http:
        response = http.get("/scim/v2/acme/Users")
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith(SCIM)
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert response.json()["status"] == "401"


def test_a_token_for_another_region_is_401(eu, region_processes):
    us_token = region_client.m2m_token(audience=region_processes["us"].machine_url, scope="scim", fresh=True)
    with machine_http(eu, headers={"Authorization": f"Bearer {us_token}"}) as http:
        response = http.get("/scim/v2/acme/Users")
    assert response.status_code == 401
    assert "audience" in response.json()["detail"].lower()


def test_an_expired_token_is_401(eu):
    token = signed_token(aud=eu.machine_url, exp=int(time.time()) - 600, iat=int(time.time()) - 900)
    with machine_http(eu, headers={"Authorization": f"Bearer {token}"}) as http:
        response = http.get("/scim/v2/acme/Users")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def test_a_token_signed_by_another_key_is_401(eu):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.encode(
        {"iss": settings.ATRIUM_ISSUER, "aud": eu.machine_url, "iat": now, "exp": now + 60, "scope": "scim"},
        other, algorithm="RS256", headers={"kid": "not-atriums"},
    )  # fmt: skip
    with machine_http(eu, headers={"Authorization": f"Bearer {token}"}) as http:
        assert http.get("/scim/v2/acme/Users").status_code == 401


def test_a_valid_token_without_scope_scim_is_403(eu):
    token = region_client.m2m_token(audience=eu.machine_url, scope="tenant", fresh=True)
    with machine_http(eu, headers={"Authorization": f"Bearer {token}"}) as http:
        response = http.get("/scim/v2/acme/Users")
    assert response.status_code == 403
    assert response.json()["status"] == "403"


def test_a_customer_client_cannot_obtain_a_region_audience(client, eu):
    import base64

    from allauth.idp.oidc.models import Client

    customer = Client(id="customer-app", name="Customer")
    customer.set_secret("s3cret")
    customer.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    customer.set_scopes(["scim"])
    customer.save()
    response = client.post(
        "/identity/o/api/token",
        {"grant_type": "client_credentials", "scope": "scim", "resource": eu.machine_url},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"customer-app:s3cret").decode(),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_the_basic_header_trick_gets_no_token(client, eu):
    """Another client's id in a Basic header with an empty secret, own credentials in the body."""
    import base64

    from allauth.idp.oidc.models import Client

    customer = Client(id="customer-app", name="Customer")
    customer.set_secret("s3cret")
    customer.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    customer.set_scopes(["scim"])
    customer.save()
    response = client.post(
        "/identity/o/api/token",
        {"grant_type": "client_credentials", "scope": "scim", "resource": eu.machine_url,
         "client_id": "customer-app", "client_secret": "s3cret"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{settings.ATRIUM_M2M_CLIENT_ID}:".encode()).decode(),
    )  # fmt: skip
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def test_a_region_login_clients_access_token_is_refused_by_the_machine_port(client, alice, eu):
    from accounts.tests.oidc_helpers import code_flow_tokens, unverified_claims

    login_client_id = f"region-{eu.code}"
    redirect_uri = f"{eu.people_url}/oidc/callback/"
    tokens = code_flow_tokens(client, alice, login_client_id, eu.secret, redirect_uri)
    assert tokens.status_code == 200, tokens.content
    access = tokens.json()["access_token"]
    assert "aud" not in unverified_claims(access)
    with machine_http(eu, headers={"Authorization": f"Bearer {access}"}) as http:
        assert http.get("/scim/v2/acme/Users").status_code == 401
    # and asking for the machine URL at the code exchange gets no token at all
    refused = code_flow_tokens(
        client, alice, login_client_id, eu.secret, redirect_uri, resource=eu.machine_url
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_target"


def test_m2m_token_command_prints_the_token_alone_on_its_last_line(eu):
    out = io.StringIO()
    call_command("m2m_token", region="eu", scope="scim", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] in (eu.machine_url, [eu.machine_url])
    assert claims["scope"] == "scim"


def test_m2m_token_command_names_an_unknown_region(regions):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown region 'mars'"):
        call_command("m2m_token", region="mars", scope="scim", stdout=io.StringIO())


# --- SCIM per tenant -------------------------------------------------------------------------
def test_users_create_get_list_filter_replace_patch_delete(scim, eu):
    # create: the first write creates the tenant
    created = scim.post("/scim/v2/acme/Users", json=user_resource("erin@acme.test"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"{eu.machine_url}/scim/v2/acme/Users/{body['id']}"
    assert body["meta"]["location"] == created.headers["Location"]
    # get
    assert scim.get(f"/scim/v2/acme/Users/{body['id']}").json()["userName"] == "erin@acme.test"
    # filters
    by_name = scim.get("/scim/v2/acme/Users", params={"filter": 'userName eq "erin@acme.test"'}).json()
    by_external = scim.get(
        "/scim/v2/acme/Users", params={"filter": f'externalId eq "{body["externalId"]}"'}
    ).json()
    assert by_name["totalResults"] == by_external["totalResults"] == 1
    # replace
    replaced = scim.put(
        f"/scim/v2/acme/Users/{body['id']}",
        json=user_resource("erin@acme.test", body["externalId"], name={"givenName": "E", "familyName": "X"}),
    )
    assert replaced.status_code == 200 and replaced.json()["name"]["familyName"] == "X"
    # patch active
    patched = scim.patch(
        f"/scim/v2/acme/Users/{body['id']}",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["active"] is False
    # delete
    assert scim.delete(f"/scim/v2/acme/Users/{body['id']}").status_code == 204
    assert scim.get(f"/scim/v2/acme/Users/{body['id']}").status_code == 404


def test_listing_pages_through_users(scim):
    for n in range(5):
        assert scim.post("/scim/v2/acme/Users", json=user_resource(f"p{n}@acme.test")).status_code == 201
    first = scim.get("/scim/v2/acme/Users", params={"startIndex": 1, "count": 2}).json()
    last = scim.get("/scim/v2/acme/Users", params={"startIndex": 5, "count": 2}).json()
    assert first["totalResults"] == 5 and first["itemsPerPage"] == 2
    assert last["itemsPerPage"] == 1
    seen = {r["userName"] for r in first["Resources"]}
    assert len(seen) == 2


def test_discovery_documents_live_under_the_tenant(scim, eu):
    config = scim.get("/scim/v2/acme/ServiceProviderConfig").json()
    assert config["meta"]["location"] == f"{eu.machine_url}/scim/v2/acme/ServiceProviderConfig"
    assert config["patch"]["supported"] is True
    types_ = scim.get("/scim/v2/acme/ResourceTypes").json()["Resources"]
    user_type = next(t for t in types_ if t["id"] == "User")
    assert user_type["endpoint"] == "/Users"  # relative to the tenant's base URL (RFC 7643 §6)
    schemas = scim.get("/scim/v2/acme/Schemas").json()["Resources"]
    assert all(s["meta"]["location"].startswith(f"{eu.machine_url}/scim/v2/acme/Schemas/") for s in schemas)


def test_bad_input_gets_scim_errors_not_500(scim):
    missing = scim.post("/scim/v2/acme/Users", json={"schemas": [], "userName": "x@acme.test"})
    assert missing.status_code == 400
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    not_json = scim.post("/scim/v2/acme/Users", content=b"{nope")
    assert not_json.status_code == 400
    bad_filter = scim.get("/scim/v2/acme/Users", params={"filter": 'userName zz "x"'})
    assert bad_filter.status_code == 400
    for body in (
        [1, 2],
        user_resource("x@acme.test", emails=["x@acme.test"]),
        user_resource("x@acme.test", name="X"),
        user_resource("x@acme.test", active="yes"),
        user_resource("x" * 300 + "@acme.test"),
    ):
        response = scim.post("/scim/v2/acme/Users", json=body)
        assert response.status_code == 400, (body, response.text)
    created = scim.post("/scim/v2/acme/Users", json=user_resource("ok@acme.test")).json()
    assert scim.patch(f"/scim/v2/acme/Users/{created['id']}", json={"Operations": "x"}).status_code == 400
    # a negative count "SHALL be interpreted as 0" (RFC 7644 §3.4.2.4)
    negative = scim.get("/scim/v2/acme/Users", params={"count": "-1"})
    assert negative.status_code == 200 and negative.json()["itemsPerPage"] == 0
    # only ok@ was created
    assert scim.get("/scim/v2/acme/Users").json()["totalResults"] == 1
    assert scim.get("/scim/v2/Not_A_Slug/Users").status_code == 404


def test_another_tenants_path_cannot_read_or_change_acme_users(scim):
    acme_user = scim.post("/scim/v2/acme/Users", json=user_resource("bob@acme.test")).json()
    scim.post("/scim/v2/globex/Users", json=user_resource("carol@globex.test"))
    path = f"/scim/v2/globex/Users/{acme_user['id']}"
    assert scim.get(path).status_code == 404
    assert scim.put(path, json=user_resource("evil@globex.test", acme_user["externalId"])).status_code == 404
    assert (
        scim.patch(
            path, json={"Operations": [{"op": "replace", "path": "active", "value": False}]}
        ).status_code
        == 404
    )
    assert scim.delete(path).status_code == 404
    listed = scim.get("/scim/v2/globex/Users").json()
    assert [r["userName"] for r in listed["Resources"]] == ["carol@globex.test"]
    filtered = scim.get(
        "/scim/v2/globex/Users", params={"filter": f'externalId eq "{acme_user["externalId"]}"'}
    )
    assert filtered.json()["totalResults"] == 0
    # and Acme's user is untouched
    assert scim.get(f"/scim/v2/acme/Users/{acme_user['id']}").json()["active"] is True


def test_the_same_email_in_two_tenants_is_two_users(scim):
    a = scim.post("/scim/v2/acme/Users", json=user_resource("same@example.test"))
    b = scim.post("/scim/v2/globex/Users", json=user_resource("same@example.test"))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_the_same_create_sent_twice_makes_one_user(scim, eu):
    resource = user_resource("twice@acme.test")
    first = scim.post("/scim/v2/acme/Users", json=resource)
    second = scim.post("/scim/v2/acme/Users", json=resource)
    assert first.status_code == 201
    assert second.status_code == 409
    # and the worker's create-or-update converges on that one user
    again = region_client.scim_user_upsert(machine_url=eu.machine_url, tenant="acme", resource=resource)
    assert again.remote_id == first.json()["id"]
    listed = scim.get("/scim/v2/acme/Users", params={"filter": f'externalId eq "{resource["externalId"]}"'})
    assert listed.json()["totalResults"] == 1
