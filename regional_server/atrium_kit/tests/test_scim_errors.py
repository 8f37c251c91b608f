# ruff: noqa: F811 - pytest fixtures imported from scim_support are redefined as parameters
"""RFC 7644 §3.12: every failure is a SCIM Error body with the status as a string and, where the
RFC names one, a scimType; unknown is 404, unsupported 501, conflict 409, bad syntax 400."""

import pytest

from atrium_kit.tests.scim_support import USER, acme, assert_scim_error, machine_stack  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["Nope", "Users/1/extra", "Groups/x/y", "Schemas/x/y"])
def test_rfc7644_3_12_an_unknown_endpoint_is_a_404_scim_error(acme, path):
    assert_scim_error(acme.get(path), 404)


def test_rfc7644_3_12_a_path_outside_any_tenant_is_a_404_scim_error(machine_stack):
    from django.test import Client

    assert_scim_error(Client().get("/scim/v2/Not_A_Slug/Users"), 404)
    assert_scim_error(Client().get("/scim/Users"), 404)


def test_rfc7644_3_12_an_unknown_resource_id_is_404(acme):
    acme.create_user("a@acme.test")
    assert_scim_error(acme.get("Users/999999"), 404)
    assert_scim_error(acme.get("Groups/not-a-uuid"), 404)
    assert_scim_error(acme.patch("Groups/not-a-uuid", {"op": "remove", "path": "members"}), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "Bulk"), ("get", "Me"), ("post", ".search"), ("get", ""), ("patch", "Me")],
)
def test_rfc7644_3_12_unsupported_endpoints_are_501(acme, method, path):
    if method == "get":
        response = acme.get(path)
    else:
        response = getattr(acme, method)(
            path, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]}
        )
    assert_scim_error(response, 501)


def test_rfc7644_3_12_malformed_json_is_400_invalid_syntax(acme):
    assert_scim_error(acme.post("Users", raw=b"{nope"), 400, "invalidSyntax")
    assert_scim_error(acme.post("Users", raw=b"\xff\xfe"), 400, "invalidSyntax")
    assert_scim_error(acme.post("Users", raw=b'"a string"'), 400, "invalidSyntax")


def test_rfc7644_3_12_an_unsupported_schema_is_400(acme):
    body = {
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "a@x.test",
    }
    assert_scim_error(acme.post("Users", body), 400, "invalidSyntax")


def test_rfc7644_3_12_a_conflict_is_409_uniqueness(acme):
    acme.create_user("a@acme.test")
    assert_scim_error(acme.post("Users", {"schemas": [USER], "userName": "A@ACME.TEST"}), 409, "uniqueness")


def test_rfc7644_3_12_a_method_the_endpoint_lacks_is_a_scim_error(acme):
    response = acme.delete("Users")
    assert_scim_error(response, 405)
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert_scim_error(acme.post("ServiceProviderConfig", {}), 405)


@pytest.mark.parametrize(
    "body",
    [
        {"schemas": [USER], "userName": "x" * 300},
        {"schemas": [USER], "userName": "   "},
        {"schemas": [USER], "userName": 5},
        {"schemas": [USER], "userName": "x@acme.test", "name": {"givenName": "g" * 151}},
        {"schemas": [USER], "userName": "x@acme.test", "emails": [{"value": "a@x.test", "primary": True},
                                                                 {"value": "b@x.test", "primary": True}]},
        {"schemas": [USER], "userName": "x@acme.test", "emails": "x@acme.test"},
        {"schemas": [USER], "userName": "x@acme.test", "externalId": 7},
    ],
)  # fmt: skip
def test_rfc7644_3_12_invalid_values_are_400_invalid_value(acme, body):
    assert_scim_error(acme.post("Users", body), 400, "invalidValue")


def test_rfc7644_3_12_an_invalid_attributes_parameter_is_400(acme):
    user = acme.create_user("a@acme.test")
    assert_scim_error(acme.get(f"Users/{user['id']}", {"attributes": "name..x"}), 400, "invalidPath")
