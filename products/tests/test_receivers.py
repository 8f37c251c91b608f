"""An account's region changes carry its entitlements: a region added learns what the account
owns there, a region left enforces nothing for it (accounts.signals, products/receivers.py)."""

import pytest

from accounts.services import account_region_add, account_region_remove
from products.services import entitlement_set
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db


def document(region, tenant="acme"):
    return ProvisioningRecord.objects.get(kind="entitlements", tenant=tenant, region=region).desired


def test_a_region_added_later_receives_the_accounts_entitlements_there(acme, regions, backup):
    account_region_add(account=acme, region=regions["eu"])
    entitlement_set(account=acme, product=backup, region=regions["eu"], status="active")
    # when the account starts using US and is entitled there
    account_region_add(account=acme, region=regions["us"])
    assert document(regions["us"]) == {"tenant": "acme", "products": []}
    entitlement_set(account=acme, product=backup, region=regions["us"], status="trial")
    assert [p["code"] for p in document(regions["us"])["products"]] == ["backup"]
    # EU's document is its own
    assert document(regions["eu"])["products"][0]["status"] == "active"


def test_a_region_left_enforces_no_product_for_the_account(acme, regions, backup):
    account_region_add(account=acme, region=regions["eu"])
    entitlement_set(account=acme, product=backup, region=regions["eu"], status="active")
    account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=regions["eu"]))
    assert document(regions["eu"]) is None  # delivered as an empty product list (regions/kinds.py)
