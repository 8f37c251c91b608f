"""Catalog fixtures: regions US, EU, AU; Acme uses all three, Globex only EU; backup offered
everywhere, posture in US and EU, insights coming soon (offered nowhere)."""

import pytest

from accounts.services import account_region_add
from conftest import make_region
from products.services import product_create


@pytest.fixture
def regions(db):
    return {
        "us": make_region("us", 8101, 9101),
        "eu": make_region("eu", 8102, 9102),
        "au": make_region("au", 8103, 9103),
    }


@pytest.fixture
def acme_everywhere(acme, regions):
    for region in regions.values():
        account_region_add(account=acme, region=region)
    return acme


@pytest.fixture
def globex_eu(globex, regions):
    account_region_add(account=globex, region=regions["eu"])
    return globex


@pytest.fixture
def backup(regions):
    return product_create(
        code="backup", name="Backup & Recovery", regions=list(regions.values()), trial_days=30, icon="💾"
    )


@pytest.fixture
def posture(regions):
    return product_create(
        code="posture", name="Security Posture", regions=[regions["us"], regions["eu"]], trial_days=14
    )


@pytest.fixture
def insights(regions):
    return product_create(code="insights", name="Data Insights", regions=[], coming_soon=True)
