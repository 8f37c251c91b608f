"""A paid product gains a region only through billing: the catalog's one-click "Add <region>" is
refused for it (with the billing page named), so seats are never used without being charged; a
product on trial still adds regions there, free."""

import pytest
from django.core.exceptions import ValidationError

from billing.services import subscription_convert_trial
from billing.tests.conftest import MAR_1
from products.models import Entitlement
from products.services import entitlement_set
from products.upsell import product_region_add, product_region_plan


@pytest.fixture
def paid_in_eu(acme_everywhere, backup, plans, owner, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="trial")
    return subscription_convert_trial(
        account=acme_everywhere, product=backup, plan=plans["basic"], seats_by_region={"eu": 5},
        actor=owner, now=MAR_1,
    )  # fmt: skip


def test_adding_a_region_to_a_paid_product_is_sent_to_the_billing_page(
    paid_in_eu, acme, backup, owner, regions
):
    with pytest.raises(ValidationError, match="/a/acme/billing/"):
        product_region_plan(account=acme, product=backup, region=regions["au"])
    with pytest.raises(ValidationError, match="per seat"):
        product_region_add(account=acme, product=backup, region=regions["au"], actor=owner)
    assert not Entitlement.objects.filter(account=acme, product=backup, region=regions["au"]).exists()


def test_a_product_on_trial_still_adds_a_region_in_one_click(acme_everywhere, backup, owner, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="trial")
    added = product_region_add(account=acme_everywhere, product=backup, region=regions["au"], actor=owner)
    assert added.status == Entitlement.Status.TRIAL
