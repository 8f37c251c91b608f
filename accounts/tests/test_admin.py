"""Django admin, used as an operator would (a superuser through the admin's own views): every
change a region must learn lands in the provisioning ledger through the services."""

import pytest

from accounts.models import Account, Membership, User
from accounts.services import account_region_add
from conftest import make_region, make_user
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = User.objects.create_superuser(email="staff@atrium.test", password="x-staff-pass-1")
    client.force_login(user)
    return user


@pytest.fixture
def us_eu(acme):
    regions = [make_region("us", 8101, 9101), make_region("eu", 8102, 9102)]
    for region in regions:
        account_region_add(account=acme, region=region)
    ProvisioningRecord.objects.update(state="synced", acked_version=1)
    return regions


def rows_of(user, tenant="acme"):
    return {
        r.region.code: r
        for r in ProvisioningRecord.objects.filter(
            object_key=str(user.public_id), tenant=tenant
        ).select_related("region")
    }


def membership_formset(account, changes=(), new=()):
    """The inline formset's POST data: existing memberships (with `changes` per user) + new rows."""
    data = {"name": account.name}
    existing = list(Membership.objects.filter(account=account).order_by("pk"))
    forms = [
        {"id": m.pk, "account": account.pk, "user": m.user_id, "role": m.role, "status": m.status}
        | dict(changes).get(m.user_id, {})
        for m in existing
    ] + [{"account": account.pk, **row} for row in new]
    for n, form in enumerate(forms):
        data.update({f"memberships-{n}-{k}": v for k, v in form.items()})
    data.update({
        "memberships-TOTAL_FORMS": len(forms), "memberships-INITIAL_FORMS": len(existing),
        "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000,
    })  # fmt: skip
    return data


def test_adding_a_region_in_admin_backfills_every_member(client, staff, acme):
    region = make_region("au", 8103, 9103)
    response = client.post("/admin/regions/accountregion/add/", {"account": acme.pk, "region": region.pk})
    assert response.status_code == 302, response.content[:500]
    assert AccountRegion.objects.filter(account=acme, region=region).exists()
    assert ProvisioningRecord.objects.filter(kind="user", tenant="acme", region=region).count() == 2


# --- users -------------------------------------------------------------------------------------
def test_deactivating_a_user_in_admin_pushes_active_false_to_every_region_of_every_account(
    client, staff, acme, bob, globex, us_eu
):
    from accounts.services import membership_add

    membership_add(account=globex, user=bob)
    account_region_add(account=globex, region=us_eu[0])
    # when the operator unticks "active" (everything else unchanged)
    response = client.post(
        f"/admin/accounts/user/{bob.pk}/change/", {"first_name": "Bob", "last_name": "Brown"}
    )
    assert response.status_code == 302, response.content[:800]
    # then every region of both accounts must learn it
    bob.refresh_from_db()
    assert bob.is_active is False
    rows = list(rows_of(bob).values()) + list(rows_of(bob, "globex").values())
    assert len(rows) == 3
    assert all(r.desired["active"] is False and r.state == "pending" for r in rows)
    # and ticking it again re-activates them everywhere
    client.post(
        f"/admin/accounts/user/{bob.pk}/change/",
        {"first_name": "Bob", "last_name": "Brown", "is_active": "on"},
    )
    assert all(r.desired["active"] is True for r in rows_of(bob).values())


def test_renaming_a_user_in_admin_reaches_the_regions_and_the_email_is_read_only(
    client, staff, acme, bob, us_eu
):
    response = client.post(
        f"/admin/accounts/user/{bob.pk}/change/",
        {"first_name": "Robert", "last_name": "Brown", "is_active": "on", "email": "evil@x.test"},
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.first_name == "Robert" and bob.email == "bob@acme.test"
    assert all(
        r.desired["name"]["givenName"] == "Robert" and r.desired_version == 2 for r in rows_of(bob).values()
    )


def test_deleting_a_user_in_admin_deprovisions_them_everywhere_first(client, staff, acme, bob, us_eu):
    response = client.post(f"/admin/accounts/user/{bob.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=bob.pk).exists()
    rows = rows_of(bob)
    assert set(rows) == {"us", "eu"} and all(
        r.desired is None and r.state == "pending" for r in rows.values()
    )


def test_bulk_deleting_users_in_admin_goes_through_the_service(client, staff, acme, alice, bob, us_eu):
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [bob.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=bob.pk).exists()
    assert all(r.desired is None for r in rows_of(bob).values()) and len(rows_of(bob)) == 2
    assert all(r.desired is not None for r in rows_of(alice).values())


# --- memberships inline ----------------------------------------------------------------------
def test_adding_a_membership_inline_provisions_it(client, staff, acme, us_eu):
    erin = make_user("erin@acme.test")
    data = membership_formset(acme, new=[{"user": erin.pk, "role": "member", "status": "active"}])
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.filter(account=acme, user=erin).exists()
    assert {c: r.desired["userName"] for c, r in rows_of(erin).items()} == {
        "us": "erin@acme.test",
        "eu": "erin@acme.test",
    }


def test_suspending_a_membership_inline_pushes_active_false(client, staff, acme, bob, us_eu):
    data = membership_formset(acme, changes={bob.pk: {"status": "suspended", "role": "admin"}})
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    membership = Membership.objects.get(account=acme, user=bob)
    assert (membership.status, membership.role) == ("suspended", "admin")
    assert all(r.desired["active"] is False and r.desired_version == 2 for r in rows_of(bob).values())


def test_deleting_a_membership_inline_removes_it_from_every_region_first(client, staff, acme, bob, us_eu):
    data = membership_formset(acme, changes={bob.pk: {"DELETE": "on"}})
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    # the membership waits, marked removing, until the regions confirm
    assert Membership.objects.get(account=acme, user=bob).status == "removing"
    assert all(r.desired is None and r.state == "pending" for r in rows_of(bob).values())


@pytest.mark.parametrize("change", [{"status": "removing"}, {"status": "emperor"}, {"role": "emperor"}])
def test_bad_inline_values_are_form_errors_not_500s(client, staff, acme, bob, us_eu, change):
    data = membership_formset(acme, changes={bob.pk: change})
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert Membership.objects.get(account=acme, user=bob).status == "active"
    assert all(r.desired_version == 1 for r in rows_of(bob).values())


def test_changing_the_person_of_a_membership_inline_is_refused(client, staff, acme, bob, carol, us_eu):
    data = membership_formset(acme, changes={bob.pk: {"user": carol.pk}})
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert b"cannot change" in response.content
    assert Membership.objects.filter(account=acme, user=bob).exists()


def test_re_adding_someone_being_removed_inline_is_a_form_error(client, staff, acme, bob, us_eu):
    client.post(
        f"/admin/accounts/account/{acme.pk}/change/",
        membership_formset(acme, changes={bob.pk: {"DELETE": "on"}}),
    )
    data = membership_formset(acme, new=[{"user": bob.pk, "role": "member", "status": "active"}])
    response = client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert Membership.objects.get(account=acme, user=bob).status == "removing"


# --- accounts and their regions --------------------------------------------------------------
def test_deleting_an_account_in_admin_closes_it_and_deprovisions_everyone(
    client, staff, acme, alice, bob, us_eu
):
    confirm = client.get(f"/admin/accounts/account/{acme.pk}/delete/")
    assert b"closed: members removed from every region" in confirm.content
    response = client.post(f"/admin/accounts/account/{acme.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.closed_at is not None
    for user in (alice, bob):
        assert all(r.desired is None for r in rows_of(user).values()) and len(rows_of(user)) == 2
    # the closed account's pages are gone, and its slug cannot be taken
    client.force_login(alice)
    assert client.get("/a/acme/").status_code == 404
    client.force_login(staff)
    taken = client.post(
        "/admin/accounts/account/add/",
        {"name": "New Acme", "slug": "acme", **membership_formset(Account(pk=0, name="x"))},
    )
    assert taken.status_code == 200 and b"already exists" in taken.content


def test_bulk_deleting_accounts_in_admin_closes_them(client, staff, acme, globex, us_eu):
    response = client.post(
        "/admin/accounts/account/",
        {"action": "delete_selected", "_selected_action": [acme.pk, globex.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert Account.objects.filter(closed_at__isnull=False).count() == 2
    assert all(r.desired is None for r in ProvisioningRecord.objects.filter(tenant="acme"))


def test_removing_an_account_region_in_admin_records_every_members_deletion_there(client, staff, acme, us_eu):
    us, eu = us_eu
    link = AccountRegion.objects.get(account=acme, region=eu)
    response = client.post(f"/admin/regions/accountregion/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccountRegion.objects.filter(pk=link.pk).exists()
    eu_rows = ProvisioningRecord.objects.filter(region=eu, tenant="acme")
    assert eu_rows.filter(kind="user").count() == 2
    assert all(r.desired is None and r.state == "pending" for r in eu_rows)  # entitlements too
    assert all(r.desired is not None for r in ProvisioningRecord.objects.filter(region=us))


def test_bulk_removing_account_regions_in_admin_goes_through_the_service(client, staff, acme, us_eu):
    links = list(AccountRegion.objects.filter(account=acme).values_list("pk", flat=True))
    response = client.post(
        "/admin/regions/accountregion/",
        {"action": "delete_selected", "_selected_action": links, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccountRegion.objects.filter(account=acme).exists()
    rows = ProvisioningRecord.objects.filter(tenant="acme")
    assert rows.filter(kind="user").count() == 4 and all(r.desired is None for r in rows)


def test_a_closed_account_cannot_gain_a_region_in_admin(client, staff, acme):
    from accounts.services import account_close

    account_close(account=acme)
    region = make_region("au", 8103, 9103)
    response = client.post("/admin/regions/accountregion/add/", {"account": acme.pk, "region": region.pk})
    assert response.status_code == 200
    assert b"closed" in response.content
    assert not AccountRegion.objects.filter(account=acme).exists()
