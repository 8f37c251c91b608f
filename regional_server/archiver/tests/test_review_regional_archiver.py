# ruff: noqa: F811 - the fixtures of test_holds are imported and then requested by name
"""Hostile review of Archiver: junk from the directory, forged cross-site posts, a person in two
tenants switching tenants mid-flow, and holds on people who have left."""

import pytest
from django.test import Client

from archiver.models import Hold
from archiver.tests.test_holds import (  # noqa: F401 - fixtures
    ALICE,
    BOB,
    CAROL,
    LEGAL,
    acme_directory,
    alice,
    carol,
    place,
    users,
)
from backup.tests.support import PEOPLE_HOST, entitle, person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "junk_users, junk_groups",
    [({"users": ["x", None], "next": None}, {"groups": []}),
     ({"users": [{"id": ALICE, "email": "a@acme.test", "role": ["owner"]}], "next": None}, {"groups": []}),
     (users((ALICE, "alice@acme.test", "Alice", "owner")), {"groups": [None, "legal"]})],
)  # fmt: skip
def test_junk_from_the_directory_shows_it_unavailable_and_places_nothing(
    people_client, fake_atrium, junk_users, junk_groups
):
    fake_atrium.routes["/directory/v1/tenants/acme/users"] = (200, junk_users)
    fake_atrium.routes["/directory/v1/tenants/acme/groups"] = (200, junk_groups)
    entitle("acme", "archiver")
    people_client.force_login(person("acme", "alice@acme.test", external_id=ALICE))
    page = people_client.get("/p/archiver/")
    assert page.status_code == 200
    assert b'data-testid="directory-unavailable"' in page.content
    posted = people_client.post("/p/archiver/holds/", {"kind": "person", "target_id": ALICE, "reason": "r"})
    assert posted.status_code == 302
    assert not Hold.objects.exists()


def test_placing_and_releasing_a_hold_need_the_csrf_token(alice):
    browser = Client(enforce_csrf_checks=True, HTTP_HOST=PEOPLE_HOST)
    browser.force_login(alice)
    forged = browser.post("/p/archiver/holds/", {"kind": "person", "target_id": BOB, "reason": "r"})
    assert forged.status_code == 403
    assert not Hold.objects.exists()
    trusted = Client(HTTP_HOST=PEOPLE_HOST)
    trusted.force_login(alice)
    place(trusted)
    hold = Hold.objects.get()
    assert browser.post(f"/p/archiver/holds/{hold.pk}/release/").status_code == 403
    hold.refresh_from_db()
    assert hold.active


@pytest.fixture
def alice_in_globex_too(fake_atrium, alice, carol):
    # The same Atrium person (one `sub`) is a plain member of Globex.
    fake_atrium.routes["/directory/v1/tenants/globex/users"] = (
        200, users((CAROL, "carol@globex.test", "Carol Chen", "owner"), (ALICE, "alice@acme.test", "Alice", "member")),
    )  # fmt: skip
    return person("globex", "alice@acme.test", external_id=ALICE)


def test_switching_tenants_mid_flow_leaves_the_first_tenants_holds_out_of_reach(
    people_client, alice, alice_in_globex_too
):
    people_client.force_login(alice)
    place(people_client)  # as Acme's owner: Bob is on hold
    hold = Hold.objects.get()
    assert people_client.post("/tenants/globex/switch/").status_code == 302
    # The form opened in Acme is submitted after the switch: it now acts for Globex, as a member.
    assert people_client.post(f"/p/archiver/holds/{hold.pk}/release/").status_code == 404
    # Alice is a plain member of Globex: no hold at all, on Acme's Bob or on Globex's Carol.
    assert place(people_client, target_id=BOB).status_code == 403
    assert place(people_client, target_id=CAROL).status_code == 403
    hold.refresh_from_db()
    assert hold.active and Hold.objects.count() == 1
    page = people_client.get("/p/archiver/")
    assert b"bob@acme.test" not in page.content and b"data-hold=" not in page.content


def test_a_hold_on_someone_who_left_stays_listed_and_can_be_released(people_client, alice, acme_directory):
    people_client.force_login(alice)
    place(people_client)
    place(people_client, kind="group", target_id=LEGAL)
    # Bob leaves the account: Atrium's directory no longer lists him, nor the group.
    acme_directory.routes["/directory/v1/tenants/acme/users"] = (
        200, users((ALICE, "alice@acme.test", "Alice Anders", "owner")),
    )  # fmt: skip
    acme_directory.routes["/directory/v1/tenants/acme/groups"] = (200, {"groups": []})
    page = people_client.get("/p/archiver/")
    assert page.status_code == 200
    assert b"Bob Brown &lt;bob@acme.test&gt;" in page.content
    assert page.content.count(b'data-active="yes"') == 2
    bob_hold = Hold.objects.get(kind="person")
    assert people_client.post(f"/p/archiver/holds/{bob_hold.pk}/release/").status_code == 302
    bob_hold.refresh_from_db()
    assert not bob_hold.active
    # … and, no longer listed, he cannot be put on hold afresh.
    assert place(people_client).status_code == 400
