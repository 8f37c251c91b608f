"""REST API v1: members, groups, audit log — same services as the pages, same permission table,
tenant isolation (another account's objects are 404, also by id guessing), bad input a 400 JSON."""

from datetime import timedelta

import pytest
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client, Token
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.groups import group_create
from accounts.models import AuditEvent, GroupMember, Membership
from accounts.services import account_region_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

API = "/api/v1/accounts"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_alice(api, alice, acme):
    api.force_login(alice)
    return api


@pytest.fixture
def eu(acme):
    region = make_region("eu", 8501, 9501)
    account_region_add(account=acme, region=region)
    return region


def test_an_anonymous_caller_is_told_to_authenticate(api, acme):
    response = api.get(f"{API}/acme/members/")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_an_admin_lists_members_with_status_and_region_access(as_alice, bob_m):
    body = as_alice.get(f"{API}/acme/members/").json()
    assert body["count"] == 2
    bob = next(m for m in body["results"] if m["email"] == "bob@acme.test")
    assert bob["status"] == "active" and bob["regions"] == "all"


def test_a_plain_member_sees_the_directory_only(api, bob, acme, alice):
    api.force_login(bob)
    body = api.get(f"{API}/acme/members/").json()
    assert {"id", "email", "name", "role"} == set(body["results"][0])


def test_search_and_role_filter(as_alice, bob_m):
    body = as_alice.get(f"{API}/acme/members/", {"search": "bob", "role": "member"}).json()
    assert [m["email"] for m in body["results"]] == ["bob@acme.test"]


def test_the_members_list_costs_a_constant_number_of_queries(as_alice, acme, django_assert_max_num_queries):
    for i in range(30):
        Membership.objects.create(account=acme, user=make_user(f"p{i}@acme.test"))
    with django_assert_max_num_queries(10):
        assert as_alice.get(f"{API}/acme/members/").status_code == 200


def test_patch_changes_role_status_and_regions_through_the_ledger(as_alice, bob_m, bob, eu):
    response = as_alice.patch(
        f"{API}/acme/members/{bob_m.pk}/",
        {"role": "admin", "status": "suspended", "regions": ["eu"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "admin" and response.json()["status"] == "suspended"
    assert response.json()["regions"] == ["eu"]
    row = ProvisioningRecord.objects.get(region=eu, object_key=str(bob.public_id))
    assert row.desired["active"] is False
    assert AuditEvent.objects.filter(action="member.suspend", target_label="bob@acme.test").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"role": "emperor"},
        {"status": "removing"},
        {"regions": ["jp"]},
        {"regions": "some"},
        {},
        {"first_name": "x" * 151},
    ],
)
def test_bad_changes_are_400_with_a_json_body(as_alice, bob_m, eu, body):
    response = as_alice.patch(f"{API}/acme/members/{bob_m.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()


def test_malformed_json_is_400(as_alice, bob_m):
    response = as_alice.generic(
        "PATCH", f"{API}/acme/members/{bob_m.pk}/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_the_last_owner_cannot_be_demoted_through_the_api(api, alice, acme, bob_m):
    bob_m.role = Membership.Role.ADMIN
    bob_m.save()
    api.force_login(bob_m.user)
    alice_m = Membership.objects.get(account=acme, user=alice)
    response = api.patch(f"{API}/acme/members/{alice_m.pk}/", {"role": "member"}, format="json")
    assert response.status_code == 403  # an admin may not change an owner at all


def test_delete_removes_the_member_and_says_when_regions_must_confirm(as_alice, bob_m, eu):
    response = as_alice.delete(f"{API}/acme/members/{bob_m.pk}/")
    assert response.status_code == 202
    assert response.json()["status"] == "removing"
    assert Membership.objects.get(pk=bob_m.pk).is_removing


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_roles_without_the_right_get_403_on_writes(api, acme, bob_m, role):
    other = Membership.objects.create(account=acme, user=make_user(f"{role}@acme.test"), role=role)
    api.force_login(other.user)
    assert api.patch(f"{API}/acme/members/{bob_m.pk}/", {"role": "admin"}, format="json").status_code == 403
    assert api.delete(f"{API}/acme/members/{bob_m.pk}/").status_code == 403
    assert api.post(f"{API}/acme/groups/", {"name": "Ops"}, format="json").status_code == 403


def test_read_only_sees_the_audit_log_and_plain_members_do_not(api, acme):
    reader = Membership.objects.create(account=acme, user=make_user("reader@acme.test"), role="read_only")
    api.force_login(reader.user)
    assert api.get(f"{API}/acme/audit/").status_code == 200
    member = Membership.objects.create(account=acme, user=make_user("m@acme.test"))
    api.force_login(member.user)
    assert api.get(f"{API}/acme/audit/").status_code == 403


def test_groups_crud_and_members(as_alice, bob_m, acme, eu):
    created = as_alice.post(f"{API}/acme/groups/", {"name": "Backup operators"}, format="json")
    assert created.status_code == 201, created.json()
    group_id = created.json()["id"]
    assert (
        as_alice.post(f"{API}/acme/groups/", {"name": "backup OPERATORS"}, format="json").status_code == 400
    )
    added = as_alice.post(f"{API}/acme/groups/{group_id}/members/", {"member_ids": [bob_m.pk]}, format="json")
    assert added.json() == {"added": 1}
    detail = as_alice.get(f"{API}/acme/groups/{group_id}/").json()
    assert [m["email"] for m in detail["members"]] == ["bob@acme.test"]
    renamed = as_alice.patch(f"{API}/acme/groups/{group_id}/", {"name": "Backups"}, format="json")
    assert renamed.json()["name"] == "Backups"
    assert as_alice.get(f"{API}/acme/groups/").json()["results"][0]["member_count"] == 1
    assert as_alice.delete(f"{API}/acme/groups/{group_id}/").status_code == 204
    assert ProvisioningRecord.objects.get(kind="group", region=eu).desired is None


def test_a_member_of_another_account_cannot_join_a_group(as_alice, acme, globex, carol):
    group = group_create(account=acme, actor=None, name="Ops")
    carol_m = Membership.objects.get(account=globex, user=carol)
    response = as_alice.post(
        f"{API}/acme/groups/{group.pk}/members/", {"member_ids": [carol_m.pk]}, format="json"
    )
    assert response.status_code == 400
    assert not GroupMember.objects.filter(group=group).exists()


def test_audit_log_filters_and_bad_dates(as_alice, bob_m):
    as_alice.patch(f"{API}/acme/members/{bob_m.pk}/", {"status": "suspended"}, format="json")
    body = as_alice.get(f"{API}/acme/audit/", {"action": "member.suspend"}).json()
    assert body["count"] == 1 and body["results"][0]["target_label"] == "bob@acme.test"
    assert body["results"][0]["actor_email"] == "alice@acme.test"
    assert as_alice.get(f"{API}/acme/audit/", {"since": "yesterday"}).status_code == 400
    today = timezone.now().date().isoformat()
    assert as_alice.get(f"{API}/acme/audit/", {"since": today, "until": today}).json()["count"] >= 1


def test_the_audit_log_cannot_be_written_through_the_api(as_alice):
    assert as_alice.post(f"{API}/acme/audit/", {}, format="json").status_code == 405
    assert as_alice.delete(f"{API}/acme/audit/").status_code == 405


# --- tenant isolation ---------------------------------------------------------------------------
def test_another_accounts_admin_gets_404_for_every_acme_object(api, acme, bob_m, globex, carol):
    group = group_create(account=acme, actor=None, name="Ops")
    api.force_login(carol)
    urls = [
        f"{API}/acme/members/",
        f"{API}/acme/members/{bob_m.pk}/",
        f"{API}/acme/groups/",
        f"{API}/acme/groups/{group.pk}/",
        f"{API}/acme/audit/",
        # Acme's ids under her own account
        f"{API}/globex/members/{bob_m.pk}/",
        f"{API}/globex/groups/{group.pk}/",
    ]
    for url in urls:
        assert api.get(url).status_code == 404, url
    assert api.patch(f"{API}/globex/members/{bob_m.pk}/", {"role": "admin"}, format="json").status_code == 404
    assert api.delete(f"{API}/globex/members/{bob_m.pk}/").status_code == 404
    assert api.post(f"{API}/globex/members/{bob_m.pk}/transfer-ownership/").status_code == 404
    assert api.delete(f"{API}/globex/groups/{group.pk}/").status_code == 404
    assert (
        api.post(
            f"{API}/globex/groups/{group.pk}/members/", {"member_ids": [bob_m.pk]}, format="json"
        ).status_code
        == 404
    )
    bob_m.refresh_from_db()
    assert bob_m.role == "member" and not bob_m.is_removing


def test_my_accounts_lists_only_the_callers_open_accounts(as_alice, globex):
    assert [a["slug"] for a in as_alice.get("/api/v1/accounts/").json()] == ["acme"]


# --- bearer tokens ------------------------------------------------------------------------------
def _access_token(user, scopes: list[str]) -> str:
    client = Client.objects.create(id="customer-app", name="Customer app", type=Client.Type.CONFIDENTIAL)
    client.set_scopes(["openid", "atrium:api"])
    client.save()
    value = "test-access-token-" + "-".join(scopes)
    Token.objects.create(
        client=client, user=user, type=Token.Type.ACCESS_TOKEN, hash=get_adapter().hash_token(value),
        scopes="\n".join(scopes), expires_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    return value


def test_a_bearer_token_with_the_api_scope_acts_as_its_person(api, alice, acme):
    token = _access_token(alice, ["openid", "atrium:api"])
    response = api.get(f"{API}/acme/members/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["count"] == 2  # alice and bob


def test_a_bearer_token_without_the_api_scope_is_refused(api, alice, acme):
    token = _access_token(alice, ["openid"])
    assert api.get(f"{API}/acme/members/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_an_unknown_bearer_token_is_not_a_login(api, acme):
    response = api.get(f"{API}/acme/members/", HTTP_AUTHORIZATION="Bearer forged")
    assert response.status_code in (401, 403)


def test_discovery_advertises_the_api_scope(client):
    assert "atrium:api" in client.get("/.well-known/openid-configuration").json()["scopes_supported"]


def test_a_plain_member_sees_a_groups_active_members_only(api, acme, bob, bob_m, owner):
    group = group_create(account=acme, actor=None, name="Ops")
    dave = Membership.objects.create(account=acme, user=make_user("dave@acme.test"), status="suspended")
    GroupMember.objects.create(group=group, membership=bob_m)
    GroupMember.objects.create(group=group, membership=dave)
    api.force_login(bob)
    body = api.get(f"{API}/acme/groups/{group.pk}/").json()
    assert [m["email"] for m in body["members"]] == ["bob@acme.test"]
