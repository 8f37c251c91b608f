"""Staff retire a product in Django admin (coming soon again, or no longer offered in a region)
while accounts hold it: ending those entitlements must still go through the services, so the
regions get the new document — the trial's expiry, a staff cancel — instead of a silent row
update the regions never hear of. Starting or granting one stays refused."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from products.models import Entitlement, ProductRegion
from products.services import entitlement_set
from products.trials import trial_start, trials_sweep
from regions.models import ProvisioningRecord

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
END = START + timedelta(days=14)  # posture: a 14-day trial


def _document(account, region):
    return ProvisioningRecord.objects.get(
        kind="entitlements", tenant=account.slug, object_key="entitlements", region=region
    )


@pytest.fixture
def trial(acme_everywhere, owner, posture, regions):
    with time_machine.travel(START, tick=False):
        trial_start(account=acme_everywhere, product=posture, regions=[regions["eu"]], actor=owner)
    return Entitlement.objects.get(account=acme_everywhere, product=posture, region=regions["eu"])


def _retire_coming_soon(product):
    product.coming_soon = True
    product.save()  # what ProductAdmin's save does


def _retire_from_eu(product, regions):
    ProductRegion.objects.filter(product=product, region=regions["eu"]).delete()  # the admin inline


@pytest.mark.parametrize("retire", ["coming_soon", "not_offered"])
def test_a_trial_of_a_retired_product_expires_and_the_region_is_told(
    acme_everywhere, trial, posture, regions, retire
):
    # given
    version = _document(acme_everywhere, regions["eu"]).desired_version
    _retire_coming_soon(posture) if retire == "coming_soon" else _retire_from_eu(posture, regions)
    # when
    with time_machine.travel(END + timedelta(minutes=1), tick=False):
        trials_sweep()
    # then
    trial.refresh_from_db()
    assert trial.status == "expired"
    document = _document(acme_everywhere, regions["eu"])
    assert document.desired_version == version + 1
    assert [p["status"] for p in document.desired["products"]] == ["expired"]


def test_staff_can_cancel_an_entitlement_of_a_product_gone_coming_soon(
    acme_everywhere, trial, posture, regions
):
    _retire_coming_soon(posture)
    entitlement_set(account=acme_everywhere, product=posture, region=regions["eu"], status="cancelled")
    assert [p["status"] for p in _document(acme_everywhere, regions["eu"]).desired["products"]] == [
        "cancelled"
    ]


@pytest.mark.parametrize("status", ["trial", "active"])
def test_granting_a_retired_product_stays_refused(acme_everywhere, trial, posture, regions, status):
    _retire_coming_soon(posture)
    with pytest.raises(ValidationError, match="coming soon"):
        entitlement_set(account=acme_everywhere, product=posture, region=regions["eu"], status=status)
