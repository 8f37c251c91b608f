# ruff: noqa: F811 - pytest fixtures imported from scim_support are redefined as parameters
"""RFC 7644 §4 and RFC 7643 §5-7: discovery endpoints, per tenant."""

import pytest
from django.conf import settings

from atrium_kit.models import Tenant
from atrium_kit.tests.scim_support import GROUP, LIST, USER, acme, assert_scim_error, machine_stack  # noqa: F401

pytestmark = pytest.mark.django_db
BASE = f"{settings.REGION_MACHINE_URL}/scim/v2/acme"


def test_rfc7643_5_service_provider_config_tells_the_truth(acme):
    config = acme.get("ServiceProviderConfig").json()
    assert config["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["changePassword"] == {"supported": False}
    assert config["sort"] == {"supported": True}
    assert config["etag"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert config["meta"] == {
        "resourceType": "ServiceProviderConfig",
        "location": f"{BASE}/ServiceProviderConfig",
    }


def test_rfc7644_4_resource_types_are_a_list_response_with_total_results(acme):
    listed = acme.get("ResourceTypes").json()
    assert listed["schemas"] == [LIST]
    assert listed["totalResults"] == 2 == len(listed["Resources"])
    by_id = {r["id"]: r for r in listed["Resources"]}
    assert by_id["User"]["endpoint"] == "/Users" and by_id["User"]["schema"] == USER
    assert by_id["Group"]["endpoint"] == "/Groups" and by_id["Group"]["schema"] == GROUP
    assert by_id["Group"]["meta"]["location"] == f"{BASE}/ResourceTypes/Group"


def test_rfc7644_4_resource_type_by_id_and_unknown_id_is_404(acme):
    user_type = acme.get("ResourceTypes/User")
    assert user_type.status_code == 200
    assert user_type.json()["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]
    assert user_type.json()["name"] == "User"
    assert_scim_error(acme.get("ResourceTypes/Device"), 404)


def test_rfc7644_4_schemas_list_and_get_by_urn_live_under_the_tenant(acme):
    listed = acme.get("Schemas").json()
    assert listed["schemas"] == [LIST] and listed["totalResults"] == 2
    assert {s["id"] for s in listed["Resources"]} == {USER, GROUP}
    user = acme.get(f"Schemas/{USER}").json()
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
    assert user["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{USER}"}
    assert_scim_error(acme.get("Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), 404)


def test_rfc7643_7_schemas_describe_only_the_attributes_we_support(acme):
    user = acme.get(f"Schemas/{USER}").json()
    assert [a["name"] for a in user["attributes"]] == [
        "userName", "name", "displayName", "emails", "active", "groups",
    ]  # fmt: skip
    name = next(a for a in user["attributes"] if a["name"] == "name")
    assert {s["name"] for s in name["subAttributes"]} == {"formatted", "familyName", "givenName"}
    groups = next(a for a in user["attributes"] if a["name"] == "groups")
    assert groups["mutability"] == "readOnly" and groups["multiValued"] is True
    user_name = user["attributes"][0]
    assert user_name["required"] is True and user_name["uniqueness"] == "server"
    group = acme.get(f"Schemas/{GROUP}").json()
    assert [a["name"] for a in group["attributes"]] == ["displayName", "members"]
    for attribute in user["attributes"] + group["attributes"]:
        for key in ("type", "multiValued", "required", "mutability", "returned"):
            assert key in attribute, (attribute["name"], key)


def test_rfc7644_4_a_filter_on_discovery_endpoints_is_403(acme):
    for path in ("ServiceProviderConfig", "ResourceTypes", "Schemas"):
        assert_scim_error(acme.get(path, {"filter": 'id eq "User"'}), 403)


def test_rfc7644_4_discovery_never_creates_a_tenant(acme):
    acme.get("ServiceProviderConfig")
    acme.get("Users")
    assert not Tenant.objects.filter(slug="acme").exists()
