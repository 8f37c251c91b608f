"""The directory client against a real local Atrium stand-in: its token endpoint over HTTP and its
machine port over HTTPS with mutual TLS (trustme CA). Every failure is DirectoryUnavailable."""

import base64
import time

import pytest
import time_machine
import trustme

from atrium_kit.directory import DirectoryUnavailable, directory_client
from atrium_kit.tests.directory_support import CATALOG, FakeAtrium, tenant_document


def unavailable(call) -> DirectoryUnavailable:
    with pytest.raises(DirectoryUnavailable) as caught:
        call()
    assert caught.value.message
    return caught.value


def users(n: int, start: int = 0) -> list[dict]:
    return [
        {"id": f"u-{i}", "email": f"p{i}@acme.test", "display_name": f"P {i}", "role": "member", "active": True,
         "groups": []}
        for i in range(start, start + n)
    ]  # fmt: skip


# --- the contract's calls ---------------------------------------------------------------------
def test_catalog_and_tenant_are_read_with_the_regions_own_token_over_mutual_tls(fake_atrium):
    fake_atrium.serve_catalog()
    fake_atrium.serve_tenant(tenant_document("acme", [("backup", "active", "us")]))
    with fake_atrium.settings():
        client = directory_client()
        assert client.catalog() == CATALOG
        assert client.tenant("acme")["products"] == [
            {"code": "backup", "name": "Backup", "status": "active", "region": "us"}
        ]
    # the token: client credentials of the region's OIDC client, scope and audience of the contract
    (token_request,) = fake_atrium.token_requests
    assert token_request["form"] == {
        "grant_type": "client_credentials",
        "scope": "directory:read",
        "resource": fake_atrium.machine_url,
    }
    assert (
        token_request["authorization"] == "Basic " + base64.b64encode(b"region-us:region-us-secret").decode()
    )
    assert [r["authorization"] for r in fake_atrium.requests] == ["Bearer token-1", "Bearer token-1"]


def test_users_follows_every_page_with_the_largest_page_size(fake_atrium):
    fake_atrium.users_pages = {
        None: {"users": users(500), "next": "c1"},
        "c1": {"users": users(500, 500), "next": "c2"},
        "c2": {"users": users(3, 1000), "next": None},
    }
    with fake_atrium.settings():
        listed = directory_client().users("acme")
    assert [u["id"] for u in listed] == [f"u-{i}" for i in range(1003)]
    assert [r["query"] for r in fake_atrium.requests] == [
        {"limit": "500"},
        {"limit": "500", "cursor": "c1"},
        {"limit": "500", "cursor": "c2"},
    ]
    assert {r["path"] for r in fake_atrium.requests} == {"/directory/v1/tenants/acme/users"}


def test_groups_are_the_list_of_the_answer(fake_atrium):
    groups = [{"id": "g-1", "name": "Backup operators", "members": ["u-1"]}]
    fake_atrium.routes["/directory/v1/tenants/acme/groups"] = (200, {"groups": groups})
    with fake_atrium.settings():
        assert directory_client().groups("acme") == groups


# --- the token --------------------------------------------------------------------------------
def test_the_token_is_cached_until_shortly_before_it_expires(fake_atrium):
    fake_atrium.serve_catalog()
    fake_atrium.token_lifetime = 300
    with fake_atrium.settings(), time_machine.travel(time.time(), tick=False) as traveller:
        client = directory_client()
        client.catalog()
        traveller.shift(200)
        client.catalog()
        assert len(fake_atrium.token_requests) == 1
        traveller.shift(80)  # 280 s: within the refresh margin of a 300 s token
        client.catalog()
    assert len(fake_atrium.token_requests) == 2
    assert fake_atrium.requests[-1]["authorization"] == "Bearer token-2"


def test_a_401_fetches_a_fresh_token_once_and_retries(fake_atrium):
    fake_atrium.serve_catalog()
    with fake_atrium.settings():
        client = directory_client()
        client.catalog()
        fake_atrium.revoked.add("token-1")  # Atrium rotated its key: the cached token is refused
        assert client.catalog() == CATALOG
    assert [r["authorization"] for r in fake_atrium.requests] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_a_token_refused_again_after_the_refresh_is_unavailable_with_status_401(fake_atrium):
    fake_atrium.serve_catalog()
    fake_atrium.revoked |= {"token-1", "token-2", "token-3"}
    with fake_atrium.settings():
        error = unavailable(directory_client().catalog)
    assert error.status == 401
    assert "Unknown or expired token" in error.message
    assert len(fake_atrium.token_requests) == 2  # one refresh, not a loop


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ((401, {"error": "invalid_client"}), "refused this region a directory token (401)"),
        (
            (400, {"error": "invalid_target", "error_description": "resource not allowed"}),
            "resource not allowed",
        ),
        ((200, {"token_type": "Bearer"}), "without a token"),
        ((200, "not json"), "without a token"),
        ((200, {"access_token": "", "expires_in": 300}), "without a usable token"),
    ],
)
def test_a_token_endpoint_that_refuses_or_answers_nonsense_is_unavailable(fake_atrium, reply, expected):
    fake_atrium.token_reply = reply
    with fake_atrium.settings():
        error = unavailable(directory_client().catalog)
    assert expected in error.message
    assert fake_atrium.requests == []  # no call to the directory without a token


def test_an_unreachable_token_endpoint_is_unavailable(fake_atrium):
    fake_atrium.token_server.stop()
    with fake_atrium.settings():
        assert "token endpoint is unreachable" in unavailable(directory_client().catalog).message


# --- Atrium's answers -------------------------------------------------------------------------
def test_a_tenant_the_region_may_not_read_is_unavailable_with_status_404(fake_atrium):
    with fake_atrium.settings():
        error = unavailable(lambda: directory_client().tenant("globex"))
    assert error.status == 404
    assert "No such tenant" in error.message


@pytest.mark.parametrize(
    ("route", "answer"),
    [
        ("/directory/v1/catalog", (500, "<html>oops</html>")),
        ("/directory/v1/catalog", (503, {"error": "unavailable", "detail": "maintenance"})),
        ("/directory/v1/catalog", (200, "this is not json")),
        ("/directory/v1/catalog", (200, {"products": "not a list", "regions": []})),
        ("/directory/v1/catalog", (200, ["a", "list"])),
        ("/directory/v1/tenants/acme/groups", (200, {"groups": None})),
        ("/directory/v1/tenants/acme/users", (200, {"users": {}, "next": None})),
        ("/directory/v1/tenants/acme", (403, {"error": "insufficient_scope", "detail": "no directory:read"})),
    ],
)
def test_errors_and_bodies_outside_the_contract_are_unavailable(fake_atrium, route, answer):
    fake_atrium.routes[route] = answer
    call = {
        "/directory/v1/catalog": lambda c: c.catalog(),
        "/directory/v1/tenants/acme/groups": lambda c: c.groups("acme"),
        "/directory/v1/tenants/acme/users": lambda c: c.users("acme"),
        "/directory/v1/tenants/acme": lambda c: c.tenant("acme"),
    }[route]
    with fake_atrium.settings():
        error = unavailable(lambda: call(directory_client()))
    if answer[0] != 200:
        assert error.status == answer[0]


def test_a_repeated_page_cursor_is_unavailable_not_an_endless_loop(fake_atrium):
    fake_atrium.users_pages = {
        None: {"users": users(1), "next": "c1"},
        "c1": {"users": users(1), "next": "c1"},
    }
    with fake_atrium.settings():
        assert "repeated page cursor" in unavailable(lambda: directory_client().users("acme")).message
    assert len(fake_atrium.requests) == 2


def test_a_malformed_cursor_answer_is_unavailable(fake_atrium):
    fake_atrium.users_pages = {None: {"users": users(1), "next": 42}}
    with fake_atrium.settings():
        unavailable(lambda: directory_client().users("acme"))


@pytest.mark.parametrize("slug", ["../catalog", "acme/users", "ACME", "", "a" * 41])
def test_a_string_that_is_no_tenant_slug_never_reaches_atrium(fake_atrium, slug):
    with fake_atrium.settings():
        assert "not a tenant slug" in unavailable(lambda: directory_client().tenant(slug)).message
    assert fake_atrium.requests == [] and fake_atrium.token_requests == []


# --- transport --------------------------------------------------------------------------------
def test_a_slow_machine_port_times_out_as_unavailable(fake_atrium):
    fake_atrium.serve_catalog()
    fake_atrium.delay = 1.0
    with fake_atrium.settings(ATRIUM_DIRECTORY_TIMEOUT=0.2):
        started = time.monotonic()
        error = unavailable(directory_client().catalog)
    assert time.monotonic() - started < 0.9
    assert "Timeout" in error.message and error.status is None


def test_a_machine_port_that_does_not_answer_is_unavailable(fake_atrium):
    fake_atrium.machine_server.stop()
    with fake_atrium.settings():
        error = unavailable(directory_client().catalog)
    assert "unreachable" in error.message and error.status is None


def test_a_client_certificate_from_another_ca_fails_the_handshake(fake_atrium, tmp_path):
    foreign = trustme.CA().issue_cert("region-us-client")
    foreign.cert_chain_pems[0].write_to_path(str(tmp_path / "foreign.pem"))
    foreign.private_key_pem.write_to_path(str(tmp_path / "foreign.key"))
    fake_atrium.serve_catalog()
    with fake_atrium.settings(
        REGION_TLS_CLIENT_CERT=tmp_path / "foreign.pem", REGION_TLS_CLIENT_KEY=tmp_path / "foreign.key"
    ):
        assert "unreachable" in unavailable(directory_client().catalog).message
    assert fake_atrium.requests == []


def test_a_machine_port_with_a_certificate_of_another_ca_is_not_trusted(fake_atrium, tmp_path):
    other_ca = FakeAtrium(tmp_path / "other")  # only its CA file is used
    try:
        fake_atrium.serve_catalog()
        with fake_atrium.settings(REGION_TLS_CA_FILE=other_ca.dir / "ca.pem"):
            error = unavailable(directory_client().catalog)
        assert "CERTIFICATE_VERIFY_FAILED" in error.message
    finally:
        other_ca.stop()


def test_missing_tls_files_are_unavailable_naming_the_settings(fake_atrium, tmp_path):
    with fake_atrium.settings(REGION_TLS_CLIENT_CERT=tmp_path / "missing.pem"):
        error = unavailable(directory_client().catalog)
    assert "REGION_TLS_CLIENT_CERT" in error.message
