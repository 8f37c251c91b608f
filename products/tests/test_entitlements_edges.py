"""Hostile input and region changes around entitlements: a region left ends what the account had there (trials extend without it, it can be added back), NUL characters are 400s."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import account_region_add, account_region_remove
from products import upsell
from products.trials import trial_extend, trial_start
from regions.models import AccountRegion

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_us(acme, regions):
    account_region_add(account=acme, region=regions["us"])
    return acme


def test_nul_account_on_trial_post_is_not_500(client, alice, acme_us, backup, regions):
    client.force_login(alice)
    r = client.post("/products/backup/trial/", {"account": "acme\x00", "regions": ["us"]})
    assert r.status_code in (400, 404), r.status_code


def test_nul_account_on_upsell_post_is_not_500(client, alice, acme_us, backup, regions):
    client.force_login(alice)
    r = client.post("/products/backup/regions/eu/add/go/", {"account": "acme\x00"})
    assert r.status_code in (400, 404), r.status_code


def test_api_trial_nul_slug_in_url_is_not_500(alice, acme_us, backup):
    api = APIClient()
    api.force_login(alice)
    r = api.post("/api/v1/accounts/acme%00/trials/", {"product": "backup", "regions": ["us"]}, format="json")
    assert r.status_code in (400, 404), r.status_code


def test_staff_extend_trial_after_account_left_one_of_its_regions(
    alice, acme_us, backup, regions, django_user_model
):
    owner = Membership.objects.get(account=acme_us, user=alice)
    rows = trial_start(account=acme_us, product=backup, regions=[regions["us"], regions["eu"]], actor=owner)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme_us, region=regions["eu"]))
    staff = django_user_model.objects.filter(pk=alice.pk).first()
    staff.is_staff = True
    staff.save()
    trial_extend(entitlement=rows[0], days=7, actor=staff)  # ValidationError: does not use EU?


def test_region_left_during_trial_cannot_be_added_back(alice, acme_us, backup, regions):
    owner = Membership.objects.get(account=acme_us, user=alice)
    trial_start(account=acme_us, product=backup, regions=[regions["us"], regions["eu"]], actor=owner)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme_us, region=regions["eu"]))
    upsell.product_region_plan(account=acme_us, product=backup, region=regions["eu"])
