import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Membership, User
from accounts.services import account_region_add, member_add, member_remove, membership_add
from conftest import make_user
from regions.models import ProvisioningRecord, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_owner(alice, acme):
    return Membership.objects.get(account=acme, user=alice)


@pytest.fixture
def regions_us_eu(acme):
    regions = [
        Region.objects.create(
            code=c, name=c, people_url=f"http://{c}.test", machine_url=f"https://{c}.test:9"
        )
        for c in ("us", "eu")
    ]
    for region in regions:
        account_region_add(account=acme, region=region)
    return regions


def test_adding_a_person_from_another_account_reuses_their_identity(alice_owner, carol, globex, mailoutbox):
    membership = member_add(
        account=alice_owner.account, actor=alice_owner, email="CAROL@globex.test", first_name="", last_name="",
        role="member",
    )  # fmt: skip
    assert membership.user == carol
    assert User.objects.filter(email="carol@globex.test").count() == 1
    assert mailoutbox == []  # she already has a password


def test_only_an_owner_adds_an_owner(acme, alice_owner):
    admin = make_user("adam@acme.test")
    admin_membership = membership_add(account=acme, user=admin, role=Membership.Role.ADMIN)
    with pytest.raises(PermissionDenied):
        member_add(
            account=acme,
            actor=admin_membership,
            email="o@acme.test",
            first_name="",
            last_name="",
            role="owner",
        )


def test_region_add_backfills_every_member_and_members_follow_every_region(acme, alice_owner, regions_us_eu):
    keys = set(ProvisioningRecord.objects.values_list("object_key", "region__code"))
    members = Membership.objects.filter(account=acme).select_related("user")
    assert keys == {(str(m.user.public_id), r.code) for m in members for r in regions_us_eu}


def test_removing_a_member_desires_deletion_in_every_region(acme, alice_owner, bob, regions_us_eu):
    bob_membership = Membership.objects.get(account=acme, user=bob)
    member_remove(actor=alice_owner, membership=bob_membership)
    rows = ProvisioningRecord.objects.filter(object_key=str(bob.public_id))
    assert rows.count() == 2
    assert all(r.desired is None and r.desired_version == 2 and r.state == "pending" for r in rows)
