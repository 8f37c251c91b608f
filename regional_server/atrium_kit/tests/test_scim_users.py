# ruff: noqa: F811 - pytest fixtures imported from scim_support are redefined as parameters
"""RFC 7644 §3.3-3.6 and §3.9 for Users (RFC 7643 §4.1), through the machine URL configuration."""

import pytest

from atrium_kit.models import LoginSession, Tenant, User
from atrium_kit.tests.scim_support import (  # noqa: F401
    LIST,
    PATCH_OP,
    USER,
    acme,
    assert_scim_error,
    globex,
    machine_stack,
    user_body,
)

pytestmark = pytest.mark.django_db


def remove(path):
    return {"op": "remove", "path": path}


def replace(path, value):
    return {"op": "replace", "path": path, "value": value}


def add(path, value):
    return {"op": "add", "path": path, "value": value}


@pytest.fixture
def ann(acme):
    return acme.create_user(
        "Ann@Acme.test",
        externalId="ext-ann",
        name={"givenName": "Ann", "familyName": "Archer", "formatted": "Ann Archer"},
        displayName="Annie",
        emails=[
            {"value": "ann@acme.test", "type": "work", "primary": True},
            {"value": "ann@home.test", "type": "home"},
        ],
    )


# --- §3.3 create ---------------------------------------------------------------------------------
def test_rfc7644_3_3_create_answers_201_with_location_and_the_resource(acme):
    response = acme.post("Users", user_body("Zoe@Acme.test", externalId="z1"))
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/acme/Users/{body['id']}")
    assert body["schemas"] == [USER] and body["userName"] == "Zoe@Acme.test"  # case kept as sent
    assert body["meta"]["resourceType"] == "User" and body["active"] is True


def test_rfc7643_3_1_external_id_is_optional(acme):
    first = acme.post("Users", user_body("one@acme.test"))
    second = acme.post("Users", user_body("two@acme.test"))
    assert first.status_code == second.status_code == 201
    assert "externalId" not in first.json()


def test_rfc7644_3_3_user_name_is_unique_per_tenant_ignoring_case_409_uniqueness(acme, globex, ann):
    assert_scim_error(acme.post("Users", user_body("ANN@acme.TEST")), 409, "uniqueness")
    assert globex.post("Users", user_body("ann@acme.test")).status_code == 201


def test_rfc7644_3_3_external_id_is_unique_per_tenant_409_uniqueness(acme, globex, ann):
    assert_scim_error(
        acme.post("Users", user_body("other@acme.test", externalId="ext-ann")), 409, "uniqueness"
    )
    assert globex.post("Users", user_body("other@acme.test", externalId="ext-ann")).status_code == 201


def test_rfc7644_3_3_read_only_attributes_in_a_create_are_ignored(acme):
    body = acme.create_user("ro@acme.test", id="chosen", groups=[{"value": "x"}], meta={"created": "1999"})
    assert body["id"] != "chosen" and "groups" not in body and body["meta"]["created"] != "1999"


# --- §3.4.1 get ----------------------------------------------------------------------------------
def test_rfc7644_3_4_1_get_by_id_and_another_tenants_id_is_404(acme, globex, ann):
    assert acme.get(f"Users/{ann['id']}").json() == ann
    globex.create_user("g@globex.test")
    assert_scim_error(globex.get(f"Users/{ann['id']}"), 404)
    assert_scim_error(globex.put(f"Users/{ann['id']}", user_body("evil@globex.test")), 404)
    assert_scim_error(globex.patch(f"Users/{ann['id']}", replace("active", False)), 404)
    assert_scim_error(globex.delete(f"Users/{ann['id']}"), 404)
    assert acme.get(f"Users/{ann['id']}").json()["active"] is True


# --- §3.5.1 replace ------------------------------------------------------------------------------
def test_rfc7644_3_5_1_put_replaces_and_clears_attributes_left_out(acme, ann):
    response = acme.put(f"Users/{ann['id']}", user_body("ann@acme.test", name={"givenName": "A"}))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == {"givenName": "A"}
    for gone in ("displayName", "emails", "externalId"):
        assert gone not in body


def test_rfc7644_3_5_1_put_validates_like_post(acme, ann):
    assert_scim_error(
        acme.put(f"Users/{ann['id']}", {"schemas": [USER], "userName": None}), 400, "invalidValue"
    )
    assert_scim_error(acme.put(f"Users/{ann['id']}", {"userName": "x@acme.test"}), 400, "invalidSyntax")


# --- §3.5.2 PATCH --------------------------------------------------------------------------------
def test_rfc7644_3_5_2_1_add_with_path_appends_to_a_multi_valued_attribute(acme, ann):
    response = acme.patch(f"Users/{ann['id']}", add("emails", [{"value": "ann@other.test", "type": "other"}]))
    assert response.status_code == 200
    assert [e["value"] for e in response.json()["emails"]] == [
        "ann@acme.test",
        "ann@home.test",
        "ann@other.test",
    ]


def test_rfc7644_3_5_2_1_add_without_path_merges_the_value_object(acme):
    user = acme.create_user("bare@acme.test")
    response = acme.patch(
        f"Users/{user['id']}",
        {"op": "add", "value": {"displayName": "Bare", "name": {"familyName": "B"}, "externalId": "e-bare"}},
    )
    body = response.json()
    assert (body["displayName"], body["name"], body["externalId"]) == ("Bare", {"familyName": "B"}, "e-bare")


def test_rfc7644_3_5_2_1_add_sub_attribute_by_path(acme):
    user = acme.create_user("sub@acme.test")
    body = acme.patch(f"Users/{user['id']}", add("name.givenName", "Sue")).json()
    assert body["name"] == {"givenName": "Sue"}


@pytest.mark.parametrize(
    ("path", "gone"),
    [
        ("displayName", lambda b: "displayName" not in b),
        ("externalId", lambda b: "externalId" not in b),
        ("name.familyName", lambda b: "familyName" not in b["name"]),
        ("name.formatted", lambda b: "formatted" not in b["name"]),
        ("name", lambda b: "name" not in b),
        ("emails", lambda b: "emails" not in b),
        ('emails[type eq "home"]', lambda b: [e["value"] for e in b["emails"]] == ["ann@acme.test"]),
        ('emails[type eq "work"].type', lambda b: "type" not in b["emails"][0]),
    ],
)
def test_rfc7644_3_5_2_2_remove_optional_attribute_by_path(acme, ann, path, gone):
    response = acme.patch(f"Users/{ann['id']}", remove(path))
    assert response.status_code == 200, response.content
    assert gone(response.json())
    assert gone(acme.get(f"Users/{ann['id']}").json())


def test_rfc7644_3_5_2_2_remove_without_path_is_400_no_target(acme, ann):
    assert_scim_error(acme.patch(f"Users/{ann['id']}", {"op": "remove"}), 400, "noTarget")


def test_rfc7643_2_2_removing_the_required_user_name_is_400(acme, ann):
    assert_scim_error(acme.patch(f"Users/{ann['id']}", remove("userName")), 400, "invalidValue")
    assert acme.get(f"Users/{ann['id']}").json()["userName"] == "Ann@Acme.test"


@pytest.mark.parametrize(
    ("operation", "check"),
    [
        (replace("userName", "ann.archer@acme.test"), lambda b: b["userName"] == "ann.archer@acme.test"),
        (replace("active", False), lambda b: b["active"] is False),
        (replace("name.formatted", "Dr Ann"), lambda b: b["name"]["formatted"] == "Dr Ann"),
        (replace("displayName", "A."), lambda b: b["displayName"] == "A."),
        (replace("externalId", "ext-2"), lambda b: b["externalId"] == "ext-2"),
        (replace("emails", [{"value": "only@acme.test"}]), lambda b: b["emails"] == [{"value": "only@acme.test"}]),
        (replace('emails[type eq "work"].value', "new@acme.test"), lambda b: b["emails"][0]["value"] == "new@acme.test"),
        (replace("name", {"givenName": "Anne"}), lambda b: b["name"]["givenName"] == "Anne" and b["name"]["familyName"] == "Archer"),
    ],
)  # fmt: skip
def test_rfc7644_3_5_2_3_replace_with_path(acme, ann, operation, check):
    response = acme.patch(f"Users/{ann['id']}", operation)
    assert response.status_code == 200, response.content
    assert check(response.json()) and check(acme.get(f"Users/{ann['id']}").json())


def test_rfc7644_3_5_2_3_replace_without_path_azure_style(acme, ann):
    response = acme.patch(
        f"Users/{ann['id']}", {"op": "Replace", "value": {"active": False, "name.givenName": "Anna"}}
    )
    assert response.status_code == 200
    assert response.json()["active"] is False and response.json()["name"]["givenName"] == "Anna"


def test_rfc7644_3_5_2_3_replace_with_a_filter_that_matches_nothing_is_no_target(acme, ann):
    response = acme.patch(f"Users/{ann['id']}", replace('emails[type eq "pager"].value', "x@acme.test"))
    assert_scim_error(response, 400, "noTarget")


def test_rfc7644_3_5_2_suspending_by_patch_ends_the_users_sessions(acme, ann):
    LoginSession.objects.create(session_key="k" * 32, user=User.objects.get(scim_id=ann["id"]))
    acme.patch(f"Users/{ann['id']}", replace("active", False))
    assert not LoginSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [PATCH_OP], "Operations": [replace("userName", None)]}, "invalidValue"),
        ({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"userName": None}}]}, "invalidValue"),
        ({"schemas": [PATCH_OP], "Operations": [add("emails", [{"value": 42}])]}, "invalidValue"),
        ({"schemas": [PATCH_OP], "Operations": [add("emails", ["ann@x.test"])]}, "invalidValue"),
        ({"schemas": [PATCH_OP], "Operations": [replace("active", "yes")]}, "invalidValue"),
        ({"schemas": [PATCH_OP], "Operations": [replace("name", "Ann")]}, "invalidValue"),
        ({"schemas": [USER], "Operations": [replace("active", False)]}, "invalidSyntax"),
        ({"Operations": [replace("active", False)]}, "invalidSyntax"),
        ({"schemas": [PATCH_OP], "Operations": []}, "invalidSyntax"),
        ({"schemas": [PATCH_OP], "Operations": "x"}, "invalidSyntax"),
        ({"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "active"}]}, "invalidSyntax"),
        ({"schemas": [PATCH_OP], "Operations": [replace("nickName", "A")]}, "invalidPath"),
        ({"schemas": [PATCH_OP], "Operations": [replace("emails[type eq", "A")]}, "invalidPath"),
        ({"schemas": [PATCH_OP], "Operations": [replace("id", "7")]}, "mutability"),
        ({"schemas": [PATCH_OP], "Operations": [replace("meta.created", "2020-01-01T00:00:00Z")]}, "mutability"),
        ({"schemas": [PATCH_OP], "Operations": [add("groups", [{"value": "g"}])]}, "mutability"),
    ],
)  # fmt: skip
def test_rfc7644_3_5_2_patch_bodies_are_validated_like_post_and_put(acme, ann, body, scim_type):
    assert_scim_error(acme.patch(f"Users/{ann['id']}", body=body), 400, scim_type)
    assert acme.get(f"Users/{ann['id']}").json() == ann  # nothing changed


def test_rfc7644_3_5_2_all_operations_apply_or_none(acme, ann):
    response = acme.patch(f"Users/{ann['id']}", replace("displayName", "Changed"), replace("userName", None))
    assert_scim_error(response, 400)
    assert acme.get(f"Users/{ann['id']}").json()["displayName"] == "Annie"


def test_rfc7644_3_5_2_patch_to_a_taken_user_name_is_409(acme, ann):
    other = acme.create_user("other@acme.test")
    assert_scim_error(
        acme.patch(f"Users/{other['id']}", replace("userName", "ann@acme.test")), 409, "uniqueness"
    )


# --- §3.6 delete ---------------------------------------------------------------------------------
def test_rfc7644_3_6_delete_is_204_then_404(acme, ann):
    response = acme.delete(f"Users/{ann['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_scim_error(acme.get(f"Users/{ann['id']}"), 404)
    assert_scim_error(acme.delete(f"Users/{ann['id']}"), 404)


# --- §3.9 attributes / excludedAttributes -------------------------------------------------------
def test_rfc7644_3_9_attributes_on_get_returns_only_those_plus_id_and_schemas(acme, ann):
    body = acme.get(f"Users/{ann['id']}", {"attributes": "userName,name.givenName,emails.value"}).json()
    assert body == {
        "schemas": [USER], "id": ann["id"], "userName": "Ann@Acme.test", "name": {"givenName": "Ann"},
        "emails": [{"value": "ann@acme.test"}, {"value": "ann@home.test"}],
    }  # fmt: skip


def test_rfc7644_3_9_fully_qualified_attribute_names_are_accepted(acme, ann):
    body = acme.get(f"Users/{ann['id']}", {"attributes": f"{USER}:displayName"}).json()
    assert body == {"schemas": [USER], "id": ann["id"], "displayName": "Annie"}


def test_rfc7644_3_9_excluded_attributes_never_drops_id(acme, ann):
    body = acme.get(f"Users/{ann['id']}", {"excludedAttributes": "emails,name.formatted,meta,id"}).json()
    assert body["id"] == ann["id"] and body["schemas"] == [USER]
    assert "emails" not in body and "meta" not in body and "formatted" not in body["name"]
    assert body["userName"] == "Ann@Acme.test"


def test_rfc7644_3_9_attributes_apply_to_every_resource_of_a_list(acme, ann):
    acme.create_user("b@acme.test")
    listed = acme.get("Users", {"attributes": "userName"}).json()
    assert all(set(r) == {"schemas", "id", "userName"} for r in listed["Resources"])
    listed = acme.get("Users", {"excludedAttributes": "groups,meta"}).json()
    assert all("meta" not in r for r in listed["Resources"])


def test_rfc7644_3_4_3_search_honours_attributes_and_excluded_attributes(acme, ann):
    response = acme.search("Users", filter='userName sw "ann"', attributes=["userName", "active"])
    assert response.status_code == 200
    assert response.json()["Resources"] == [
        {"schemas": [USER], "id": ann["id"], "userName": "Ann@Acme.test", "active": True}
    ]
    response = acme.search("Users", excludedAttributes=["emails", "name"])
    assert "emails" not in response.json()["Resources"][0]


def test_rfc7644_3_4_3_search_with_a_non_string_filter_is_400_invalid_filter(acme, ann):
    for bad in (42, ["userName pr"], {"userName": "x"}, None):
        assert_scim_error(acme.search("Users", filter=bad), 400, "invalidFilter")


def test_rfc7644_3_4_3_search_needs_the_search_request_schema(acme, ann):
    response = acme.post("Users/.search", {"schemas": [USER], "filter": "userName pr"})
    assert_scim_error(response, 400, "invalidSyntax")


# --- §3.4.2.4 paging -----------------------------------------------------------------------------
def test_rfc7644_3_4_2_4_start_index_and_count_page_through_results(acme):
    for n in range(5):
        acme.create_user(f"p{n}@acme.test")
    first = acme.get("Users", {"startIndex": 1, "count": 2}).json()
    last = acme.get("Users", {"startIndex": 5, "count": 2}).json()
    assert (first["totalResults"], first["itemsPerPage"], first["startIndex"]) == (5, 2, 1)
    assert (last["itemsPerPage"], last["startIndex"]) == (1, 5)
    pages = [acme.get("Users", {"startIndex": s, "count": 2}).json()["Resources"] for s in (1, 3, 5)]
    assert len({r["id"] for page in pages for r in page}) == 5


def test_rfc7644_3_4_2_4_count_zero_or_negative_returns_only_the_total(acme):
    acme.create_user("a@acme.test")
    for count in (0, -1):
        body = acme.get("Users", {"count": count}).json()
        assert (body["totalResults"], body["itemsPerPage"], body["Resources"]) == (1, 0, [])


def test_rfc7644_3_4_2_4_start_index_below_one_is_one(acme):
    acme.create_user("a@acme.test")
    assert acme.get("Users", {"startIndex": 0}).json()["startIndex"] == 1


def test_rfc7644_3_4_2_4_a_start_index_past_the_end_is_an_empty_page(acme):
    acme.create_user("a@acme.test")
    body = acme.get("Users", {"startIndex": 10**30}).json()
    assert (body["totalResults"], body["Resources"]) == (1, [])


def test_rfc7644_3_4_2_4_non_integer_paging_is_400(acme):
    assert_scim_error(acme.get("Users", {"count": "ten"}), 400, "invalidValue")


# --- §3.4.2.3 sorting ----------------------------------------------------------------------------
def test_rfc7644_3_4_2_3_sort_by_user_name_both_orders(acme):
    for name in ("b@acme.test", "C@acme.test", "a@acme.test"):
        acme.create_user(name)
    ascending = [r["userName"] for r in acme.get("Users", {"sortBy": "userName"}).json()["Resources"]]
    descending = acme.get("Users", {"sortBy": "userName", "sortOrder": "descending"}).json()
    assert ascending == ["a@acme.test", "b@acme.test", "C@acme.test"]
    assert [r["userName"] for r in descending["Resources"]] == ascending[::-1]
    assert_scim_error(acme.get("Users", {"sortBy": "nickName"}), 400, "invalidPath")


# --- rejected writes and the tenant (issue item 8) -------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        b"{nope",
        b"[1, 2]",
        b'{"schemas": [], "userName": "x@new.test"}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": null}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "emails": [{"value": 1}]}',
    ],
)
def test_rfc7644_3_3_a_rejected_create_creates_no_tenant(machine_stack, raw):
    from atrium_kit.tests.scim_support import Scim

    response = Scim("newco").post("Users", raw=raw)
    assert_scim_error(response, 400)
    assert not Tenant.objects.filter(slug="newco").exists()


def test_rfc7644_3_3_the_first_successful_create_creates_the_tenant(machine_stack):
    from atrium_kit.tests.scim_support import Scim

    Scim("newco").create_user("first@newco.test")
    assert Tenant.objects.get(slug="newco").users.count() == 1
