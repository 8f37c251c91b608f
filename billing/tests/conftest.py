"""Billing fixtures: regions US, EU, AU; Acme uses all three, Globex only EU; backup offered in all,
posture in US and EU; USD plans for backup (monthly 10.00, yearly 100.00, team 15.00 monthly) with
PlanChange pairs; a time in the middle of nowhere special (2027-03-01 is a Monday, March has 31 days)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from accounts.services import account_region_add
from billing.models import Plan, PlanChange
from conftest import make_region
from products.services import product_create

MAR_1 = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


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
    return product_create(code="backup", name="Backup", regions=list(regions.values()), trial_days=30)


@pytest.fixture
def posture(regions):
    return product_create(
        code="posture", name="Posture", regions=[regions["us"], regions["eu"]], trial_days=14
    )


def make_plan(product, code, price, interval="month", currency="USD", position=0):
    return Plan.objects.create(
        product=product,
        code=code,
        name=code.replace("-", " ").title(),
        interval=interval,
        currency=currency,
        unit_price=Decimal(price),
        position=position,
    )


@pytest.fixture
def plans(backup):
    basic = make_plan(backup, "basic-monthly", "10.00")
    team = make_plan(backup, "team-monthly", "15.00", position=1)
    yearly = make_plan(backup, "basic-yearly", "100.00", interval="year", position=2)
    PlanChange.objects.create(from_plan=basic, to_plan=team, direction=PlanChange.Direction.UPGRADE)
    PlanChange.objects.create(from_plan=team, to_plan=basic, direction=PlanChange.Direction.DOWNGRADE)
    PlanChange.objects.create(from_plan=basic, to_plan=yearly, direction=PlanChange.Direction.DOWNGRADE)
    return {"basic": basic, "team": team, "yearly": yearly}
