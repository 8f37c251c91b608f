"""Group services: permission-checked, audited, and recorded in the ledger per region with
only the members provisioned there."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from accounts.groups import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_update,
)
from accounts.models import AuditEvent, Group, GroupMember, Membership
from accounts.services import (
    account_region_add,
    member_region_access_set,
    member_remove,
    membership_add,
)
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

GROUP = ProvisioningRecord.Kind.GROUP


@pytest.fixture
def us_eu(acme):
    regions = {"us": make_region("us", 8101, 9101), "eu": make_region("eu", 8102, 9102)}
    for region in regions.values():
        account_region_add(account=acme, region=region)
    return regions


def group_rows(group) -> dict:
    return {
        r.region.code: r
        for r in ProvisioningRecord.objects.filter(
            kind=GROUP, object_key=str(group.public_id)
        ).select_related("region")
    }


def members_in(record) -> set[str]:
    return {m["externalId"] for m in record.desired["members"]}


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_creating_a_group_records_it_once_per_region_and_audits_it(owner, us_eu):
    group = group_create(
        account=owner.account, actor=owner, name="  Backup operators ", description="Restores"
    )
    rows = group_rows(group)
    assert set(rows) == {"us", "eu"}
    for row in rows.values():
        assert row.tenant == "acme" and row.state == "pending" and row.desired_version == 1
        assert row.desired == {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": str(group.public_id),
            "displayName": "Backup operators",
            "members": [],
        }
    (event,) = audit("group.create")
    assert (event.actor, event.target_id, event.target_label) == (
        owner.user,
        str(group.public_id),
        group.name,
    )
    assert event.after == {"name": "Backup operators", "description": "Restores"}


def test_a_group_of_an_account_without_regions_records_nothing(owner):
    group_create(account=owner.account, actor=owner, name="Ops")
    assert not ProvisioningRecord.objects.filter(kind=GROUP).exists()


def test_adding_members_records_one_change_per_region_naming_them(owner, bob_m, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    added = group_members_add(group=group, actor=owner, memberships=[owner, bob_m])
    assert added == 2
    rows = group_rows(group)
    expected = {str(owner.user.public_id), str(bob_m.user.public_id)}
    assert {code: members_in(row) for code, row in rows.items()} == {"us": expected, "eu": expected}
    assert {row.desired_version for row in rows.values()} == {2}
    (event,) = audit("group.members_add")
    assert event.after == {"members": ["alice@acme.test", "bob@acme.test"]}
    # adding them again changes nothing and audits nothing
    assert group_members_add(group=group, actor=owner, memberships=[bob_m]) == 0
    assert {row.desired_version for row in group_rows(group).values()} == {2}
    assert len(audit("group.members_add")) == 1


def test_a_member_with_access_to_eu_only_appears_only_in_eus_group(owner, bob_m, us_eu):
    member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[us_eu["eu"]])
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    rows = group_rows(group)
    assert members_in(rows["eu"]) == {str(bob_m.user.public_id)}
    assert members_in(rows["us"]) == set()
    # US's representation did not change, so US gets no new version
    assert (rows["eu"].desired_version, rows["us"].desired_version) == (2, 1)


def test_changing_a_members_region_access_rerenders_their_groups(owner, bob_m, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[us_eu["us"]])
    rows = group_rows(group)
    assert members_in(rows["us"]) == {str(bob_m.user.public_id)}
    assert members_in(rows["eu"]) == set()


def test_removing_a_member_from_the_group_drops_them_everywhere_and_audits_it(owner, bob_m, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[owner, bob_m])
    assert group_members_remove(group=group, actor=owner, memberships=[bob_m]) == 1
    rows = group_rows(group)
    assert {code: members_in(row) for code, row in rows.items()} == {
        "us": {str(owner.user.public_id)},
        "eu": {str(owner.user.public_id)},
    }
    (event,) = audit("group.members_remove")
    assert event.before == {"members": ["bob@acme.test"]}
    assert Membership.objects.filter(pk=bob_m.pk).exists()  # still in the account


def test_removing_a_member_from_the_account_drops_them_from_the_groups_representation(owner, bob_m, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[owner, bob_m])
    member_remove(actor=owner, membership=bob_m)
    rows = group_rows(group)
    assert all(members_in(row) == {str(owner.user.public_id)} for row in rows.values())
    # and a member being removed cannot join a group
    with pytest.raises(ValidationError):
        group_members_add(group=group, actor=owner, memberships=[Membership.objects.get(pk=bob_m.pk)])


def test_a_membership_of_another_account_is_refused_and_nothing_is_recorded(owner, globex, carol, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(ValidationError):
        group_members_add(group=group, actor=owner, memberships=[owner, carols])
    assert not GroupMember.objects.exists()
    assert {row.desired_version for row in group_rows(group).values()} == {1}
    assert audit("group.members_add") == []


def test_renaming_reaches_every_region_and_a_description_alone_reaches_none(owner, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_update(group=group, actor=owner, name="Operators", description="")
    rows = group_rows(group)
    assert {row.desired["displayName"] for row in rows.values()} == {"Operators"}
    assert {row.desired_version for row in rows.values()} == {2}
    (event,) = audit("group.update")
    assert (event.before, event.after) == ({"name": "Ops"}, {"name": "Operators"})
    group_update(group=group, actor=owner, name="Operators", description="Runs things")
    assert {row.desired_version for row in group_rows(group).values()} == {2}
    assert audit("group.update")[0].after == {"description": "Runs things"}
    # nothing changed: nothing audited
    group_update(group=group, actor=owner, name="Operators", description="Runs things")
    assert len(audit("group.update")) == 2


def test_deleting_a_group_records_its_deletion_everywhere_and_audits_it(owner, bob_m, us_eu):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    group_delete(group=group, actor=owner)
    assert not Group.objects.filter(pk=group.pk).exists()
    assert not GroupMember.objects.exists()
    rows = group_rows(group)
    assert set(rows) == {"us", "eu"} and all(row.desired is None for row in rows.values())
    (event,) = audit("group.delete")
    assert event.before == {"name": "Ops", "description": "", "member_count": 1}
    # deleting again is harmless
    group_delete(group=group, actor=owner)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("x" * 151, "at most 150"),
        ("BACKUP operators", "already"),
    ],
)
def test_bad_names_are_refused(owner, name, message):
    group_create(account=owner.account, actor=owner, name="Backup operators")
    with pytest.raises(ValidationError) as exc:
        group_create(account=owner.account, actor=owner, name=name)
    assert message in str(exc.value.message_dict["name"])
    assert Group.objects.count() == 1


def test_renaming_onto_another_groups_name_is_refused_but_a_change_of_case_is_not(owner):
    ops = group_create(account=owner.account, actor=owner, name="Ops")
    group_create(account=owner.account, actor=owner, name="Dev")
    with pytest.raises(ValidationError):
        group_update(group=ops, actor=owner, name="dev")
    assert group_update(group=ops, actor=owner, name="OPS").name == "OPS"


def test_the_same_name_is_fine_in_another_account(owner, globex, carol):
    group_create(account=owner.account, actor=owner, name="Ops")
    carols = Membership.objects.get(account=globex, user=carol)
    assert group_create(account=globex, actor=carols, name="ops").account == globex


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_only_owners_and_admins_change_groups(acme, owner, bob_m, role):
    group = group_create(account=acme, actor=owner, name="Ops")
    actor = membership_add(account=acme, user=make_user(f"{role}@acme.test"), role=role)
    attempts = [
        lambda: group_create(account=acme, actor=actor, name="Mine"),
        lambda: group_update(group=group, actor=actor, name="Mine"),
        lambda: group_members_add(group=group, actor=actor, memberships=[bob_m]),
        lambda: group_members_remove(group=group, actor=actor, memberships=[bob_m]),
        lambda: group_delete(group=group, actor=actor),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert list(Group.objects.values_list("name", flat=True)) == ["Ops"]


def test_an_admin_manages_groups(acme, owner, bob_m):
    admin = membership_add(account=acme, user=make_user("adam@acme.test"), role="admin")
    group = group_create(account=acme, actor=admin, name="Ops")
    assert group_members_add(group=group, actor=admin, memberships=[bob_m]) == 1


def test_a_suspended_admin_changes_nothing(acme, owner):
    admin = membership_add(account=acme, user=make_user("adam@acme.test"), role="admin")
    Membership.objects.filter(pk=admin.pk).update(status="suspended")
    admin.refresh_from_db()
    with pytest.raises(PermissionDenied):
        group_create(account=acme, actor=admin, name="Ops")


def test_an_owner_of_another_account_cannot_touch_acmes_groups(acme, owner, globex, carol, bob_m):
    group = group_create(account=acme, actor=owner, name="Ops")
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(PermissionDenied):
        group_members_add(group=group, actor=carols, memberships=[bob_m])
    with pytest.raises(PermissionDenied):
        group_delete(group=group, actor=carols)
    with pytest.raises(PermissionDenied):
        group_create(account=acme, actor=carols, name="Mine")
    assert Group.objects.filter(pk=group.pk).exists()


def test_a_group_deleted_meanwhile_is_bad_input_not_an_error(owner, bob_m):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    Group.objects.filter(pk=group.pk).delete()
    with pytest.raises(ValidationError):
        group_members_add(group=group, actor=owner, memberships=[bob_m])
    with pytest.raises(ValidationError):
        group_update(group=group, actor=owner, name="Other")


def test_a_region_added_later_receives_the_group_with_its_members(owner, bob_m):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    account_region_add(account=owner.account, region=make_region("au", 8103, 9103))
    assert members_in(group_rows(group)["au"]) == {str(bob_m.user.public_id)}


def test_the_demo_data_has_backup_operators_with_bob_and_loads_twice(db):
    call_command("load_demo")
    call_command("load_demo")
    group = Group.objects.get(account__slug="acme", name="Backup operators")
    assert [m.user.email for m in group.members.select_related("user")] == ["bob@acme.test"]
    assert Group.objects.count() == 1
