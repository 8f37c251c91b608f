"""Test support for the SCIM conformance tests (not collected: no `test_` prefix).

The tests drive the real machine URL configuration and SCIM middleware through Django's test
client. Machine-token checks (atrium_kit.machine_auth) have their own tests and run for real in
tests/e2e/test_scim_conformance.py; here a stand-in sets the principal they would set."""

import json

import pytest
from django.test import Client, override_settings

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class _Principal:
    is_authenticated = True
    client_id = "atrium-provisioner"
    scopes = frozenset({"scim"})


class ProvisionerForTests:
    """Sets the principal MachineTokenMiddleware sets for a valid provisioner token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = _Principal()
        return self.get_response(request)


MACHINE_STACK = {
    "ROOT_URLCONF": "region.urls_machine",
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "atrium_kit.tests.scim_support.ProvisionerForTests",
        "atrium_kit.scim.ScimTenantMiddleware",
    ],
}


class Scim:
    """A SCIM client for one tenant: `scim.get("Users")` → /scim/v2/<tenant>/Users."""

    def __init__(self, tenant: str):
        self.tenant = tenant
        self.http = Client()

    def url(self, path: str) -> str:
        return f"/scim/v2/{self.tenant}/{path}"

    def get(self, path, params=None):
        return self.http.get(self.url(path), params or {})

    def delete(self, path):
        return self.http.delete(self.url(path))

    def _send(self, method, path, body, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return getattr(self.http, method)(self.url(path), data=data, content_type=SCIM_JSON)

    def post(self, path, body=None, raw=None):
        return self._send("post", path, body, raw)

    def put(self, path, body=None, raw=None):
        return self._send("put", path, body, raw)

    def patch(self, path, *operations, body=None, raw=None):
        return self._send("patch", path, body or {"schemas": [PATCH_OP], "Operations": list(operations)}, raw)

    def search(self, resource, **request):
        return self.post(f"{resource}/.search", {"schemas": [SEARCH], **request})

    # helpers
    def create_user(self, user_name, **attrs):
        response = self.post("Users", user_body(user_name, **attrs))
        assert response.status_code == 201, response.content
        return response.json()

    def create_group(self, display_name, members=(), **attrs):
        body = {"schemas": [GROUP], "displayName": display_name, **attrs}
        if members:
            body["members"] = [{"value": m} for m in members]
        response = self.post("Groups", body)
        assert response.status_code == 201, response.content
        return response.json()


def user_body(user_name, **attrs) -> dict:
    return {"schemas": [USER], "userName": user_name, **attrs}


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body.get("detail"), str) and body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture
def machine_stack(db):
    with override_settings(**MACHINE_STACK):
        yield


@pytest.fixture
def acme(machine_stack):
    return Scim("acme")


@pytest.fixture
def globex(machine_stack):
    return Scim("globex")
