# ruff: noqa: F811 - pytest fixtures imported from scim_support are redefined as parameters
"""RFC 7643 §4.2 Groups through RFC 7644 (create, get, filter, replace, PATCH members, delete),
tenant-safe: a member of another tenant is refused and never linked."""

import pytest

from atrium_kit.models import Group, Tenant
from atrium_kit.tests.scim_support import (  # noqa: F401
    GROUP,
    PATCH_OP,
    Scim,
    acme,
    assert_scim_error,
    globex,
    machine_stack,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(acme):
    return [acme.create_user(f"u{n}@acme.test", displayName=f"U{n}")["id"] for n in range(3)]


def member_ids(body):
    return sorted(m["value"] for m in body.get("members", []))


def test_rfc7643_4_2_create_a_group_with_members(acme, users):
    response = acme.post("Groups", {"schemas": [GROUP], "displayName": "Admins", "externalId": "g-1",
                                    "members": [{"value": users[0]}, {"value": users[1], "type": "User"}]})  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == body["meta"]["location"]
    assert body["schemas"] == [GROUP] and body["displayName"] == "Admins" and body["externalId"] == "g-1"
    first = body["members"][0]
    assert first == {"value": users[0], "display": "U0", "$ref": first["$ref"], "type": "User"}
    assert first["$ref"].endswith(f"/scim/v2/acme/Users/{users[0]}")
    assert acme.get(f"Groups/{body['id']}").json() == body


def test_rfc7643_4_2_external_id_is_optional_and_display_name_required(acme):
    assert acme.post("Groups", {"schemas": [GROUP], "displayName": "NoExt"}).status_code == 201
    assert_scim_error(acme.post("Groups", {"schemas": [GROUP]}), 400, "invalidValue")


def test_rfc7644_3_3_group_display_name_and_external_id_are_unique_per_tenant(acme, globex):
    acme.create_group("Admins", externalId="g-1")
    assert_scim_error(acme.post("Groups", {"schemas": [GROUP], "displayName": "ADMINS"}), 409, "uniqueness")
    assert_scim_error(
        acme.post("Groups", {"schemas": [GROUP], "displayName": "Other", "externalId": "g-1"}),
        409,
        "uniqueness",
    )
    assert (
        globex.post("Groups", {"schemas": [GROUP], "displayName": "Admins", "externalId": "g-1"}).status_code
        == 201
    )


def test_rfc7643_4_2_a_member_from_another_tenant_is_refused_and_never_linked(acme, globex, users):
    gina = globex.create_user("gina@globex.test")["id"]
    response = acme.post("Groups", {"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": users[0]}, {"value": gina}]})  # fmt: skip
    assert_scim_error(response, 400, "invalidValue")
    assert not Group.objects.exists()
    group = acme.create_group("Admins", members=[users[0]])
    patch = acme.patch(f"Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": gina}]})
    assert_scim_error(patch, 400, "invalidValue")
    put = acme.put(
        f"Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Admins", "members": [{"value": gina}]}
    )
    assert_scim_error(put, 400, "invalidValue")
    assert member_ids(acme.get(f"Groups/{group['id']}").json()) == [users[0]]
    assert list(Group.objects.get().members.values_list("tenant__slug", flat=True)) == ["acme"]


def test_rfc7643_4_2_an_unknown_member_id_is_refused(acme, users):
    response = acme.post("Groups", {"schemas": [GROUP], "displayName": "X", "members": [{"value": "999999"}]})
    assert_scim_error(response, 400, "invalidValue")
    nested = acme.create_group("Inner")["id"]
    response = acme.post("Groups", {"schemas": [GROUP], "displayName": "Y", "members": [{"value": nested, "type": "Group"}]})  # fmt: skip
    assert_scim_error(response, 400, "invalidValue")


def test_rfc7644_3_3_a_refused_group_creates_no_tenant(machine_stack):
    newco = Scim("newco")
    assert_scim_error(
        newco.post("Groups", {"schemas": [GROUP], "displayName": "G", "members": [{"value": "1"}]}), 400
    )
    assert_scim_error(newco.post("Groups", {"schemas": [GROUP], "displayName": None}), 400)
    assert not Tenant.objects.filter(slug="newco").exists()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('displayName eq "admins"', ["Admins"]),
        ('displayName sw "Ad" or displayName eq "Sales"', ["Admins", "Sales"]),
        ('externalId eq "g-sales"', ["Sales"]),
        ("externalId pr", ["Sales"]),
        ('not (displayName eq "Admins")', ["Empty", "Sales"]),
    ],
)
def test_rfc7644_3_4_2_2_filter_groups(acme, users, expression, expected):
    acme.create_group("Admins", members=users[:2])
    acme.create_group("Sales", members=[users[2]], externalId="g-sales")
    acme.create_group("Empty")
    listed = acme.get("Groups", {"filter": expression}).json()
    assert sorted(g["displayName"] for g in listed["Resources"]) == expected
    assert listed["totalResults"] == len(expected)


def test_rfc7644_3_4_2_2_filter_groups_by_member(acme, globex, users):
    acme.create_group("Admins", members=users[:2])
    acme.create_group("Sales", members=[users[1]])
    found = acme.get("Groups", {"filter": f'members.value eq "{users[1]}"'}).json()
    assert sorted(g["displayName"] for g in found["Resources"]) == ["Admins", "Sales"]
    assert found["totalResults"] == 2  # one row per group, not per membership
    found = acme.get("Groups", {"filter": f'members[value eq "{users[0]}"]'}).json()
    assert [g["displayName"] for g in found["Resources"]] == ["Admins"]
    globex.create_group("Admins")
    assert (
        globex.get("Groups", {"filter": f'members.value eq "{users[1]}" or displayName pr'}).json()[
            "totalResults"
        ]
        == 1
    )


def test_rfc7644_3_5_1_put_replaces_the_members(acme, users):
    group = acme.create_group("Admins", members=users[:2])
    response = acme.put(f"Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Admins", "members": [{"value": users[2]}]})  # fmt: skip
    assert response.status_code == 200 and member_ids(response.json()) == [users[2]]


def patch(scim, group_id, *operations):
    response = scim.patch(f"Groups/{group_id}", *operations)
    assert response.status_code == 200, response.content
    return response.json()


def test_rfc7644_3_5_2_1_add_members_with_path(acme, users):
    group = acme.create_group("Admins", members=[users[0]])
    body = patch(
        acme,
        group["id"],
        {"op": "add", "path": "members", "value": [{"value": users[1]}, {"value": users[0]}]},
    )
    assert member_ids(body) == sorted(users[:2])


def test_rfc7644_3_5_2_1_add_members_without_path(acme, users):
    group = acme.create_group("Admins")
    body = patch(acme, group["id"], {"op": "add", "value": {"members": [{"value": users[2]}]}})
    assert member_ids(body) == [users[2]]


def test_rfc7644_3_5_2_2_remove_one_member_by_value_filter_okta_style(acme, users):
    group = acme.create_group("Admins", members=users)
    body = patch(acme, group["id"], {"op": "remove", "path": f'members[value eq "{users[1]}"]'})
    assert member_ids(body) == sorted([users[0], users[2]])
    # removing someone who is not a member changes nothing and is not an error
    body = patch(acme, group["id"], {"op": "remove", "path": f'members[value eq "{users[1]}"]'})
    assert member_ids(body) == sorted([users[0], users[2]])


def test_rfc7644_3_5_2_2_remove_all_members(acme, users):
    group = acme.create_group("Admins", members=users)
    body = patch(acme, group["id"], {"op": "remove", "path": "members"})
    assert "members" not in body


def test_rfc7644_3_5_2_3_replace_members_and_display_name(acme, users):
    group = acme.create_group("Admins", members=users[:2])
    body = patch(
        acme, group["id"],
        {"op": "replace", "path": "members", "value": [{"value": users[2]}]},
        {"op": "replace", "path": "displayName", "value": "Owners"},
    )  # fmt: skip
    assert member_ids(body) == [users[2]] and body["displayName"] == "Owners"
    body = patch(acme, group["id"], {"op": "replace", "value": {"displayName": "Chiefs", "members": []}})
    assert body["displayName"] == "Chiefs" and "members" not in body


def test_rfc7644_3_5_2_patch_of_a_group_is_validated(acme, users):
    group = acme.create_group("Admins")
    for operation, scim_type in [
        ({"op": "replace", "path": "displayName", "value": None}, "invalidValue"),
        ({"op": "add", "path": "members", "value": [{"value": 5}]}, "invalidValue"),
        ({"op": "add", "path": "members", "value": ["x"]}, "invalidValue"),
        ({"op": "remove", "path": "members[value eq"}, "invalidPath"),
        ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
    ]:
        assert_scim_error(acme.patch(f"Groups/{group['id']}", operation), 400, scim_type)


def test_rfc7644_3_5_2_renaming_to_a_taken_display_name_is_409(acme):
    acme.create_group("Admins")
    sales = acme.create_group("Sales")
    response = acme.patch(
        f"Groups/{sales['id']}", {"op": "replace", "path": "displayName", "value": "admins"}
    )
    assert_scim_error(response, 409, "uniqueness")


def test_rfc7643_4_1_2_users_list_their_groups_read_only(acme, users):
    group = acme.create_group("Admins", members=[users[0]])
    user = acme.get(f"Users/{users[0]}").json()
    assert user["groups"] == [
        {"value": group["id"], "display": "Admins", "$ref": group["meta"]["location"], "type": "direct"}
    ]
    found = acme.get("Users", {"filter": f'groups.value eq "{group["id"]}"'}).json()
    assert [u["id"] for u in found["Resources"]] == [users[0]]


def test_rfc7644_3_6_deleting_a_user_removes_them_from_groups(acme, users):
    group = acme.create_group("Admins", members=users[:2])
    assert acme.delete(f"Users/{users[0]}").status_code == 204
    assert member_ids(acme.get(f"Groups/{group['id']}").json()) == [users[1]]


def test_rfc7644_3_6_delete_a_group(acme, globex, users):
    group = acme.create_group("Admins", members=users)
    globex.create_user("g@globex.test")
    assert_scim_error(globex.delete(f"Groups/{group['id']}"), 404)
    assert acme.delete(f"Groups/{group['id']}").status_code == 204
    assert_scim_error(acme.get(f"Groups/{group['id']}"), 404)
    assert "groups" not in acme.get(f"Users/{users[0]}").json()


def test_rfc7644_3_9_excluded_members_and_attributes_on_groups(acme, users):
    group = acme.create_group("Admins", members=users)
    assert "members" not in acme.get(f"Groups/{group['id']}", {"excludedAttributes": "members"}).json()
    listed = acme.get("Groups", {"attributes": "displayName"}).json()["Resources"]
    assert listed == [{"schemas": [GROUP], "id": group["id"], "displayName": "Admins"}]
    search = acme.search("Groups", filter='displayName eq "Admins"', attributes=["members.value"]).json()
    assert search["Resources"][0]["members"] == [{"value": u} for u in users]


def test_the_portal_workers_group_calls_work(acme, users):
    """Atrium's worker: POST/PUT with members by region id, lookup by externalId, PATCH add/remove."""
    body = {
        "schemas": [GROUP],
        "externalId": "grp-uuid",
        "displayName": "Team",
        "members": [{"value": users[0]}],
    }
    created = acme.post("Groups", body).json()
    found = acme.get("Groups", {"filter": 'externalId eq "grp-uuid"'}).json()["Resources"]
    assert [g["id"] for g in found] == [created["id"]]
    patch(acme, created["id"],
          {"op": "replace", "path": "displayName", "value": "Team 2"},
          {"op": "add", "path": "members", "value": [{"value": users[1]}, {"value": users[2]}]},
          {"op": "remove", "path": f'members[value eq "{users[0]}"]'})  # fmt: skip
    replaced = acme.put(f"Groups/{created['id']}", {**body, "members": [{"value": users[1]}]}).json()
    assert replaced["displayName"] == "Team" and member_ids(replaced) == [users[1]]
