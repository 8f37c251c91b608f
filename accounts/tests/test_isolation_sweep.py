"""Carol (owner of Globex) against every Acme object, on every page and endpoint: 404, and nothing changes."""

import pytest
from rest_framework.test import APIClient

from accounts.groups import group_create, group_members_add
from accounts.invitations import invitation_create
from accounts.models import AuditEvent, GroupMember, Invitation, Membership
from accounts.services import account_region_add
from conftest import make_region
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db
API = "/api/v1/accounts"


@pytest.fixture
def world(acme, globex, alice, bob, carol):
    owner = Membership.objects.get(account=acme, user=alice)
    bob_m = Membership.objects.get(account=acme, user=bob)
    region = make_region("eu")
    account_region_add(account=acme, region=region)
    account_region_add(account=globex, region=region)
    group = group_create(account=acme, actor=owner, name="Acme ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    inv = invitation_create(account=acme, actor=owner, email="new@acme.test")
    record = ProvisioningRecord.objects.filter(tenant="acme").first()
    g_owner = Membership.objects.get(account=globex, user=carol)
    g_group = group_create(account=globex, actor=g_owner, name="Globex ops")
    return {"bob_m": bob_m, "group": group, "inv": inv, "record": record, "g_group": g_group}


def test_carol_gets_404_for_acme_objects_everywhere(client, carol, world):
    bob_id, gid, iid, rid = world["bob_m"].pk, world["group"].pk, world["inv"].pk, world["record"].pk
    client.raise_request_exception = False
    client.force_login(carol)
    before = (AuditEvent.objects.count(), Invitation.objects.get(pk=iid).key_hash)
    gets = [
        "/a/acme/",
        "/a/acme/members/",
        "/a/acme/audit/",
        "/a/acme/audit/export/",
        f"/a/globex/members/{bob_id}/suspend/",
        f"/a/globex/members/{bob_id}/transfer/",
        f"/a/globex/groups/{gid}/",
        f"/a/globex/groups/{gid}/edit/",
        f"/a/globex/members/bulk/?action=suspend&ids={bob_id}",
    ]
    posts = [
        (f"/a/globex/members/{bob_id}/suspend/", {}),
        (f"/a/globex/members/{bob_id}/role/", {"role": "owner"}),
        (f"/a/globex/members/{bob_id}/transfer/", {}),
        ("/a/globex/members/bulk/", {"action": "suspend", "ids": [bob_id]}),
        (f"/a/globex/sync/{rid}/retry/", {}),
        (f"/a/globex/invitations/{iid}/resend/", {}),
        (f"/a/globex/invitations/{iid}/revoke/", {}),
        (f"/a/globex/groups/{gid}/delete/", {}),
        (f"/a/globex/groups/{world['g_group'].pk}/members/add/", {"members": [bob_id]}),
    ]
    bad = []
    for url in gets:
        r = client.get(url)
        if r.status_code not in (404, 400):
            bad.append(("GET", url, r.status_code))
    for url, data in posts:
        r = client.post(url, data)
        if r.status_code not in (404, 400):
            bad.append(("POST", url, r.status_code))
    api = APIClient(raise_request_exception=False)
    api.force_login(carol)
    for method, url, data in [
        ("get", f"{API}/globex/members/{bob_id}/", None),
        ("patch", f"{API}/globex/members/{bob_id}/", {"status": "suspended"}),
        ("delete", f"{API}/globex/members/{bob_id}/", None),
        ("post", f"{API}/globex/members/{bob_id}/transfer-ownership/", None),
        ("get", f"{API}/globex/groups/{gid}/", None),
        ("post", f"{API}/globex/groups/{world['g_group'].pk}/members/", {"member_ids": [bob_id]}),
        ("get", f"{API}/globex/invitations/{iid}/", None),
        ("delete", f"{API}/globex/invitations/{iid}/", None),
        ("post", f"{API}/globex/invitations/{iid}/resend/", None),
        ("get", f"{API}/acme/audit/", None),
    ]:
        r = getattr(api, method)(url, data, format="json") if data else getattr(api, method)(url)
        if r.status_code not in (404, 400):
            bad.append((method, url, r.status_code))
    assert not bad
    assert Membership.objects.get(pk=bob_id).status == "active"
    assert not GroupMember.objects.filter(group=world["g_group"]).exists()
    assert Invitation.objects.get(pk=iid).key_hash == before[1]


def test_badges_with_acme_ids_show_nothing_of_acme(client, carol, world):
    client.force_login(carol)
    r = client.get(f"/a/globex/members/badges/?ids={world['bob_m'].pk}&regions=eu")
    assert r.status_code == 200
    assert b"bob" not in r.content.lower()
