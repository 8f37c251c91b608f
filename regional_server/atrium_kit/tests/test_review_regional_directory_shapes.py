"""Hostile review: the directory client refuses answers outside contract A — entries that are not
user/group objects, another tenant's answer, a page walk that never ends — and slugs that only
look like slugs, as DirectoryUnavailable, before any product or the navigation reads them."""

import pytest

from atrium_kit.directory import DirectoryUnavailable, directory_client
from atrium_kit.tests.directory_support import tenant_document

USER = {
    "id": "u-1",
    "email": "a@acme.test",
    "display_name": "A",
    "role": "owner",
    "active": True,
    "groups": [],
}


@pytest.fixture
def fake_atrium(fake_atrium):
    with fake_atrium.settings():
        yield fake_atrium


def unavailable(call) -> DirectoryUnavailable:
    with pytest.raises(DirectoryUnavailable) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    "junk", [["x"], [None], [3], [{"email": "no-id@acme.test", "role": "member"}], [{**USER, "id": 7}],
             [{**USER, "role": ["owner"]}], [USER, "x"]],
)  # fmt: skip
def test_a_users_page_with_entries_that_are_not_users_is_unavailable(fake_atrium, junk):
    fake_atrium.routes["/directory/v1/tenants/acme/users"] = (200, {"users": junk, "next": None})
    assert "unexpected shape" in unavailable(lambda: directory_client().users("acme")).message


@pytest.mark.parametrize(
    "junk", [[None], ["g"], [{"name": "Legal", "members": []}], [{"id": 1, "name": "x"}]]
)
def test_a_groups_answer_with_entries_that_are_not_groups_is_unavailable(fake_atrium, junk):
    fake_atrium.routes["/directory/v1/tenants/acme/groups"] = (200, {"groups": junk})
    assert "unexpected shape" in unavailable(lambda: directory_client().groups("acme")).message


def test_well_formed_users_and_groups_still_pass(fake_atrium):
    fake_atrium.routes["/directory/v1/tenants/acme/users"] = (200, {"users": [USER], "next": None})
    fake_atrium.routes["/directory/v1/tenants/acme/groups"] = (
        200,
        {"groups": [{"id": "g", "name": "L", "members": []}]},
    )
    assert directory_client().users("acme") == [USER]
    assert directory_client().groups("acme")[0]["id"] == "g"


def test_an_answer_about_another_tenant_is_never_taken_for_the_asked_one(fake_atrium):
    fake_atrium.routes["/directory/v1/tenants/acme"] = (
        200,
        tenant_document("globex", products=[("posture", "active", "eu")]),
    )
    assert "another tenant" in unavailable(lambda: directory_client().tenant("acme")).message


def test_empty_pages_with_ever_new_cursors_stop_at_the_first_one(fake_atrium):
    fake_atrium.users_pages = {None: {"users": [], "next": "c0"}}
    fake_atrium.users_pages.update({f"c{i}": {"users": [], "next": f"c{i + 1}"} for i in range(100)})
    assert "empty page" in unavailable(lambda: directory_client().users("acme")).message
    assert len([r for r in fake_atrium.requests if r["path"].endswith("/users")]) == 1


@pytest.mark.parametrize("slug", ["acme\n", "acme\r\n", "acme\x00", "ACME", "acme/../x"])
def test_a_slug_that_only_looks_like_one_never_becomes_a_request(fake_atrium, slug):
    assert "not a tenant slug" in unavailable(lambda: directory_client().users(slug)).message
    assert "not a tenant slug" in unavailable(lambda: directory_client().tenant(slug)).message
    assert fake_atrium.requests == []
