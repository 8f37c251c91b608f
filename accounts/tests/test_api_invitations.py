"""REST API v1 for invitations: invite, list, resend, revoke, CSV import (every bad row
reported, nothing imported); the link is only ever in the mail; isolation and roles."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.groups import group_create
from accounts.models import Invitation, Membership
from accounts.services import account_region_add
from accounts.tests.invitations_helpers import invite, link_path
from conftest import make_region, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1/accounts"


@pytest.fixture
def as_alice(alice, acme):
    api = APIClient()
    api.force_login(alice)
    return api


def test_invite_one_person_mails_a_link_and_never_returns_it(
    as_alice, acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post(
            f"{API}/acme/invitations/",
            {"email": "erin@acme.test", "first_name": "Erin", "role": "admin"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "pending" and body["role"] == "admin" and body["regions"] == "all"
    assert "/invite/" not in response.content.decode()
    assert link_path(mailoutbox[-1]).startswith("/invite/")


def test_invite_with_regions_and_groups(as_alice, acme):
    eu = make_region("eu", 8601, 9601)
    account_region_add(account=acme, region=eu)
    group = group_create(account=acme, actor=None, name="Ops")
    response = as_alice.post(
        f"{API}/acme/invitations/",
        {"email": "erin@acme.test", "regions": ["eu"], "groups": [group.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["regions"] == ["eu"] and response.json()["groups"] == ["Ops"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": "bob@acme.test"},  # already a member
        {"email": "erin@acme.test", "role": "emperor"},
        {"email": "erin@acme.test", "regions": ["jp"]},
        {"email": "erin@acme.test", "groups": [999999]},
    ],
)
def test_bad_invitations_are_400(as_alice, acme, body):
    response = as_alice.post(f"{API}/acme/invitations/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner_and_a_member_cannot_invite(api_client_for, acme):
    admin = api_client_for(acme, "admin")
    assert (
        admin.post(
            f"{API}/acme/invitations/", {"email": "o@acme.test", "role": "owner"}, format="json"
        ).status_code
        == 403
    )
    member = api_client_for(acme, "member")
    assert member.post(f"{API}/acme/invitations/", {"email": "x@acme.test"}, format="json").status_code == 403
    assert member.get(f"{API}/acme/invitations/").status_code == 403


@pytest.fixture
def api_client_for(db):
    def make(account, role):
        user = make_user(f"{role}-{account.slug}@acme.test")
        Membership.objects.create(account=account, user=user, role=role)
        api = APIClient()
        api.force_login(user)
        return api

    return make


def test_list_resend_and_revoke(as_alice, acme, alice, mailoutbox, django_capture_on_commit_callbacks):
    owner = Membership.objects.get(account=acme, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(acme, owner, "erin@acme.test")
    old_link = link_path(mailoutbox[-1])
    listed = as_alice.get(f"{API}/acme/invitations/", {"state": "pending"}).json()
    assert [i["email"] for i in listed["results"]] == ["erin@acme.test"]
    with django_capture_on_commit_callbacks(execute=True):
        resent = as_alice.post(f"{API}/acme/invitations/{invitation.pk}/resend/")
    assert resent.status_code == 200 and resent.json()["send_count"] == 2
    assert link_path(mailoutbox[-1]) != old_link
    revoked = as_alice.delete(f"{API}/acme/invitations/{invitation.pk}/")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert as_alice.get(f"{API}/acme/invitations/", {"state": "bogus"}).status_code == 400


def test_csv_import_invites_everyone_or_reports_every_bad_row(as_alice, acme):
    bad = SimpleUploadedFile(
        "people.csv",
        b"email,name,role\nerin@acme.test,Erin E,member\nnot-an-email,X,member\nfrank@acme.test,F,emperor\n",
    )
    response = as_alice.post(f"{API}/acme/invitations/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    lines = sorted(row["line"] for row in response.json()["rows"])
    assert lines == [3, 4]
    assert not Invitation.objects.exists()
    good = SimpleUploadedFile(
        "people.csv", b"email,name,role\nerin@acme.test,Erin E,member\nfrank@acme.test,F,admin\n"
    )
    response = as_alice.post(f"{API}/acme/invitations/import/", {"file": good}, format="multipart")
    assert response.status_code == 201, response.json()
    assert sorted(i["email"] for i in response.json()) == ["erin@acme.test", "frank@acme.test"]


def test_csv_import_without_a_file_is_400(as_alice, acme):
    assert as_alice.post(f"{API}/acme/invitations/import/", {}, format="multipart").status_code == 400


def test_another_accounts_admin_gets_404_for_acme_invitations(acme, alice, globex, carol):
    invitation = invite(acme, Membership.objects.get(account=acme, user=alice), "erin@acme.test")
    api = APIClient()
    api.force_login(carol)
    for url in (
        f"{API}/acme/invitations/",
        f"{API}/acme/invitations/{invitation.pk}/",
        f"{API}/globex/invitations/{invitation.pk}/",
    ):
        assert api.get(url).status_code == 404, url
    assert api.delete(f"{API}/globex/invitations/{invitation.pk}/").status_code == 404
    assert api.post(f"{API}/globex/invitations/{invitation.pk}/resend/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending" and invitation.send_count == 1
