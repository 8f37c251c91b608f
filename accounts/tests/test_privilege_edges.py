"""Privilege edges: API changes are all-or-nothing, ownership only to someone who can sign in, operators' changes audited, a data export holds no one else's data."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts import profile, services
from accounts.groups import group_create, group_members_add
from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from conftest import make_user

pytestmark = pytest.mark.django_db

API = "/api/v1/accounts"


@pytest.fixture
def admin_m(acme):
    return membership_add(account=acme, user=make_user("dana@acme.test", "Dana"), role="admin")


def _api(user):
    api = APIClient(raise_request_exception=False)
    api.force_login(user)
    return api


def test_api_patch_refused_leaves_nothing_half_done_role_then_bad_region(admin_m, bob_m):
    response = _api(admin_m.user).patch(
        f"{API}/acme/members/{bob_m.pk}/", {"role": "read_only", "regions": ["zz"]}, format="json"
    )
    assert response.status_code == 400
    bob_m.refresh_from_db()
    assert bob_m.role == "member", "a 400 answer, yet the role change was committed"


def test_api_patch_refused_leaves_nothing_half_done_rename_then_owner(admin_m, bob_m):
    response = _api(admin_m.user).patch(
        f"{API}/acme/members/{bob_m.pk}/", {"first_name": "Pwned", "role": "owner"}, format="json"
    )
    assert response.status_code == 403
    bob_m.user.refresh_from_db()
    assert bob_m.user.first_name == "Bob", "a 403 answer, yet the rename was committed"


def test_ownership_cannot_go_to_a_deactivated_identity(owner, bob_m):
    services.user_set_active(user=bob_m.user, active=False)  # staff deactivated bob's identity
    bob_m.refresh_from_db()
    with pytest.raises(ValidationError):
        services.ownership_transfer(actor=owner, to=bob_m)
    usable_owners = Membership.objects.filter(
        account=owner.account, role="owner", status="active", user__is_active=True
    )
    assert usable_owners.exists(), "Acme is left with no owner who can sign in"


def test_staff_deactivating_an_identity_is_audited(owner, bob_m):
    before = AuditEvent.objects.count()
    services.user_set_active(user=bob_m.user, active=False)  # what Django admin's UserAdmin calls
    assert AuditEvent.objects.count() > before, "bob is deactivated in every region; no audit row"


def test_staff_closing_an_account_is_audited(owner):
    staff = make_user("staff@atrium.test")
    # what Django admin's AccountAdmin.delete_model calls
    services.account_close(account=owner.account, audit_actor=staff)
    event = AuditEvent.objects.get(account=owner.account, action="account.close")
    assert event.actor_email == "staff@atrium.test"


def test_my_data_export_holds_no_other_persons_data(owner, bob_m):
    group = group_create(account=owner.account, actor=owner, name="Ops")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    services.member_rename(actor=owner, membership=bob_m, first_name="Robert", last_name="Brown")
    exported = repr(profile.profile_data_export(user=owner.user))
    assert "bob@acme.test" not in exported and "Robert" not in exported
