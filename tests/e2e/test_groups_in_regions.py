"""Groups made on the portal's pages reach real regional servers (a real worker pushing over
mTLS), checked in each region's `/scim/v2/<tenant>/Groups` on its machine port: exactly the
members provisioned there, changes by PATCH, deletion; and a region never takes another
tenant's user into a group."""

from contextlib import contextmanager

import pytest
from django.db.models import F

from accounts.models import Group, Membership
from accounts.services import member_region_access_set
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, machine_http, wait_for

pytestmark = pytest.mark.e2e

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def all_synced() -> bool:
    return not ProvisioningRecord.objects.exclude(acked_version=F("desired_version")).exists()


@contextmanager
def scim(region):
    """The region's SCIM API over its mTLS machine port, with Atrium's provisioner token."""
    token = region_client.m2m_token(audience=region.machine_url, scope="scim", fresh=True)
    with machine_http(region, headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM}) as http:
        yield http


def held_group(http, group: Group, tenant: str = "acme") -> dict | None:
    found = http.get(f"/scim/v2/{tenant}/Groups", params={"filter": f'externalId eq "{group.public_id}"'})
    assert found.status_code == 200, found.text
    resources = found.json()["Resources"]
    assert len(resources) <= 1
    return resources[0] if resources else None


def region_user_id(http, user, tenant: str = "acme") -> str:
    found = http.get(
        f"/scim/v2/{tenant}/Users", params={"filter": f'externalId eq "{user.public_id}"'}
    ).json()
    (held,) = found["Resources"]
    return held["id"]


def member_ids(group_doc: dict) -> set[str]:
    return {m["value"] for m in group_doc.get("members", [])}


def patch(http, path: str, *operations):
    return http.patch(path, json={"schemas": [PATCH_OP], "Operations": list(operations)})


def create_group_on_the_portal(client, slug: str, name: str, memberships: list[Membership]) -> Group:
    assert client.post(f"/a/{slug}/groups/new/", {"name": name}).status_code == 302
    group = Group.objects.get(account__slug=slug, name=name)
    added = client.post(f"/a/{slug}/groups/{group.pk}/members/add/", {"members": [m.pk for m in memberships]})
    assert added.status_code == 302
    return group


@pytest.fixture
def memberships(acme, alice, bob):
    return {
        m.user.email.split("@")[0]: m for m in Membership.objects.filter(account=acme).select_related("user")
    }


def test_a_group_reaches_every_region_with_its_members_changes_by_patch_and_is_deleted(
    client, worker, regions, region_processes, acme, alice, bob, memberships
):
    us, eu = region_processes["us"], region_processes["eu"]
    account_uses(acme, [regions["us"], regions["eu"]])
    wait_for(
        lambda: all_synced() and ProvisioningRecord.objects.filter(kind="user").count() == 4,
        what="alice and bob in US and EU",
    )
    client.force_login(alice)

    # when alice makes "Backup operators" with bob and herself on the groups pages
    group = create_group_on_the_portal(
        client, "acme", "Backup operators", [memberships["bob"], memberships["alice"]]
    )
    wait_for(all_synced, what="the group synced")

    # then each region holds it, with exactly those two (by the region's own user ids)
    for region in (us, eu):
        with scim(region) as http:
            held = held_group(http, group)
            assert held is not None and held["displayName"] == "Backup operators"
            assert member_ids(held) == {region_user_id(http, alice), region_user_id(http, bob)}
    page = client.get(f"/a/acme/groups/{group.pk}/").content.decode()
    assert page.count('data-sync-state="synced"') == 2

    # given US also lists a user another SCIM client put into the group there
    with scim(us) as http:
        dave = http.post("/scim/v2/acme/Users", json={"schemas": [USER], "userName": "dave@acme.test"}).json()
        us_group = held_group(http, group)
        assert (
            patch(
                http,
                f"/scim/v2/acme/Groups/{us_group['id']}",
                {"op": "add", "path": "members", "value": [{"value": dave["id"]}]},
            ).status_code
            == 200
        )

    # when alice removes bob from the group
    removed = client.post(f"/a/acme/groups/{group.pk}/members/remove/", {"members": [memberships["bob"].pk]})
    assert removed.status_code == 302
    wait_for(all_synced, what="bob's removal synced")

    # then bob is patched out everywhere; US's own addition stays (a PATCH, not a replace)
    with scim(us) as http:
        held = held_group(http, group)
        assert held["id"] == us_group["id"]
        assert member_ids(held) == {region_user_id(http, alice), dave["id"]}
        assert region_user_id(http, bob)  # still a user of the tenant
    with scim(eu) as http:
        assert member_ids(held_group(http, group)) == {region_user_id(http, alice)}

    # when alice deletes the group (after its confirmation page)
    assert "Backup operators" in client.get(f"/a/acme/groups/{group.pk}/delete/").content.decode()
    assert client.post(f"/a/acme/groups/{group.pk}/delete/").status_code == 302
    wait_for(all_synced, what="the group's deletion synced")

    # then no region holds it, and its members stay
    for region in (us, eu):
        with scim(region) as http:
            assert held_group(http, group) is None
            assert region_user_id(http, alice) and region_user_id(http, bob)


def test_a_member_with_access_to_eu_only_is_in_the_group_only_in_eu(
    client, worker, regions, region_processes, acme, alice, bob, memberships
):
    account_uses(acme, [regions["us"], regions["eu"]])
    member_region_access_set(
        actor=memberships["alice"], membership=memberships["bob"], all_regions=False, regions=[regions["eu"]]
    )
    wait_for(all_synced, what="bob only in EU")
    client.force_login(alice)

    group = create_group_on_the_portal(
        client, "acme", "Backup operators", [memberships["alice"], memberships["bob"]]
    )
    wait_for(all_synced, what="the group synced")

    with scim(region_processes["us"]) as http:
        assert member_ids(held_group(http, group)) == {region_user_id(http, alice)}
    with scim(region_processes["eu"]) as http:
        assert member_ids(held_group(http, group)) == {region_user_id(http, alice), region_user_id(http, bob)}


def test_a_region_never_takes_a_globex_user_into_an_acme_group(
    client, worker, regions, region_processes, acme, alice, bob, memberships, globex, carol
):
    us = region_processes["us"]
    account_uses(acme, [regions["us"]])
    account_uses(globex, [regions["us"]])
    wait_for(
        lambda: all_synced() and ProvisioningRecord.objects.filter(kind="user").count() == 3,
        what="alice, bob and carol in US",
    )
    client.force_login(alice)
    group = create_group_on_the_portal(client, "acme", "Backup operators", [memberships["bob"]])
    wait_for(all_synced, what="the group synced")

    # the portal refuses Carol's membership in the form
    carols = Membership.objects.get(account=globex, user=carol)
    refused = client.post(f"/a/acme/groups/{group.pk}/members/add/", {"members": [carols.pk]})
    assert refused.status_code == 400

    with scim(us) as http:
        held = held_group(http, group)
        path = f"/scim/v2/acme/Groups/{held['id']}"
        carol_id = region_user_id(http, carol, tenant="globex")
        bob_id = region_user_id(http, bob)
        # when a SCIM client tries to put Globex's user into Acme's group, by PATCH or by PUT
        by_patch = patch(http, path, {"op": "add", "path": "members", "value": [{"value": carol_id}]})
        by_put = http.put(
            path, json={"schemas": [GROUP], "displayName": "Backup operators", "externalId": str(group.public_id),
                        "members": [{"value": bob_id}, {"value": carol_id}]},
        )  # fmt: skip
        # nor through Globex's base URL, where Acme's group does not exist
        through_globex = patch(
            http,
            f"/scim/v2/globex/Groups/{held['id']}",
            {"op": "add", "path": "members", "value": [{"value": carol_id}]},
        )
        # then each is refused and the group is unchanged
        for response in (by_patch, by_put):
            assert response.status_code == 400, response.text
            assert response.json()["scimType"] == "invalidValue"
        assert through_globex.status_code == 404, through_globex.text
        assert member_ids(http.get(path).json()) == {bob_id}
        assert "groups" not in http.get(f"/scim/v2/globex/Users/{carol_id}").json()
    assert all_synced()
