"""Member lifecycle services: role, region access, bulk actions, audit rows, each change recorded
in the provisioning ledger for exactly the regions the member is provisioned in."""

import pytest
from django.core.exceptions import ValidationError

from accounts.groups import group_create
from accounts.models import AuditEvent, GroupMember, Membership
from accounts.services import (
    account_region_add,
    member_region_access_set,
    member_role_change,
    member_suspend,
    members_bulk,
)
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def us_eu(acme):
    us, eu = make_region("us", 8401, 9401), make_region("eu", 8402, 9402)
    account_region_add(account=acme, region=us)
    account_region_add(account=acme, region=eu)
    return us, eu


def desired(region, user):
    return ProvisioningRecord.objects.get(region=region, kind="user", object_key=str(user.public_id)).desired


def test_region_access_to_eu_only_deprovisions_us_and_keeps_eu(owner, bob_m, bob, us_eu):
    us, eu = us_eu
    member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[eu])
    assert desired(us, bob) is None
    assert desired(eu, bob)["active"] is True
    # back to all regions: US holds him again
    member_region_access_set(actor=owner, membership=bob_m, all_regions=True, regions=[])
    assert desired(us, bob)["userName"] == "bob@acme.test"


def test_a_member_limited_to_eu_is_not_back_filled_into_a_region_added_later(owner, bob_m, bob, us_eu, acme):
    _, eu = us_eu
    member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[eu])
    au = make_region("au", 8403, 9403)
    account_region_add(account=acme, region=au)
    assert not ProvisioningRecord.objects.filter(region=au, object_key=str(bob.public_id)).exists()
    assert ProvisioningRecord.objects.filter(region=au, object_key=str(owner.user.public_id)).exists()


def test_region_access_outside_the_accounts_regions_is_refused(owner, bob_m, us_eu):
    elsewhere = make_region("jp", 8404, 9404)
    with pytest.raises(ValidationError):
        member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[elsewhere])


def test_region_access_change_re_renders_the_members_groups(owner, bob_m, bob, us_eu):
    us, eu = us_eu
    group = group_create(account=owner.account, actor=owner, name="Backup operators")
    GroupMember.objects.create(group=group, membership=bob_m)
    member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[eu])
    rows = {r.region_id: r.desired for r in ProvisioningRecord.objects.filter(kind="group")}
    assert rows[eu.pk]["members"] == [{"externalId": str(bob.public_id)}]
    assert rows[us.pk]["members"] == []


def test_every_change_writes_an_audit_row_with_before_and_after(owner, bob_m, us_eu):
    member_role_change(actor=owner, membership=bob_m, role=Membership.Role.ADMIN)
    member_suspend(actor=owner, membership=bob_m)
    events = list(
        AuditEvent.objects.filter(account=owner.account, target_label="bob@acme.test").order_by("id")
    )
    actions = [e.action for e in events]
    assert actions[-2:] == ["member.role_change", "member.suspend"]
    role_change = events[-2]
    assert role_change.before["role"] == "member" and role_change.after["role"] == "admin"
    assert role_change.actor_email == "alice@acme.test"


def test_an_audit_row_rolls_back_with_its_change(owner, bob_m):
    count = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        member_role_change(actor=owner, membership=bob_m, role="emperor")
    assert AuditEvent.objects.count() == count


def test_bulk_suspend_skips_the_actor_with_a_reason_and_does_the_rest(owner, bob_m, acme):
    dave = Membership.objects.create(account=acme, user=make_user("dave@acme.test"))
    result = members_bulk(actor=owner, memberships=[bob_m, dave, owner], action="suspend")
    assert result.done == 2
    assert [(m.pk, "own membership" in reason) for m, reason in result.skipped] == [(owner.pk, True)]
    assert set(Membership.objects.filter(status="suspended").values_list("pk", flat=True)) == {
        bob_m.pk,
        dave.pk,
    }


def test_bulk_add_to_group_adds_everyone_once(owner, bob_m):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    members_bulk(actor=owner, memberships=[bob_m, owner], action="add_to_group", group=group)
    members_bulk(actor=owner, memberships=[bob_m], action="add_to_group", group=group)
    assert GroupMember.objects.filter(group=group).count() == 2


def test_bulk_refuses_an_unknown_action(owner, bob_m):
    with pytest.raises(ValidationError):
        members_bulk(actor=owner, memberships=[bob_m], action="delete_everything")
