"""Upsell: adding a region to a product the account owns. The service (status taken from what
is owned, the region added with every member provisioned there, refusals, permissions), the
progress counts from the user ledger rows, and the pages (buttons, confirmation, progress with
htmx polling, isolation, bad input)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Membership
from accounts.services import account_region_add, membership_add
from conftest import make_user
from products.models import Entitlement
from products.services import entitlement_set
from products.trials import trial_start
from products.upsell import product_region_add, product_region_plan, region_progress
from regions.models import AccountRegion, ProvisioningRecord

State = ProvisioningRecord.State


@pytest.fixture
def acme_us(acme, regions):
    account_region_add(account=acme, region=regions["us"])
    return acme


@pytest.fixture
def backup_us(acme_us, backup, regions):
    """Acme uses only US and owns backup there (active)."""
    entitlement_set(account=acme_us, product=backup, region=regions["us"], status="active")
    return backup


def _member(account, email, role):
    return membership_add(account=account, user=make_user(email), role=role)


def _document(account, region):
    record = ProvisioningRecord.objects.get(
        kind="entitlements", tenant=account.slug, object_key="entitlements", region=region
    )
    return record.desired


def _users(account, region):
    return ProvisioningRecord.objects.filter(kind="user", tenant=account.slug, region=region)


# The service


def test_adding_a_region_the_account_lacks_provisions_every_member_there(
    acme_us, owner, bob_m, backup_us, regions
):
    # when
    entitlement = product_region_add(account=acme_us, product=backup_us, region=regions["au"], actor=owner)

    # then
    assert (entitlement.region.code, entitlement.status, entitlement.ends_at) == ("au", "active", None)
    assert AccountRegion.objects.filter(account=acme_us, region=regions["au"]).exists()
    keys = set(_users(acme_us, regions["au"]).exclude(desired=None).values_list("object_key", flat=True))
    assert keys == {str(owner.user.public_id), str(bob_m.user.public_id)}
    assert _document(acme_us, regions["au"])["products"] == [
        {"code": "backup", "status": "active", "ends_at": None}
    ]
    event = AuditEvent.objects.get(action="product.region_add")
    assert event.actor == owner.user
    assert event.after == {
        "product": "backup", "region": "au", "status": "active", "ends_at": None, "region_added": True,
        "members": 2,
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="account.region_add", target_id="au").exists()


def test_a_region_the_account_already_uses_only_gets_the_entitlement(acme_everywhere, owner, backup, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    region_adds = AuditEvent.objects.filter(action="account.region_add").count()

    product_region_add(account=acme_everywhere, product=backup, region=regions["eu"], actor=owner)

    assert Entitlement.objects.get(account=acme_everywhere, region=regions["eu"]).status == "active"
    assert AuditEvent.objects.filter(action="account.region_add").count() == region_adds
    assert AuditEvent.objects.get(action="product.region_add").after["region_added"] is False


def test_an_active_entitlement_with_an_end_gives_the_new_region_the_same_end(acme_us, owner, backup, regions):
    ends = timezone.now() + timedelta(days=90)
    entitlement_set(account=acme_us, product=backup, region=regions["us"], status="active", ends_at=ends)

    entitlement = product_region_add(account=acme_us, product=backup, region=regions["eu"], actor=owner)

    assert (entitlement.status, entitlement.ends_at) == ("active", ends)


def test_a_running_trial_gets_the_region_with_the_trials_end_and_reminders(acme_us, owner, posture, regions):
    # given a 14-day trial whose 7-day reminder went
    (trial,) = trial_start(account=acme_us, product=posture, regions=[regions["us"]], actor=owner)
    Entitlement.objects.filter(pk=trial.pk).update(reminders_sent=["7d"])

    # when
    entitlement = product_region_add(account=acme_us, product=posture, region=regions["eu"], actor=owner)

    # then the trial is not lengthened, nor its reminders repeated
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.ends_at) == ("trial", trial.ends_at)
    assert entitlement.reminders_sent == ["7d"]


def test_a_trial_without_an_end_gives_the_region_none(acme_us, owner, posture, regions):
    entitlement_set(account=acme_us, product=posture, region=regions["us"], status="trial")
    entitlement = product_region_add(account=acme_us, product=posture, region=regions["eu"], actor=owner)
    assert (entitlement.status, entitlement.ends_at) == ("trial", None)


def test_an_expired_or_cancelled_region_can_be_added_back(acme_everywhere, owner, backup, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="cancelled")

    product_region_add(account=acme_everywhere, product=backup, region=regions["eu"], actor=owner)

    assert Entitlement.objects.get(account=acme_everywhere, region=regions["eu"]).status == "active"


@pytest.mark.parametrize("status", [None, "cancelled", "expired", "past_trial"])
def test_a_product_the_account_does_not_own_is_refused(acme_us, owner, backup, regions, status):
    if status == "past_trial":  # a trial whose end passed, not swept yet
        entitlement_set(account=acme_us, product=backup, region=regions["us"], status="trial",
                        ends_at=timezone.now() + timedelta(seconds=1))  # fmt: skip
        Entitlement.objects.update(starts_at=timezone.now() - timedelta(days=2),
                                   ends_at=timezone.now() - timedelta(days=1))  # fmt: skip
    elif status:
        entitlement_set(account=acme_us, product=backup, region=regions["us"], status=status)

    with pytest.raises(ValidationError) as exc:
        product_region_add(account=acme_us, product=backup, region=regions["eu"], actor=owner)

    assert exc.value.code == "not_owned"
    assert not Entitlement.objects.filter(region=regions["eu"]).exists()
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_a_region_already_entitled_is_refused(acme_us, owner, backup_us, regions):
    with pytest.raises(ValidationError) as exc:
        product_region_add(account=acme_us, product=backup_us, region=regions["us"], actor=owner)
    assert exc.value.code == "entitled"
    assert not AuditEvent.objects.filter(action="product.region_add").exists()


def test_a_region_where_the_product_is_not_offered_is_refused_and_nothing_changes(
    acme_us, owner, posture, regions
):
    entitlement_set(account=acme_us, product=posture, region=regions["us"], status="active")
    with pytest.raises(ValidationError) as exc:
        product_region_add(account=acme_us, product=posture, region=regions["au"], actor=owner)
    assert exc.value.code == "unavailable"
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["au"]).exists()


def test_the_plan_says_what_would_happen_without_writing(acme_us, owner, bob_m, backup_us, regions):
    plan = product_region_plan(account=acme_us, product=backup_us, region=regions["eu"])
    assert (plan.status, plan.adds_region, plan.members) == ("active", True, 2)
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_members_limited_to_other_regions_are_not_counted_or_provisioned(
    acme_us, owner, bob_m, backup_us, regions
):
    Membership.objects.filter(pk=bob_m.pk).update(all_regions=False)
    bob_m.regions.set([regions["us"]])
    assert product_region_plan(account=acme_us, product=backup_us, region=regions["eu"]).members == 1

    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=owner)

    assert region_progress(account=acme_us, region=regions["eu"]).members == 1


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_only_admins_and_owners_add_regions(acme_us, backup_us, regions, role):
    membership = _member(acme_us, f"{role}@acme.test", role)
    with pytest.raises(PermissionDenied):
        product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=membership)
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_an_admin_adds_a_region(acme_us, backup_us, regions):
    admin = _member(acme_us, "dora@acme.test", "admin")
    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=admin)
    assert Entitlement.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_a_membership_of_another_account_cannot_add_one(acme_us, globex, carol, backup_us, regions):
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(PermissionDenied):
        product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=carols)


# Progress


def test_progress_counts_the_members_ledger_rows_by_state_in_two_queries(
    acme_us, owner, bob_m, backup_us, regions, django_assert_num_queries
):
    # given three members added to EU, one synced, one failing, one failed
    dora = _member(acme_us, "dora@acme.test", "member")
    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=owner)
    rows = _users(acme_us, regions["eu"])
    rows.filter(object_key=str(owner.user.public_id)).update(state=State.SYNCED)
    rows.filter(object_key=str(bob_m.user.public_id)).update(state=State.RETRYING)
    rows.filter(object_key=str(dora.user.public_id)).update(state=State.FAILED)

    with django_assert_num_queries(2):
        progress = region_progress(account=acme_us, region=regions["eu"])

    assert (progress.members, progress.synced, progress.pending, progress.failing) == (3, 1, 0, 2)
    assert progress.document == "pending"
    assert progress.waiting and not progress.complete


def test_progress_is_complete_once_every_member_and_the_document_are_synced(
    acme_us, owner, bob_m, backup_us, regions
):
    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=owner)
    progress = region_progress(account=acme_us, region=regions["eu"])
    assert (progress.members, progress.pending, progress.waiting) == (2, 2, True)

    ProvisioningRecord.objects.filter(tenant="acme", region=regions["eu"]).update(state=State.SYNCED)

    progress = region_progress(account=acme_us, region=regions["eu"])
    assert progress.complete and not progress.waiting and progress.percent == 100


def test_progress_ignores_other_tenants_and_members_leaving(
    acme_us, globex, owner, bob_m, backup_us, regions
):
    account_region_add(account=globex, region=regions["us"])
    ProvisioningRecord.objects.filter(tenant="acme", object_key=str(bob_m.user.public_id)).update(
        desired=None
    )
    assert region_progress(account=acme_us, region=regions["us"]).members == 1


# The pages


def detail(code: str) -> str:
    return reverse("products:detail", args=[code])


def confirm_url(code: str, region: str) -> str:
    return reverse("products:upsell_confirm", args=[code, region])


def add_url(code: str, region: str) -> str:
    return reverse("products:upsell_add", args=[code, region])


def progress_url(code: str, region: str) -> str:
    return reverse("products:upsell_progress", args=[code, region])


def _section(body: str) -> str:
    return body.split('data-testid="upsell"', 1)[1].split("</section>", 1)[0]


def test_the_product_page_offers_the_regions_the_account_lacks_to_an_owner(
    client, alice, backup_us, posture, regions
):
    client.force_login(alice)
    section = _section(client.get(detail("backup")).content.decode())
    assert f'href="{confirm_url("backup", "eu")}?account=acme"' in section
    assert 'data-upsell="au"' in section and 'data-upsell="us"' not in section
    # a product the account does not own offers no region (the trial form instead)
    assert 'data-testid="upsell"' not in client.get(detail("posture")).content.decode()


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_others_see_no_buttons_and_their_requests_are_403(client, acme_us, backup_us, regions, role):
    membership = _member(acme_us, f"{role}@acme.test", role)
    client.force_login(membership.user)
    assert 'data-testid="upsell"' not in client.get(detail("backup")).content.decode()
    assert client.get(confirm_url("backup", "eu"), {"account": "acme"}).status_code == 403
    assert client.post(add_url("backup", "eu"), {"account": "acme"}).status_code == 403
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_the_confirmation_names_the_product_the_region_and_the_member_count(
    client, alice, bob_m, backup_us, regions, django_assert_max_num_queries
):
    client.force_login(alice)
    # 11: one asks billing whether the product is paid per seat (then the region is added there).
    with django_assert_max_num_queries(11):
        response = client.get(confirm_url("backup", "eu"), {"account": "acme"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Add EU (EU) to Backup &amp; Recovery?" in body
    assert 'data-adds-region="eu"' in body and 'data-members="2"' in body
    assert f'action="{add_url("backup", "eu")}"' in body
    assert not AccountRegion.objects.filter(region=regions["eu"]).exists()


def test_posting_adds_the_region_and_the_progress_page_polls_until_every_member_is_synced(
    client, alice, bob_m, acme_us, backup_us, regions, django_assert_max_num_queries
):
    client.force_login(alice)
    response = client.post(add_url("backup", "eu"), {"account": "acme"})
    assert response.status_code == 302
    assert response["Location"] == f"{progress_url('backup', 'eu')}?account=acme"
    assert Entitlement.objects.get(account=acme_us, region=regions["eu"]).status == "active"

    with django_assert_max_num_queries(8):
        body = client.get(response["Location"]).content.decode()
    assert "now has Backup &amp; Recovery in EU" in body
    assert 'data-members="2"' in body and 'data-pending="2"' in body
    assert 'hx-trigger="every 2s"' in body
    assert f'hx-get="{progress_url("backup", "eu")}?account=acme"' in body

    # once the region confirmed everything, the partial stops polling
    ProvisioningRecord.objects.filter(tenant="acme", region=regions["eu"]).update(state=State.SYNCED)
    part = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'id="upsell-progress"' in part and "<html" not in part
    assert 'data-complete="true"' in part and "hx-get" not in part
    assert f'href="{regions["eu"].people_url}/p/backup/"' in part


def test_failed_members_stop_the_polling_and_point_to_the_members_page(
    client, alice, bob_m, acme_us, backup_us, regions
):
    client.force_login(alice)
    client.post(add_url("backup", "eu"), {"account": "acme"})
    ProvisioningRecord.objects.filter(tenant="acme", region=regions["eu"]).update(state=State.SYNCED)
    _users(acme_us, regions["eu"]).filter(object_key=str(bob_m.user.public_id)).update(state=State.FAILED)

    body = client.get(progress_url("backup", "eu"), {"account": "acme"}).content.decode()

    assert 'data-failing="1"' in body and "hx-get" not in body
    assert 'data-testid="upsell-stuck"' in body


def test_a_read_only_member_may_watch_the_progress(client, acme_us, owner, backup_us, regions):
    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=owner)
    watcher = _member(acme_us, "ro@acme.test", "read_only")
    plain = _member(acme_us, "m@acme.test", "member")
    client.force_login(watcher.user)
    assert client.get(progress_url("backup", "eu"), {"account": "acme"}).status_code == 200
    client.force_login(plain.user)
    assert client.get(progress_url("backup", "eu"), {"account": "acme"}).status_code == 403


def test_carol_cannot_add_a_region_for_acme(client, carol, globex, backup_us, acme_us, regions):
    client.force_login(carol)
    assert client.get(confirm_url("backup", "eu"), {"account": "acme"}).status_code == 404
    assert client.post(add_url("backup", "eu"), {"account": "acme"}).status_code == 404
    # the query string's account is not used for a POST
    assert client.post(f"{add_url('backup', 'eu')}?account=acme").status_code == 404
    assert client.get(progress_url("backup", "us"), {"account": "acme"}).status_code == 404
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()
    assert not Entitlement.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_bad_input_is_a_4xx(client, alice, backup_us, posture, insights, regions):
    client.force_login(alice)
    assert client.get(confirm_url("nope", "eu"), {"account": "acme"}).status_code == 404
    assert client.get(confirm_url("backup", "zz"), {"account": "acme"}).status_code == 404
    assert client.get(confirm_url("posture", "au"), {"account": "acme"}).status_code == 404  # not offered
    assert client.get(confirm_url("backup", "eu"), {"account": "nope"}).status_code == 404
    assert client.post(add_url("backup", "eu"), {"account": ""}).status_code == 404
    assert client.post(add_url("backup", "eu")).status_code == 404
    assert client.get(add_url("backup", "eu")).status_code == 405
    assert client.post(confirm_url("backup", "eu"), {"account": "acme"}).status_code == 405
    assert client.get(progress_url("backup", "eu"), {"account": "acme"}).status_code == 404  # not used
    # refused by the service: a 409 naming why, nothing changed
    response = client.post(add_url("backup", "us"), {"account": "acme"})
    assert response.status_code == 409
    assert "already has Backup &amp; Recovery in US" in response.content.decode()
    response = client.get(confirm_url("posture", "eu"), {"account": "acme"})
    assert response.status_code == 409
    assert "does not own Security Posture" in response.content.decode()
    assert 'data-testid="upsell-confirm"' not in response.content.decode()  # no button
    assert not AccountRegion.objects.filter(region=regions["eu"]).exists()


def test_the_product_page_with_buttons_runs_a_fixed_number_of_queries(
    client, alice, acme_everywhere, backup, posture, regions, django_assert_max_num_queries
):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    client.force_login(alice)
    with django_assert_max_num_queries(9):  # as before the section existed
        body = client.get(detail("backup")).content.decode()
    assert 'data-upsell="eu"' in body and 'data-upsell="au"' in body


def test_the_progress_page_runs_the_same_queries_however_many_members(
    client, alice, acme_us, owner, backup_us, regions, django_assert_max_num_queries
):
    for n in range(20):
        _member(acme_us, f"m{n}@acme.test", "member")
    product_region_add(account=acme_us, product=backup_us, region=regions["eu"], actor=owner)
    client.force_login(alice)
    with django_assert_max_num_queries(8):  # incl. session, user, the account switcher, the product
        body = client.get(progress_url("backup", "eu"), {"account": "acme"}).content.decode()
    assert 'data-members="22"' in body and 'data-pending="22"' in body
    with django_assert_max_num_queries(8):
        client.get(progress_url("backup", "eu"), {"account": "acme"}, headers={"HX-Request": "true"})
