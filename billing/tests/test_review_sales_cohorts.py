"""Hostile review: trial cohorts across a year boundary (2026 has an ISO week 53: Mon 28 Dec 2026 to
Sun 3 Jan 2027) are one week, labelled by its Monday, and a rep's cohorts hold only their accounts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine

from accounts.models import Membership
from accounts.services import account_create, account_region_add
from billing.sales import SalesScope
from billing.sales_selectors import conversion_cohorts
from billing.tests.test_sales_selectors import event, own, sales_user, subscription
from conftest import make_region, make_user
from products.services import product_create
from products.trials import trial_start


def test_trials_either_side_of_new_year_in_iso_week_53_are_one_cohort(db):
    eu = make_region("eu", 8102, 9102)
    backup = product_create(code="backup", name="Backup & Recovery", regions=[eu], trial_days=30)
    sam, rob = sales_user("sam@atrium.test"), sales_user("rob@atrium.test")
    starts = {
        "dec-31": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # Thursday of ISO week 2026-W53
        "jan-03": datetime(2027, 1, 3, 23, 59, tzinfo=UTC),  # its Sunday
        "jan-04": datetime(2027, 1, 4, 0, 0, tzinfo=UTC),  # Monday of 2027-W01
        "robs": datetime(2027, 1, 1, 12, tzinfo=UTC),  # rob's account, same week
    }
    for slug, at in starts.items():
        owner = make_user(f"owner@{slug}.test")
        account = account_create(name=slug, slug=slug, owner=owner)
        account_region_add(account=account, region=eu)
        own(account, rob if slug == "robs" else sam)
        with time_machine.travel(at, tick=False):
            trial_start(account=account, product=backup, regions=[eu],
                        actor=Membership.objects.get(account=account, user=owner))  # fmt: skip
        if slug == "jan-03":  # converts a week later
            paid = at + timedelta(days=7)
            event(subscription(account, backup, started_at=paid), "start", paid, "0", "10")
    now = datetime(2027, 1, 20, 9, tzinfo=UTC)
    rows = conversion_cohorts(scope=SalesScope(user=sam, is_manager=False), now=now).rows
    totals = {
        r["week"]: (r["trials"], r["converted"], r["rate"]) for r in rows if r["product"] == "All products"
    }
    assert totals == {"2026-12-28": (2, 1, Decimal("50.0")), "2027-01-04": (1, 0, Decimal("0.0"))}
    manager = sales_user("maya@atrium.test", manager=True)
    rows = conversion_cohorts(scope=SalesScope(user=manager, is_manager=True), now=now).rows
    assert {r["week"]: r["trials"] for r in rows if r["product"] == "All products"} == {
        "2026-12-28": 3, "2027-01-04": 1,
    }  # fmt: skip
