"""SCIM conformance over a real region's mutual-TLS machine port, with Atrium's provisioner token
(RFC 7643 / RFC 7644, one representative check per section; the full per-section suite runs in
regional_server/atrium_kit/tests/test_scim_*.py against the same code in-process)."""

import uuid

import pytest

from regions import client as region_client
from tests.e2e.conftest import machine_http

pytestmark = pytest.mark.e2e

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
def us(regions, region_processes):
    return region_processes["us"]


@pytest.fixture
def scim(us):
    token = region_client.m2m_token(audience=us.machine_url, scope="scim", fresh=True)
    with machine_http(us, headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM}) as http:
        yield http


def error_of(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type
    return body


def new_user(scim, tenant: str, user_name: str, **attrs) -> dict:
    response = scim.post(f"/scim/v2/{tenant}/Users", json={"schemas": [USER], "userName": user_name, **attrs})
    assert response.status_code == 201, response.text
    return response.json()


def patch(scim, path: str, *operations):
    return scim.patch(path, json={"schemas": [PATCH_OP], "Operations": list(operations)})


# --- RFC 7644 §4 / RFC 7643 §5-7: discovery ------------------------------------------------------
def test_rfc7644_4_discovery_documents(scim, us):
    base = f"{us.machine_url}/scim/v2/acme"
    config = scim.get("/scim/v2/acme/ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["meta"]["location"] == f"{base}/ServiceProviderConfig"
    types_ = scim.get("/scim/v2/acme/ResourceTypes").json()
    assert types_["schemas"] == [LIST] and types_["totalResults"] == 2
    assert scim.get("/scim/v2/acme/ResourceTypes/Group").json()["endpoint"] == "/Groups"
    schema = scim.get(f"/scim/v2/acme/Schemas/{USER}").json()
    assert schema["meta"]["location"] == f"{base}/Schemas/{USER}"
    error_of(scim.get("/scim/v2/acme/ResourceTypes/Printer"), 404)


# --- RFC 7644 §3.12: errors -----------------------------------------------------------------------
def test_rfc7644_3_12_errors_are_scim_bodies(scim):
    error_of(scim.get("/scim/v2/acme/Nothing"), 404)
    error_of(scim.post("/scim/v2/acme/Bulk", json={}), 501)
    error_of(scim.get("/scim/v2/acme/Me"), 501)
    error_of(scim.post("/scim/v2/acme/.search", json={"schemas": [SEARCH]}), 501)
    error_of(scim.post("/scim/v2/acme/Users", content=b"{nope"), 400, "invalidSyntax")
    new_user(scim, "acme", "a@acme.test")
    error_of(
        scim.post("/scim/v2/acme/Users", json={"schemas": [USER], "userName": "A@acme.test"}),
        409,
        "uniqueness",
    )


# --- RFC 7644 §3.3: create; a refused write creates no tenant -------------------------------------
def test_rfc7644_3_3_a_rejected_create_creates_no_tenant(scim):
    error_of(scim.post("/scim/v2/newco/Users", json={"schemas": [USER], "userName": None}), 400)
    error_of(scim.post("/scim/v2/newco/Groups", json={"schemas": [GROUP], "displayName": "G",
                                                      "members": [{"value": "1"}]}), 400)  # fmt: skip
    # nothing exists there: a list is empty, and discovery still answers
    assert scim.get("/scim/v2/newco/Users").json()["totalResults"] == 0
    created = new_user(scim, "newco", "first@newco.test")  # the first good write creates it
    assert scim.get(f"/scim/v2/newco/Users/{created['id']}").status_code == 200


def test_rfc7643_3_1_external_id_is_optional(scim):
    user = new_user(scim, "acme", "noext@acme.test")
    assert "externalId" not in user


# --- RFC 7644 §3.4.2.2: filters, tenant-safe ------------------------------------------------------
def test_rfc7644_3_4_2_2_filters_and_an_or_that_cannot_escape_the_tenant(scim):
    new_user(scim, "acme", "ann@acme.test", externalId="e-1", active=True)
    new_user(scim, "acme", "bob@acme.test", active=False)
    new_user(scim, "globex", "gina@globex.test")
    found = scim.get(
        "/scim/v2/acme/Users",
        params={"filter": '(userName sw "ann" or userName sw "bob") and active eq false'},
    )
    assert [u["userName"] for u in found.json()["Resources"]] == ["bob@acme.test"]
    escaped = scim.get("/scim/v2/globex/Users", params={"filter": 'userName eq "x" or userName pr'}).json()
    assert [u["userName"] for u in escaped["Resources"]] == ["gina@globex.test"]
    error_of(scim.get("/scim/v2/acme/Users", params={"filter": 'userName zz "x"'}), 400, "invalidFilter")


# --- RFC 7644 §3.4.3 and §3.9: .search, attributes ------------------------------------------------
def test_rfc7644_3_4_3_search_with_attributes(scim):
    ann = new_user(scim, "acme", "ann@acme.test", name={"givenName": "Ann"})
    response = scim.post("/scim/v2/acme/Users/.search",
                         json={"schemas": [SEARCH], "filter": 'name.givenName eq "ann"', "attributes": ["userName"]})  # fmt: skip
    assert response.json()["Resources"] == [{"schemas": [USER], "id": ann["id"], "userName": "ann@acme.test"}]
    bad = scim.post("/scim/v2/acme/Users/.search", json={"schemas": [SEARCH], "filter": 42})
    error_of(bad, 400, "invalidFilter")
    got = scim.get(f"/scim/v2/acme/Users/{ann['id']}", params={"excludedAttributes": "name,meta"}).json()
    assert "name" not in got and "meta" not in got and got["id"] == ann["id"]


# --- RFC 7644 §3.5.2: PATCH --------------------------------------------------------------------------
def test_rfc7644_3_5_2_patch_add_replace_remove_and_validation(scim):
    ann = new_user(scim, "acme", "ann@acme.test", displayName="Annie", externalId="e-ann")
    path = f"/scim/v2/acme/Users/{ann['id']}"
    body = patch(scim, path, {"op": "add", "path": "emails", "value": [{"value": "ann@acme.test", "type": "work"}]},
                 {"op": "replace", "path": "name.givenName", "value": "Ann"},
                 {"op": "remove", "path": "displayName"}).json()  # fmt: skip
    assert body["emails"] == [{"value": "ann@acme.test", "type": "work"}]
    assert body["name"] == {"givenName": "Ann"} and "displayName" not in body
    error_of(patch(scim, path, {"op": "replace", "path": "userName", "value": None}), 400, "invalidValue")
    error_of(
        patch(scim, path, {"op": "add", "path": "emails", "value": [{"value": ["x"]}]}), 400, "invalidValue"
    )
    error_of(scim.patch(path, json={"schemas": [USER], "Operations": []}), 400, "invalidSyntax")
    error_of(patch(scim, path, {"op": "remove"}), 400, "noTarget")


# --- RFC 7643 §4.2: Groups ------------------------------------------------------------------------------
def test_rfc7643_4_2_groups_crud_and_member_patches(scim, us):
    ids = [new_user(scim, "acme", f"u{n}@acme.test")["id"] for n in range(3)]
    created = scim.post("/scim/v2/acme/Groups", json={"schemas": [GROUP], "externalId": "g-1", "displayName": "Team",
                                                      "members": [{"value": ids[0]}]})  # fmt: skip
    assert created.status_code == 201, created.text
    group = created.json()
    path = f"/scim/v2/acme/Groups/{group['id']}"
    assert group["members"][0] == {"value": ids[0], "display": "u0@acme.test",
                                   "$ref": f"{us.machine_url}/scim/v2/acme/Users/{ids[0]}", "type": "User"}  # fmt: skip
    found = scim.get("/scim/v2/acme/Groups", params={"filter": 'externalId eq "g-1"'}).json()
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    body = patch(scim, path, {"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]},
                 {"op": "remove", "path": f'members[value eq "{ids[0]}"]'}).json()  # fmt: skip
    assert sorted(m["value"] for m in body["members"]) == sorted(ids[1:])
    user = scim.get(f"/scim/v2/acme/Users/{ids[1]}").json()
    assert user["groups"] == [
        {"value": group["id"], "display": "Team", "$ref": group["meta"]["location"], "type": "direct"}
    ]
    assert "members" not in patch(scim, path, {"op": "remove", "path": "members"}).json()
    replaced = scim.put(
        path, json={"schemas": [GROUP], "displayName": "Team", "members": [{"value": ids[2]}]}
    ).json()
    assert [m["value"] for m in replaced["members"]] == [ids[2]]
    assert scim.delete(f"/scim/v2/acme/Users/{ids[2]}").status_code == 204
    assert "members" not in scim.get(path).json()
    assert scim.delete(path).status_code == 204
    error_of(scim.get(path), 404)


def test_rfc7643_4_2_a_member_from_another_tenant_is_refused_with_400(scim):
    acme_user = new_user(scim, "acme", "a@acme.test")["id"]
    gina = new_user(scim, "globex", "gina@globex.test")["id"]
    refused = scim.post("/scim/v2/acme/Groups", json={"schemas": [GROUP], "displayName": "Mixed",
                                                      "members": [{"value": acme_user}, {"value": gina}]})  # fmt: skip
    error_of(refused, 400, "invalidValue")
    assert scim.get("/scim/v2/acme/Groups").json()["totalResults"] == 0
    group = scim.post("/scim/v2/acme/Groups", json={"schemas": [GROUP], "displayName": "Team"}).json()
    error_of(patch(scim, f"/scim/v2/acme/Groups/{group['id']}",
                   {"op": "add", "path": "members", "value": [{"value": gina}]}), 400, "invalidValue")  # fmt: skip
    assert "members" not in scim.get(f"/scim/v2/acme/Groups/{group['id']}").json()
    assert "groups" not in scim.get(f"/scim/v2/globex/Users/{gina}").json()


def test_the_portal_client_pushes_a_group_through_regions_client(scim, us):
    """regions/client.py's group calls (upsert by externalId, PATCH by difference) against the real port."""
    ids = [new_user(scim, "acme", f"m{n}@acme.test", externalId=str(uuid.uuid4()))["id"] for n in range(2)]
    resource = {
        "schemas": [GROUP],
        "externalId": str(uuid.uuid4()),
        "displayName": "Ops",
        "members": [{"value": ids[0]}],
    }
    remote = region_client.scim_group_upsert(machine_url=us.machine_url, tenant="acme", resource=resource)
    assert region_client.scim_group_patch(
        machine_url=us.machine_url, tenant="acme", remote_id=remote.remote_id,
        add_members=[ids[1]], remove_members=[ids[0]], display_name="Ops 2",
    )  # fmt: skip
    now = scim.get(f"/scim/v2/acme/Groups/{remote.remote_id}").json()
    assert now["displayName"] == "Ops 2" and [m["value"] for m in now["members"]] == [ids[1]]
    again = region_client.scim_group_upsert(machine_url=us.machine_url, tenant="acme", resource=resource)
    assert again.remote_id == remote.remote_id
    assert region_client.scim_group_find(machine_url=us.machine_url, tenant="acme",
                                         external_id=resource["externalId"]).remote_id == remote.remote_id  # fmt: skip
