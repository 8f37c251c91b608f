"""Starting a free trial: the service (entitlements, documents, regions added, one trial per
product, refusals, permissions) and the product page's form (who sees it, isolation)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Membership
from accounts.services import account_region_add, membership_add
from conftest import make_user
from products.models import Entitlement
from products.trials import trial_start
from regions.models import AccountRegion, ProvisioningRecord


def _document(account, region):
    record = ProvisioningRecord.objects.get(
        kind="entitlements", tenant=account.slug, object_key="entitlements", region=region
    )
    return record.desired


@pytest.fixture
def acme_us(acme, regions):
    account_region_add(account=acme, region=regions["us"])
    return acme


def _member(account, email, role):
    return membership_add(account=account, user=make_user(email), role=role)


def test_starting_a_trial_creates_a_trial_entitlement_and_document_per_region(
    acme_us, owner, backup, regions
):
    # when
    before = timezone.now()
    entitlements = trial_start(
        account=acme_us, product=backup, regions=[regions["us"], regions["eu"]], actor=owner
    )

    # then
    assert [(e.region.code, e.status) for e in entitlements] == [("eu", "trial"), ("us", "trial")]
    ends = entitlements[0].ends_at
    assert before + timedelta(days=30) <= ends <= timezone.now() + timedelta(days=30)
    for region in (regions["us"], regions["eu"]):
        assert _document(acme_us, region)["products"] == [
            {"code": "backup", "status": "trial", "ends_at": ends.isoformat()}
        ]
    event = AuditEvent.objects.get(action="trial.start")
    assert event.actor == owner.user
    assert event.after["regions"] == ["eu", "us"]
    assert event.after["regions_added"] == ["eu"]


def test_a_region_the_account_does_not_use_is_added_with_every_member_provisioned_there(
    acme_us, owner, bob_m, backup, regions
):
    # when
    trial_start(account=acme_us, product=backup, regions=[regions["au"]], actor=owner)

    # then
    assert AccountRegion.objects.filter(account=acme_us, region=regions["au"]).exists()
    users = ProvisioningRecord.objects.filter(kind="user", tenant="acme", region=regions["au"])
    assert users.count() == Membership.objects.filter(account=acme_us).count() == 2
    assert AuditEvent.objects.filter(action="account.region_add", target_id="au").exists()
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_one_trial_per_product_per_account_in_any_region(acme_us, owner, backup, regions):
    # given
    trial_start(account=acme_us, product=backup, regions=[regions["us"]], actor=owner)

    # then
    for region in (regions["us"], regions["eu"]):
        with pytest.raises(ValidationError) as exc:
            trial_start(account=acme_us, product=backup, regions=[region], actor=owner)
        assert exc.value.code == "trial_taken"
    assert Entitlement.objects.filter(account=acme_us, product=backup).count() == 1


def test_a_product_the_account_already_owns_cannot_be_trialled(acme_us, owner, backup, regions):
    from products.services import entitlement_set

    entitlement_set(account=acme_us, product=backup, region=regions["us"], status="active")
    with pytest.raises(ValidationError):
        trial_start(account=acme_us, product=backup, regions=[regions["eu"]], actor=owner)


def test_a_region_where_the_product_is_not_offered_is_refused_and_nothing_changes(
    acme_us, owner, posture, regions
):
    with pytest.raises(ValidationError) as exc:
        trial_start(account=acme_us, product=posture, regions=[regions["eu"], regions["au"]], actor=owner)
    assert exc.value.code == "unavailable"
    assert not Entitlement.objects.exists()
    assert not AccountRegion.objects.filter(account=acme_us, region=regions["eu"]).exists()


def test_a_coming_soon_product_or_one_without_trial_is_refused(acme_us, owner, insights, regions):
    with pytest.raises(ValidationError) as exc:
        trial_start(account=acme_us, product=insights, regions=[regions["us"]], actor=owner)
    assert exc.value.code == "coming_soon"


def test_choosing_no_region_is_refused(acme_us, owner, backup):
    with pytest.raises(ValidationError):
        trial_start(account=acme_us, product=backup, regions=[], actor=owner)


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_only_admins_and_owners_start_trials(acme_us, backup, regions, role):
    membership = _member(acme_us, f"{role}@acme.test", role)
    with pytest.raises(PermissionDenied):
        trial_start(account=acme_us, product=backup, regions=[regions["us"]], actor=membership)
    assert not Entitlement.objects.exists()


def test_an_admin_starts_a_trial(acme_us, backup, regions):
    admin = _member(acme_us, "dora@acme.test", "admin")
    trial_start(account=acme_us, product=backup, regions=[regions["us"]], actor=admin)
    assert Entitlement.objects.get(account=acme_us).status == "trial"


def test_a_membership_of_another_account_cannot_start_one(acme_us, globex, carol, backup, regions):
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(PermissionDenied):
        trial_start(account=acme_us, product=backup, regions=[regions["us"]], actor=carols)


# The product page's form


def detail(code: str) -> str:
    return reverse("products:detail", args=[code])


def start_url(code: str) -> str:
    return reverse("products:trial_start", args=[code])


def test_an_owner_sees_the_form_with_the_products_regions_and_what_happens(
    client, alice, acme_us, backup, posture, regions
):
    client.force_login(alice)
    body = client.get(detail("posture")).content.decode()
    form = body.split('data-testid="trial"', 1)[1].split("</section>", 1)[0]
    assert "Start free trial" in form
    assert 'value="us"' in form and 'value="eu"' in form and 'value="au"' not in form
    assert 'data-adds-region="eu"' in form and 'data-adds-region="us"' not in form
    assert "14 days" in form


def test_starting_from_the_page_redirects_to_the_product_showing_the_trial_and_the_region_link(
    client, alice, acme_us, backup, regions
):
    client.force_login(alice)
    response = client.post(start_url("backup"), {"account": "acme", "regions": ["eu"]})
    assert response.status_code == 302
    assert response["Location"] == f"{detail('backup')}?account=acme"
    body = client.get(response["Location"]).content.decode()
    eu = body.split('<tr data-region="eu">', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="trial"' in eu
    assert f'href="{regions["eu"].people_url}/p/backup/"' in eu
    assert "Open in EU" in eu
    assert "has started in EU" in body
    assert 'data-testid="trial"' not in body  # no second trial offered


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_others_are_told_to_ask_an_admin_and_their_post_is_a_403(client, acme_us, backup, regions, role):
    membership = _member(acme_us, f"{role}@acme.test", role)
    client.force_login(membership.user)
    body = client.get(detail("backup")).content.decode()
    assert 'data-testid="ask-an-admin"' in body
    assert "Start free trial" not in body
    response = client.post(start_url("backup"), {"account": "acme", "regions": ["us"]})
    assert response.status_code == 403
    assert not Entitlement.objects.exists()


def test_carol_cannot_start_a_trial_for_acme(client, carol, globex, acme_us, backup, regions):
    client.force_login(carol)
    assert client.get(detail("backup"), {"account": "acme"}).status_code == 404
    response = client.post(f"{start_url('backup')}?account=acme", {"account": "acme", "regions": ["us"]})
    assert response.status_code == 404
    # Without an account field, the query string's account is not used either.
    assert client.post(f"{start_url('backup')}?account=acme", {"regions": ["us"]}).status_code == 404
    assert not Entitlement.objects.filter(account=acme_us).exists()


def test_bad_input_is_a_400_on_the_page(client, alice, acme_us, backup, posture, regions):
    client.force_login(alice)
    assert client.post(start_url("posture"), {"account": "acme", "regions": ["au"]}).status_code == 400
    assert client.post(start_url("backup"), {"account": "acme"}).status_code == 400
    assert client.post(start_url("nope"), {"account": "acme", "regions": ["us"]}).status_code == 404
    assert client.get(start_url("backup")).status_code == 405
    assert not Entitlement.objects.exists()


def test_a_second_start_from_the_page_is_a_400(client, alice, acme_us, backup, regions):
    client.force_login(alice)
    client.post(start_url("backup"), {"account": "acme", "regions": ["us"]})
    response = client.post(start_url("backup"), {"account": "acme", "regions": ["eu"]})
    assert response.status_code == 400
    assert "one free trial per product" in response.content.decode()


def test_the_product_page_runs_a_fixed_number_of_queries(
    client, alice, acme_us, backup, posture, regions, django_assert_max_num_queries
):
    client.force_login(alice)
    trial_start(
        account=acme_us, product=backup, regions=[regions["us"], regions["eu"]],
        actor=Membership.objects.get(user=alice),
    )  # fmt: skip
    with django_assert_max_num_queries(9):
        assert client.get(detail("backup")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(detail("posture")).status_code == 200


def test_the_catalog_links_a_product_the_account_lacks_to_its_trial(client, alice, acme_us, backup, insights):
    client.force_login(alice)
    body = client.get(reverse("products:catalog")).content.decode()
    assert f'href="{detail("backup")}?account=acme" data-try="backup"' in body
    assert 'data-try="insights"' not in body
