from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from products.models import Entitlement, ProductRegion


def test_an_account_has_one_entitlement_per_product_and_region(acme_everywhere, backup, regions):
    Entitlement.objects.create(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            account=acme_everywhere, product=backup, region=regions["eu"], status="trial"
        )


def test_the_same_product_may_be_owned_in_each_region(acme_everywhere, backup, regions):
    for region in regions.values():
        Entitlement.objects.create(account=acme_everywhere, product=backup, region=region, status="active")
    assert Entitlement.objects.filter(account=acme_everywhere, product=backup).count() == 3


def test_a_product_is_offered_once_per_region(backup, regions):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductRegion.objects.create(product=backup, region=regions["us"])


def test_the_database_refuses_an_unknown_status(acme_everywhere, backup, regions):
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            account=acme_everywhere, product=backup, region=regions["eu"], status="gold"
        )


def test_the_database_refuses_an_end_before_the_start(acme_everywhere, backup, regions):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            account=acme_everywhere, product=backup, region=regions["eu"], status="trial",
            starts_at=now, ends_at=now - timedelta(days=1),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "ends_in_days", "effective"),
    [("active", None, True), ("trial", 3, True), ("trial", -1, False), ("expired", None, False),
     ("cancelled", 3, False)],
)  # fmt: skip
def test_an_entitlement_grants_use_only_while_trial_or_active_and_not_ended(status, ends_in_days, effective):
    now = timezone.now()
    ends_at = now + timedelta(days=ends_in_days) if ends_in_days is not None else None
    entitlement = Entitlement(status=status, starts_at=now - timedelta(days=30), ends_at=ends_at)
    assert entitlement.is_effective is effective


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["trial-policy", "trial-requests"])
def test_a_product_cannot_take_the_code_of_a_catalog_page(code):
    from django.core.exceptions import ValidationError

    from products.models import Product

    with pytest.raises(ValidationError, match="names a page of the catalog"):
        Product(code=code, name="Clash", trial_days=0).full_clean()
