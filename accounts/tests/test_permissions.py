"""The role × action table, written out here independently of accounts/permissions.py (so a
change to who may do what is a deliberate change to both), then enforced by the services
themselves: each role tries each write through the service layer, with no view in between."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import permissions
from accounts.groups import group_create, group_members_add
from accounts.models import Group, Membership
from accounts.services import (
    member_leave,
    member_reactivate,
    member_region_access_set,
    member_remove,
    member_rename,
    member_role_change,
    member_suspend,
    members_bulk,
    membership_update,
    ownership_transfer,
)
from conftest import make_user

pytestmark = pytest.mark.django_db

R = Membership.Role
ROLES = [R.OWNER, R.ADMIN, R.MEMBER, R.BILLING, R.READ_ONLY]

# action: (owner, admin, member, billing, read_only)
TABLE = {
    "account.view": (1, 1, 1, 1, 1),
    "account.rename": (1, 1, 0, 0, 0),
    "account.close": (1, 0, 0, 0, 0),
    "members.directory": (1, 1, 1, 1, 1),
    "members.view_admin": (1, 1, 0, 0, 1),
    "members.invite": (1, 1, 0, 0, 0),
    "members.manage": (1, 1, 0, 0, 0),
    "members.manage_owners": (1, 0, 0, 0, 0),
    "members.sign_out": (1, 1, 0, 0, 0),
    "sync.retry": (1, 1, 0, 0, 0),
    "groups.view": (1, 1, 1, 1, 1),
    "groups.manage": (1, 1, 0, 0, 0),
    "apps.manage": (1, 1, 0, 0, 0),
    "sso.manage": (1, 1, 0, 0, 0),
    "security.manage": (1, 1, 0, 0, 0),
    "audit.view": (1, 1, 0, 0, 1),
    "entitlements.view": (1, 1, 0, 1, 1),
    "billing.view": (1, 0, 0, 1, 0),
    "billing.manage": (1, 0, 0, 1, 0),
}


def test_the_table_names_every_action_and_nothing_else():
    assert set(TABLE) == permissions.ACTIONS


@pytest.mark.parametrize("action", sorted(TABLE))
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=[str(r) for r in ROLES])
def test_role_may_do_action_as_the_table_says(action, role_index):
    membership = Membership(role=ROLES[role_index], status=Membership.Status.ACTIVE)
    assert permissions.can(membership, action) is bool(TABLE[action][role_index])


@pytest.mark.parametrize("status", [Membership.Status.SUSPENDED, Membership.Status.REMOVING])
def test_an_inactive_owner_may_do_nothing(status):
    membership = Membership(role=R.OWNER, status=status)
    assert permissions.allowed_actions(membership) == frozenset()


def test_an_unknown_action_is_a_programming_error_not_a_refusal():
    with pytest.raises(KeyError):
        permissions.can(Membership(role=R.OWNER), "members.teleport")


# --- enforced in the services ----------------------------------------------------------------
@pytest.fixture
def team(acme, alice):
    """Acme with one active member per role (alice is the owner) and a target member."""
    people = {R.OWNER: Membership.objects.get(account=acme, user=alice)}
    for role in ROLES[1:]:
        user = make_user(f"{role}@acme.test")
        people[role] = Membership.objects.create(account=acme, user=user, role=role)
    target = Membership.objects.create(account=acme, user=make_user("target@acme.test"), role=R.MEMBER)
    return people, target


WRITES = {
    "rename": lambda actor, target: member_rename(
        actor=actor, membership=target, first_name="T", last_name="X"
    ),
    "suspend": lambda actor, target: member_suspend(actor=actor, membership=target),
    "reactivate": lambda actor, target: member_reactivate(actor=actor, membership=target),
    "role_change": lambda actor, target: member_role_change(actor=actor, membership=target, role=R.ADMIN),
    "region_access": lambda actor, target: member_region_access_set(
        actor=actor, membership=target, all_regions=False, regions=[]
    ),
    "remove": lambda actor, target: member_remove(actor=actor, membership=target),
    "bulk_suspend": lambda actor, target: members_bulk(actor=actor, memberships=[target], action="suspend"),
    "group_create": lambda actor, target: group_create(account=target.account, actor=actor, name="Ops"),
}
ALLOWED = {R.OWNER, R.ADMIN}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("role", ROLES, ids=[str(r) for r in ROLES])
def test_services_enforce_the_table(team, role, write):
    people, target = team
    if role in ALLOWED:
        WRITES[write](people[role], target)
    else:
        with pytest.raises(PermissionDenied):
            WRITES[write](people[role], target)


def test_an_admin_cannot_make_or_change_an_owner(team):
    people, target = team
    with pytest.raises(PermissionDenied):
        member_role_change(actor=people[R.ADMIN], membership=target, role=R.OWNER)
    with pytest.raises(PermissionDenied):
        member_suspend(actor=people[R.ADMIN], membership=people[R.OWNER])
    member_role_change(actor=people[R.OWNER], membership=target, role=R.OWNER)
    target.refresh_from_db()
    assert target.role == R.OWNER


def test_an_admin_of_another_account_is_refused_by_every_service(team, globex, carol):
    _, target = team
    outsider = Membership.objects.get(account=globex, user=carol)
    for write in WRITES.values():
        with pytest.raises(PermissionDenied):
            write(outsider, target)
    group = Group.objects.create(account=target.account, name="Acme ops")
    with pytest.raises(PermissionDenied):
        group_members_add(group=group, actor=outsider, memberships=[target])


# --- the last owner ----------------------------------------------------------------------------
def test_the_last_owner_cannot_be_demoted_suspended_removed_or_leave(team):
    people, _ = team
    owner = people[R.OWNER]
    assert Membership.objects.filter(account=owner.account, role=R.OWNER).count() == 1
    for attempt in (
        lambda: membership_update(membership=owner, role=R.ADMIN),
        lambda: membership_update(membership=owner, status=Membership.Status.SUSPENDED),
        lambda: member_leave(membership=owner),
    ):
        with pytest.raises(ValidationError, match="last owner"):
            attempt()
    owner.refresh_from_db()
    assert (owner.role, owner.status) == (R.OWNER, Membership.Status.ACTIVE)


def test_ownership_transfer_makes_the_other_owner_and_the_actor_admin(team):
    people, target = team
    ownership_transfer(actor=people[R.OWNER], to=target)
    target.refresh_from_db()
    people[R.OWNER].refresh_from_db()
    assert target.role == R.OWNER
    assert people[R.OWNER].role == R.ADMIN


def test_only_an_owner_transfers_ownership(team):
    people, target = team
    with pytest.raises(PermissionDenied):
        ownership_transfer(actor=people[R.ADMIN], to=target)


def test_with_two_owners_one_may_leave(team):
    people, target = team
    member_role_change(actor=people[R.OWNER], membership=target, role=R.OWNER)
    member_leave(membership=people[R.OWNER])
    # (no regions to confirm: the membership is gone at once)
    assert not Membership.objects.filter(pk=people[R.OWNER].pk).exists()
