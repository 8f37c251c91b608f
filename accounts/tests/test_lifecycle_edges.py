"""Lifecycle edges: identity deletion leaves nothing behind, an owner invitation dies with its inviter's ownership, closing an account deletes its groups everywhere."""

import pytest
from django.core import mail

from accounts import profile, services
from accounts.groups import group_create, group_members_add
from accounts.invitations import invitation_create
from accounts.models import Membership
from accounts.services import account_region_add, membership_add
from accounts.tests.invitations_helpers import link_path
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db


def test_identity_deletion_leaves_no_region_row_or_group_reference(acme, globex, alice, bob, carol):
    owner = Membership.objects.get(account=acme, user=alice)
    bob_m = Membership.objects.get(account=acme, user=bob)
    eu, us = make_region("eu"), make_region("us", 8101, 9101)
    for account in (acme, globex):
        account_region_add(account=account, region=eu)
        account_region_add(account=account, region=us)
    services.member_region_access_set(actor=owner, membership=bob_m, all_regions=False, regions=[eu])
    g_bob = membership_add(account=globex, user=bob, status="suspended")
    group = group_create(account=acme, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    g_owner = Membership.objects.get(account=globex, user=carol)
    g_group = group_create(account=globex, actor=g_owner, name="G")
    group_members_add(group=g_group, actor=g_owner, memberships=[g_bob])
    key = str(bob.public_id)
    profile.identity_delete(user=bob)
    left = ProvisioningRecord.objects.filter(kind="user", object_key=key, desired__isnull=False)
    assert not left.exists(), list(left.values_list("tenant", "region__code"))
    for record in ProvisioningRecord.objects.filter(kind="group"):
        members = [m["externalId"] for m in (record.desired or {}).get("members", [])]
        assert key not in members, (record.tenant, record.region.code)


def test_an_owner_invitation_dies_with_its_inviters_ownership(
    client, acme, alice, django_capture_on_commit_callbacks
):
    """Eve (owner) invites an owner, then is demoted to admin: the pending link no longer makes
    anyone an owner (the invitation is refused as revoked)."""
    owner = Membership.objects.get(account=acme, user=alice)
    eve = membership_add(account=acme, user=make_user("eve@acme.test"), role="owner")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(account=acme, actor=eve, email="mallory@x.test", role="owner")
    path = link_path(mail.outbox[-1])  # the mail went out when the invitation committed
    services.member_role_change(actor=owner, membership=eve, role="admin")
    response = client.post(
        path, {"password": "Xy-long-passphrase-2026", "password_again": "Xy-long-passphrase-2026"}
    )
    assert response.status_code == 410
    assert not Membership.objects.filter(account=acme, user__email="mallory@x.test").exists()


def test_closing_an_account_deletes_its_groups_in_every_region(acme, alice, bob):
    owner = Membership.objects.get(account=acme, user=alice)
    bob_m = Membership.objects.get(account=acme, user=bob)
    account_region_add(account=acme, region=make_region("eu"))
    group = group_create(account=acme, actor=owner, name="Backup operators")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    from accounts.account_settings import account_settings_close

    account_settings_close(actor=owner)
    kept = ProvisioningRecord.objects.filter(kind="group", tenant="acme", desired__isnull=False)
    assert not kept.exists(), [r.desired for r in kept]
