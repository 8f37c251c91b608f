"""The MRR movements of a history made by billing's own services (convert, seat and region
changes, a decrease at period end, cancel, the invoice run), so the dashboard and the engine agree
on what each SubscriptionEvent means."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine

from accounts.services import account_create, account_region_add
from billing import services
from billing.models import Plan
from billing.sales import SalesScope
from billing.sales_selectors import mrr_movements
from billing.tests.test_sales_selectors import sales_user
from conftest import make_region, make_user
from products.services import product_create

MAR_1 = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
D = Decimal


def test_the_engines_history_gives_exact_mrr_movements(db):
    us, eu = make_region("us", 8101, 9101), make_region("eu", 8102, 9102)
    backup = product_create(code="backup", name="Backup & Recovery", regions=[us, eu], trial_days=30)
    plan = Plan.objects.create(product=backup, code="basic", name="Basic", interval="month", currency="USD",
                               unit_price=D("10.00"))  # fmt: skip
    acme = account_create(name="Acme", slug="acme", owner=make_user("alice@acme.test"))
    for region in (us, eu):
        account_region_add(account=acme, region=region)

    def at(day: datetime):
        return time_machine.travel(day, tick=False)

    with at(MAR_1):
        sub = services.subscription_convert_trial(
            account=acme, product=backup, plan=plan, seats_by_region={"us": 5}, actor=None, now=MAR_1
        )
    for days, seats in ((9, {"us": 8}), (14, {"us": 8, "eu": 2}), (19, {"us": 6, "eu": 2})):
        with at(MAR_1 + timedelta(days=days)):
            services.subscription_seats_change(
                subscription=sub, seats_by_region=seats, actor=None, now=MAR_1 + timedelta(days=days)
            )
    april = datetime(2027, 4, 1, 1, tzinfo=UTC)
    with at(april):
        services.invoices_run(now=april)
    with at(april + timedelta(days=4)):
        sub.refresh_from_db()
        services.subscription_cancel(subscription=sub, actor=None, now=april + timedelta(days=4))
    may = datetime(2027, 5, 1, 1, tzinfo=UTC)
    with at(may):
        services.invoices_run(now=may)

    maya = sales_user("maya@atrium.test", manager=True)
    table = mrr_movements(
        scope=SalesScope(user=maya, is_manager=True), now=may + timedelta(days=14), months=3
    )
    months = {row["month"]: row for row in table.rows}
    assert (months["2027-03"]["new"], months["2027-03"]["expansion_seats"]) == (D("50.00"), D("30.00"))
    assert months["2027-03"]["expansion_regions"] == D("20.00")
    assert months["2027-03"]["contraction"] == D("0.00")  # the decrease waits for the period's end
    assert months["2027-03"]["mrr"] == D("100.00")
    assert months["2027-04"]["contraction"] == D("-20.00")
    assert months["2027-04"]["mrr"] == D("80.00")
    assert months["2027-05"]["churn"] == D("-80.00")
    assert months["2027-05"]["mrr"] == D("0.00")
