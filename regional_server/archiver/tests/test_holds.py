"""Archiver's holds page, against a real stand-in for Atrium's directory (token endpoint + mTLS
machine port on loopback): people and groups from the directory, holds placed by admins only,
a clear message when the directory is down, and tenant isolation."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archiver.models import Hold
from atrium_kit.directory import directory_client
from backup.tests.support import entitle, person

pytestmark = pytest.mark.django_db
ALICE, BOB, CAROL = (str(uuid.uuid4()) for _ in range(3))
LEGAL = "0b3c6a59-legal"


def users(*rows):
    return {"users": [dict(zip(("id", "email", "display_name", "role"), r, strict=True), active=True, groups=[]) for r in rows],
            "next": None}  # fmt: skip


@pytest.fixture
def acme_directory(fake_atrium):
    fake_atrium.routes["/directory/v1/tenants/acme/users"] = (
        200, users((ALICE, "alice@acme.test", "Alice Anders", "owner"), (BOB, "bob@acme.test", "Bob Brown", "member")),
    )  # fmt: skip
    fake_atrium.routes["/directory/v1/tenants/acme/groups"] = (
        200, {"groups": [{"id": LEGAL, "name": "Legal", "members": [ALICE]}]},
    )  # fmt: skip
    entitle("acme", "archiver")
    return fake_atrium


@pytest.fixture
def alice(acme_directory):
    return person("acme", "alice@acme.test", external_id=ALICE)


@pytest.fixture
def bob(acme_directory):
    return person("acme", "bob@acme.test", external_id=BOB)


@pytest.fixture
def carol(fake_atrium):
    fake_atrium.routes["/directory/v1/tenants/globex/users"] = (
        200, users((CAROL, "carol@globex.test", "Carol Chen", "owner")),
    )  # fmt: skip
    fake_atrium.routes["/directory/v1/tenants/globex/groups"] = (200, {"groups": []})
    entitle("globex", "archiver")
    return person("globex", "carol@globex.test", external_id=CAROL)


def place(client, kind="person", target_id=BOB, reason="Matter 2026-114"):
    response = client.post("/p/archiver/holds/", {"kind": kind, "target_id": target_id, "reason": reason})
    if response.status_code == 302:
        client.get(response["Location"])  # read the message, as a browser does
    return response


def test_the_page_lists_the_tenants_people_and_groups_from_atriums_directory(people_client, alice):
    people_client.force_login(alice)
    response = people_client.get("/p/archiver/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-person="bob@acme.test"' in body and 'data-group="Legal"' in body
    assert "Place hold" in body


def test_the_directory_was_asked_with_the_regions_own_token_over_mtls(people_client, alice, acme_directory):
    people_client.force_login(alice)
    people_client.get("/p/archiver/")
    asked = [r["path"] for r in acme_directory.requests]
    assert "/directory/v1/tenants/acme/users" in asked and "/directory/v1/tenants/acme/groups" in asked
    assert acme_directory.token_requests[0]["form"]["scope"] == "directory:read"


def test_an_admin_places_a_hold_on_a_person_and_on_a_group(people_client, alice):
    people_client.force_login(alice)
    assert place(people_client).status_code == 302
    assert place(people_client, kind="group", target_id=LEGAL).status_code == 302
    holds = {(h.kind, h.target_label, h.placed_by_label) for h in Hold.objects.all()}
    assert holds == {
        ("person", "Bob Brown <bob@acme.test>", "Alice Anders <alice@acme.test>"),
        ("group", "Legal", "Alice Anders <alice@acme.test>"),
    }
    page = people_client.get("/p/archiver/").content.decode()
    assert page.count('data-held="yes"') == 2


def test_a_second_hold_on_the_same_person_is_a_clear_form_error(people_client, alice):
    people_client.force_login(alice)
    place(people_client)
    again = place(people_client)
    assert again.status_code == 400
    assert b"is on hold already" in again.content
    assert Hold.objects.count() == 1


def test_someone_the_directory_does_not_list_cannot_be_put_on_hold(people_client, alice):
    people_client.force_login(alice)
    response = place(people_client, target_id=str(uuid.uuid4()))
    assert response.status_code == 400
    assert b"lists no such person or group" in response.content
    assert not Hold.objects.exists()


def test_a_hold_without_a_reason_is_a_form_error(people_client, alice):
    people_client.force_login(alice)
    response = place(people_client, reason="")
    assert response.status_code == 400
    assert b'data-testid="archiver-form-errors"' in response.content


def test_a_member_sees_the_people_but_may_not_place_or_release_holds(people_client, alice, bob):
    people_client.force_login(alice)
    place(people_client, target_id=ALICE)
    hold = Hold.objects.get()
    people_client.force_login(bob)
    page = people_client.get("/p/archiver/")
    assert b'data-testid="archiver-read-only"' in page.content and b"Place hold" not in page.content
    assert place(people_client).status_code == 403
    assert people_client.post(f"/p/archiver/holds/{hold.pk}/release/").status_code == 403
    assert Hold.objects.get().active


def test_an_admin_releases_a_hold(people_client, alice):
    people_client.force_login(alice)
    place(people_client)
    hold = Hold.objects.get()
    assert people_client.post(f"/p/archiver/holds/{hold.pk}/release/").status_code == 302
    hold.refresh_from_db()
    assert not hold.active and hold.released_by_label.startswith("Alice")
    # and Bob may be put on hold again later
    assert place(people_client).status_code == 302


def test_when_the_directory_is_down_the_page_says_so_and_keeps_the_holds(
    people_client, alice, acme_directory
):
    people_client.force_login(alice)
    place(people_client)
    acme_directory.machine_server.stop()  # Atrium's machine port goes away …
    directory_client().close()  # … and with it the kept-alive connection
    page = people_client.get("/p/archiver/")
    assert page.status_code == 200
    assert b'data-testid="directory-unavailable"' in page.content
    assert b"Bob Brown &lt;bob@acme.test&gt;" in page.content  # the hold held here is still shown
    refused = people_client.post(
        "/p/archiver/holds/", {"kind": "group", "target_id": LEGAL, "reason": "r"}, follow=True
    )
    assert refused.status_code == 200
    assert b"No hold was placed" in refused.content
    assert Hold.objects.count() == 1


def test_tenant_b_never_sees_or_releases_tenant_as_holds(people_client, alice, carol):
    people_client.force_login(alice)
    place(people_client)
    hold = Hold.objects.get()
    people_client.force_login(carol)
    page = people_client.get("/p/archiver/")
    assert b"bob@acme.test" not in page.content
    assert b"data-hold=" not in page.content
    assert people_client.post(f"/p/archiver/holds/{hold.pk}/release/").status_code == 404
    # nor can Globex's owner put Acme's Bob on hold
    assert place(people_client).status_code == 400
    assert Hold.objects.get().active and Hold.objects.count() == 1


def test_a_tenant_without_archiver_gets_the_kits_403(people_client):
    entitle("initech", "backup")
    people_client.force_login(person("initech", "ian@initech.test"))
    assert people_client.get("/p/archiver/").status_code == 403


def test_the_holds_list_costs_the_same_queries_whatever_the_number_of_holds(people_client, alice):
    people_client.force_login(alice)
    people_client.get("/p/archiver/")
    with CaptureQueriesContext(connection) as baseline:
        people_client.get("/p/archiver/")
    Hold.objects.bulk_create(
        Hold(
            tenant=alice.tenant,
            kind="person",
            target_id=f"gone-{i}",
            target_label=f"P{i}",
            reason="r",
            placed_by_label="Alice",
            released_at="2026-11-30T10:00:00Z",
        )  # fmt: skip
        for i in range(25)
    )
    with CaptureQueriesContext(connection) as more:
        page = people_client.get("/p/archiver/")
    assert page.content.count(b"data-hold=") == 25
    assert len(more.captured_queries) == len(baseline.captured_queries)
