import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F

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
    keys = set(ProvisioningRecord.objects.filter(kind="user").values_list("object_key", "region__code"))
    members = Membership.objects.filter(account=acme).select_related("user")
    assert keys == {(str(m.user.public_id), r.code) for m in members for r in regions_us_eu}


def test_removing_a_member_desires_deletion_in_every_region(acme, alice_owner, bob, regions_us_eu):
    bob_membership = Membership.objects.get(account=acme, user=bob)
    member_remove(actor=alice_owner, membership=bob_membership)
    assert Membership.objects.get(pk=bob_membership.pk).status == Membership.Status.REMOVING
    rows = ProvisioningRecord.objects.filter(object_key=str(bob.public_id))
    assert rows.count() == 2
    assert all(r.desired is None and r.desired_version == 2 and r.state == "pending" for r in rows)


# --- removals wait for every region ----------------------------------------------------------
def _confirm(rows) -> None:
    """What the worker does when a region acknowledges: the row is synced, then the signal."""
    from regions.signals import record_synced

    for row in rows:
        ProvisioningRecord.objects.filter(pk=row.pk).update(state="synced", acked_version=row.desired_version)
        row.refresh_from_db()
        record_synced.send(sender=ProvisioningRecord, record=row)


def test_a_removed_member_stays_removing_until_every_region_confirms(acme, alice_owner, bob, regions_us_eu):
    membership = Membership.objects.get(account=acme, user=bob)
    removal = member_remove(actor=alice_owner, membership=membership)
    assert removal.unconfirmed == 2
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.REMOVING
    us_row, eu_row = ProvisioningRecord.objects.filter(object_key=str(bob.public_id)).order_by("region__code")
    # when one region confirms, the membership is still there
    _confirm([eu_row])
    assert Membership.objects.filter(pk=membership.pk).exists()
    # when the last one confirms, it goes; a duplicate confirmation changes nothing
    _confirm([us_row])
    assert not Membership.objects.filter(pk=membership.pk).exists()
    _confirm([us_row, eu_row])
    assert User.objects.filter(pk=bob.pk).exists()  # the identity stays


def test_a_removal_in_an_account_without_regions_is_done_at_once(acme, alice_owner, bob):
    membership = Membership.objects.get(account=acme, user=bob)
    assert member_remove(actor=alice_owner, membership=membership).unconfirmed == 0
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_confirmed_update_does_not_finish_anything(acme, alice_owner, bob, regions_us_eu):
    _confirm(ProvisioningRecord.objects.filter(object_key=str(bob.public_id)))
    assert Membership.objects.get(account=acme, user=bob).status == Membership.Status.ACTIVE


def test_a_member_being_removed_cannot_be_suspended_renamed_or_re_added(
    acme, alice_owner, bob, regions_us_eu
):
    from django.core.exceptions import ValidationError

    from accounts.services import member_rename, member_suspend

    membership = Membership.objects.get(account=acme, user=bob)
    member_remove(actor=alice_owner, membership=membership)
    with pytest.raises(ValidationError, match="being removed"):
        member_suspend(actor=alice_owner, membership=membership)
    with pytest.raises(ValidationError, match="being removed"):
        member_rename(actor=alice_owner, membership=membership, first_name="X", last_name="Y")
    with pytest.raises(ValidationError, match="still being removed"):
        member_add(
            account=acme, actor=alice_owner, email="bob@acme.test", first_name="", last_name="", role="member"
        )
    # and the ledger still desires his absence everywhere
    assert all(r.desired is None for r in ProvisioningRecord.objects.filter(object_key=str(bob.public_id)))


def test_user_set_active_pushes_the_flag_to_every_region_of_every_account(acme, bob, globex, regions_us_eu):
    from accounts.services import user_set_active

    membership_add(account=globex, user=bob)
    account_region_add(account=globex, region=regions_us_eu[0])
    user_set_active(user=bob, active=False)
    rows = ProvisioningRecord.objects.filter(object_key=str(bob.public_id))
    assert {(r.tenant, r.region.code) for r in rows} == {("acme", "us"), ("acme", "eu"), ("globex", "us")}
    assert all(r.desired["active"] is False for r in rows)
    user_set_active(user=bob, active=True)
    assert all(
        r.desired["active"] is True for r in ProvisioningRecord.objects.filter(object_key=str(bob.public_id))
    )


def test_user_delete_records_deletion_everywhere_then_deletes_the_identity(acme, bob, regions_us_eu):
    from accounts.services import user_delete

    key = str(bob.public_id)
    user_delete(user=bob)
    assert not User.objects.filter(pk=bob.pk).exists()
    rows = ProvisioningRecord.objects.filter(object_key=key)
    assert rows.count() == 2 and all(r.desired is None and r.state == "pending" for r in rows)


def test_account_close_removes_every_member_everywhere_and_keeps_the_slug(acme, alice_owner, regions_us_eu):
    from django.core.exceptions import ValidationError

    from accounts.models import Account
    from accounts.services import account_close, account_create
    from regions.models import AccountRegion

    account_close(account=acme)
    acme.refresh_from_db()
    assert acme.closed_at is not None
    assert not AccountRegion.objects.filter(account=acme).exists()
    assert set(Membership.objects.filter(account=acme).values_list("status", flat=True)) == {"removing"}
    rows = ProvisioningRecord.objects.filter(tenant="acme")
    assert rows.filter(kind="user").count() == 4 and all(r.desired is None for r in rows)
    # when every region confirms, the memberships go; the account row and its slug stay
    _confirm(rows)
    assert not Membership.objects.filter(account=acme).exists()
    assert Account.objects.filter(slug="acme").exists()
    with pytest.raises(ValidationError):
        account_create(name="Other Acme", slug="acme", owner=make_user("z@z.test"))
    with pytest.raises(ValidationError, match="closed"):
        account_region_add(account=acme, region=regions_us_eu[0])


def test_account_region_remove_records_every_members_deletion_there_only(acme, regions_us_eu):
    from accounts.services import account_region_remove
    from regions.models import AccountRegion

    us, eu = regions_us_eu
    recorded = account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=eu))
    assert recorded == 2
    assert list(AccountRegion.objects.filter(account=acme).values_list("region__code", flat=True)) == ["us"]
    assert all(r.desired is None for r in ProvisioningRecord.objects.filter(region=eu))
    assert all(r.desired is not None for r in ProvisioningRecord.objects.filter(region=us))
    assert Membership.objects.filter(account=acme, status="active").count() == 2


def test_the_sweep_finishes_removals_whose_confirmation_signal_was_lost(
    acme, alice_owner, bob, regions_us_eu
):
    from accounts.services import membership_removals_sweep

    membership = Membership.objects.get(account=acme, user=bob)
    member_remove(actor=alice_owner, membership=membership)
    assert membership_removals_sweep() == 0  # nothing confirmed yet
    # the regions confirmed, but no signal was sent
    ProvisioningRecord.objects.filter(desired__isnull=True).update(
        state="synced", acked_version=F("desired_version")
    )
    assert membership_removals_sweep() == 1
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert membership_removals_sweep() == 0
