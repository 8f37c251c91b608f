"""Hostile review (issue 9, identity): the directory API on Atrium's machine port against a
revoked region client, a region removed from Atrium, cursors carried from another tenant, and
tenant paths that are no slug."""

import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.test import Client as HttpClient

from accounts.directory import cursor_encode
from accounts.services import account_region_add, membership_add
from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, region_with_login_client
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def eu(db, tmp_path):
    return region_with_login_client("eu", tmp_path, 8102, 9102)


def _token(client, region) -> str:
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "scope": "directory:read",
            "resource": settings.ATRIUM_MACHINE_URL,
        },
        HTTP_AUTHORIZATION=basic_auth(region.oidc_client_id, region.secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def machine(settings):
    http = HttpClient()

    def get(path, token, **params):
        settings.ROOT_URLCONF = settings.MACHINE_ROOT_URLCONF
        settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
        return http.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


def test_revoking_the_region_client_stops_its_tokens_at_once(client, machine, eu, acme):
    account_region_add(account=acme, region=eu)
    token = _token(client, eu)
    assert machine("/directory/v1/tenants/acme/users", token).status_code == 200
    Client.objects.filter(id=eu.oidc_client_id).delete()
    response = machine("/directory/v1/tenants/acme/users", token)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_a_region_atrium_no_longer_knows_reads_nothing(client, machine, eu, globex):
    token = _token(client, eu)
    eu.delete()
    response = machine("/directory/v1/catalog", token)
    assert response.status_code in (401, 403) and "error" in response.json()


def test_a_cursor_from_another_tenant_only_positions_the_page_and_leaks_nobody(
    client, machine, eu, acme, globex, alice, bob, carol
):
    account_region_add(account=acme, region=eu)
    account_region_add(account=globex, region=eu)
    token = _token(client, eu)
    cursor = cursor_encode(carol.public_id)  # a Globex member's id
    body = machine("/directory/v1/tenants/acme/users", token, cursor=cursor, limit="500").json()
    assert {u["email"] for u in body["users"]} <= {"alice@acme.test", "bob@acme.test"}
    start = machine("/directory/v1/tenants/acme/users", token).json()
    assert {u["email"] for u in start["users"]} == {"alice@acme.test", "bob@acme.test"}


@pytest.mark.parametrize("slug", ["ACME", "acme%00", "acme/..%2fglobex", "%E2%80%AEacme", "a" * 5000])
def test_tenant_paths_that_are_no_slug_of_a_tenant_here_are_json_404(client, machine, eu, acme, globex, slug):
    account_region_add(account=acme, region=eu)
    token = _token(client, eu)
    for suffix in ("", "/users", "/groups"):
        response = machine(f"/directory/v1/tenants/{slug}{suffix}", token)
        assert response.status_code == 404, (slug, suffix, response.content[:200])
        assert response.json()["error"] == "not_found"


def test_a_member_of_another_tenant_in_the_same_region_is_never_listed(client, machine, eu, acme, globex):
    account_region_add(account=acme, region=eu)
    account_region_add(account=globex, region=eu)
    membership_add(account=globex, user=make_user("zed@globex.test"))
    token = _token(client, eu)
    users = machine("/directory/v1/tenants/acme/users", token).json()["users"]
    assert "zed@globex.test" not in {u["email"] for u in users}


def test_a_token_the_token_endpoint_grants_for_the_machine_url_with_a_slash_is_accepted(
    client, machine, eu, acme
):
    # The token endpoint treats `https://…:9000/` as Atrium's machine URL (trailing slashes are
    # ignored when the audience is allowed); the machine port must then not refuse what it minted.
    account_region_add(account=acme, region=eu)
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "directory:read",
         "resource": settings.ATRIUM_MACHINE_URL.rstrip("/") + "/"},
        HTTP_AUTHORIZATION=basic_auth(eu.oidc_client_id, eu.secret),
    )  # fmt: skip
    if response.status_code != 200:  # refusing it at the token endpoint would be consistent too
        assert response.json()["error"] == "invalid_target"
        return
    answer = machine("/directory/v1/tenants/acme/users", response.json()["access_token"])
    assert answer.status_code == 200, answer.content


@pytest.mark.parametrize(
    "path", ["/directory/v1/catalog", "/directory/v1/tenants/acme", "/directory/v1/tenants/acme/users"]
)
def test_the_directory_api_is_not_served_on_the_people_listener_without_mutual_tls(client, eu, acme, path):
    # Only the machine listener (mutual TLS) serves it; the people URLs never do, token or not.
    account_region_add(account=acme, region=eu)
    token = _token(client, eu)
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404
