"""A trial length that would overflow the calendar is refused where it is entered, and a trial
start on a product stored with one (edited outside the admin) is a 400, never a 500."""

import pytest
from django.core.exceptions import ValidationError

from accounts.services import account_region_add
from products.models import Product
from products.services import product_create

pytestmark = pytest.mark.django_db


def test_the_catalog_refuses_a_trial_of_more_than_ten_years(regions):
    with pytest.raises(ValidationError):
        product_create(code="big", name="Big", regions=[regions["us"]], trial_days=5_000_000)


def test_a_trial_start_on_a_product_stored_with_an_absurd_length_is_a_400(client, alice, acme, regions):
    account_region_add(account=acme, region=regions["us"])
    product_create(code="big", name="Big", regions=[regions["us"]], trial_days=30)
    Product.objects.filter(code="big").update(trial_days=5_000_000)  # outside any validation
    client.force_login(alice)
    response = client.post("/products/big/trial/", {"account": "acme", "regions": ["us"]})
    assert response.status_code in (302, 400), response.status_code
