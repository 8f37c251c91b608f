"""The sales figures on scripted histories, with exact expected values.

The MRR history is written as SubscriptionEvent rows (the selectors' input contract: each row's
mrr_before/after and kind, as billing.services records them); trials start through
products.trials.trial_start at fixed times (time-machine), so their audit rows are the real ones."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Membership, User
from accounts.services import account_create, account_region_add, membership_add
from billing import sales_selectors as sel
from billing.models import Plan, SalesOwner, Subscription, SubscriptionEvent, SubscriptionRegion
from billing.sales import MANAGER_GROUP, REP_GROUP, SalesScope, sales_groups_ensure
from conftest import make_region, make_user
from products.services import product_create
from products.trials import trial_start

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
D = Decimal


# Builders shared with the other sales tests ------------------------------------------------------


def sales_user(email: str, *, manager: bool = False) -> User:
    groups = sales_groups_ensure()
    user = make_user(email, email.split("@")[0].title())
    user.is_staff = True  # sales staff are Atrium employees (billing.sales.sales_scope_of)
    user.save(update_fields=["is_staff"])
    user.groups.add(groups[MANAGER_GROUP if manager else REP_GROUP])
    return user


def own(account, rep) -> None:
    SalesOwner.objects.create(account=account, rep=rep)


def plan_for(product, currency: str = "USD", price: str = "10.00", interval: str = "month") -> Plan:
    plan, _ = Plan.objects.get_or_create(
        product=product, code=f"{currency.lower()}-{interval}",
        defaults={"name": f"{currency} {interval}", "interval": interval, "currency": currency,
                  "unit_price": D(price)},
    )  # fmt: skip
    return plan


def subscription(account, product, *, currency="USD", started_at=NOW, seats=None, status="active",
                 cancelled_at=None) -> Subscription:  # fmt: skip
    plan = plan_for(product, currency)
    sub = Subscription.objects.create(
        account=account, product=product, plan=plan, status=status, unit_price=plan.unit_price,
        currency=currency, interval=plan.interval, current_period_start=started_at,
        current_period_end=started_at + timedelta(days=30), started_at=started_at, cancelled_at=cancelled_at,
    )  # fmt: skip
    for region, count in (seats or {}).items():
        SubscriptionRegion.objects.create(subscription=sub, region=region, seats=count)
    return sub


def event(sub: Subscription, kind: str, at: datetime, before: str, after: str) -> SubscriptionEvent:
    return SubscriptionEvent.objects.create(
        subscription=sub, account=sub.account, kind=kind, effective_at=at, mrr_before=D(before),
        mrr_after=D(after), currency=sub.currency,
    )  # fmt: skip


@pytest.fixture
def world(db):
    """US and EU; backup (both) and posture (US); Acme (sam's) and Globex (rob's); maya manages."""
    us, eu = make_region("us", 8101, 9101), make_region("eu", 8102, 9102)
    backup = product_create(code="backup", name="Backup & Recovery", regions=[us, eu], trial_days=30)
    posture = product_create(code="posture", name="Security Posture", regions=[us, eu], trial_days=14)
    alice, carol = make_user("alice@acme.test"), make_user("carol@globex.test")
    acme = account_create(name="Acme", slug="acme", owner=alice)
    globex = account_create(name="Globex", slug="globex", owner=carol)
    sam, rob = sales_user("sam@atrium.test"), sales_user("rob@atrium.test")
    maya = sales_user("maya@atrium.test", manager=True)
    own(acme, sam)
    own(globex, rob)
    return {"us": us, "eu": eu, "backup": backup, "posture": posture, "acme": acme, "globex": globex,
            "alice": alice, "carol": carol, "sam": sam, "rob": rob, "maya": maya}  # fmt: skip


def scope(user, manager=False) -> SalesScope:
    return SalesScope(user=user, is_manager=manager)


def scripted_history(w) -> None:
    """Acme pays USD, Globex EUR; every movement kind once (see test_mrr_movements_...)."""
    acme_backup = subscription(w["acme"], w["backup"], started_at=datetime(2026, 3, 10, tzinfo=UTC))
    event(acme_backup, "start", datetime(2026, 3, 10, tzinfo=UTC), "0", "100")
    event(acme_backup, "seats", datetime(2026, 4, 5, tzinfo=UTC), "100", "150")
    event(acme_backup, "regions", datetime(2026, 4, 20, tzinfo=UTC), "150", "200")
    acme_posture = subscription(w["acme"], w["posture"], started_at=datetime(2026, 5, 2, tzinfo=UTC))
    event(acme_posture, "start", datetime(2026, 5, 2, tzinfo=UTC), "0", "40")
    event(acme_backup, "plan", datetime(2026, 6, 5, tzinfo=UTC), "200", "260")
    event(acme_posture, "seats", datetime(2026, 6, 7, tzinfo=UTC), "40", "30")
    event(acme_backup, "past_due", datetime(2026, 6, 8, tzinfo=UTC), "260", "260")  # no movement
    gone = datetime(2026, 6, 1, tzinfo=UTC)
    globex_old = subscription(w["globex"], w["backup"], currency="EUR", status="cancelled",
                              started_at=datetime(2026, 4, 3, tzinfo=UTC), cancelled_at=gone)  # fmt: skip
    event(globex_old, "start", datetime(2026, 4, 3, tzinfo=UTC), "0", "80")
    event(globex_old, "seats", datetime(2026, 5, 10, tzinfo=UTC), "80", "60")
    event(globex_old, "cancel", gone, "60", "0")
    globex_new = subscription(
        w["globex"], w["backup"], currency="EUR", started_at=datetime(2026, 6, 10, tzinfo=UTC)
    )
    event(globex_new, "start", datetime(2026, 6, 10, tzinfo=UTC), "0", "70")
    # After "now": never counted.
    event(acme_backup, "seats", datetime(2026, 6, 20, tzinfo=UTC), "260", "400")


def by_month(table, currency):
    return {row["month"]: row for row in table.rows if row["currency"] == currency}


# MRR ----------------------------------------------------------------------------------------------


def test_mrr_movements_classify_every_kind_with_exact_figures_per_currency(world):
    scripted_history(world)
    table = sel.mrr_movements(scope=scope(world["maya"], manager=True), now=NOW, months=3)
    usd, eur = by_month(table, "USD"), by_month(table, "EUR")
    assert list(usd) == ["2026-04", "2026-05", "2026-06"]
    # USD opens at 100 (March's new business, before the window)
    assert usd["2026-04"]["expansion_seats"] == D("50.00")
    assert usd["2026-04"]["expansion_regions"] == D("50.00")
    assert usd["2026-04"]["new"] == D("0.00")
    assert usd["2026-04"]["mrr"] == D("200.00")
    # a second product for a paying account is expansion, not new business
    assert usd["2026-05"]["expansion_products"] == D("40.00")
    assert usd["2026-05"]["new"] == D("0.00")
    assert usd["2026-05"]["mrr"] == D("240.00")
    assert usd["2026-06"]["expansion_plan"] == D("60.00")
    assert usd["2026-06"]["contraction"] == D("-10.00")
    assert usd["2026-06"]["net"] == D("50.00")
    assert usd["2026-06"]["mrr"] == D("290.00")
    # EUR: new, contraction, churn, and a churned account coming back is a reactivation
    assert eur["2026-04"]["new"] == D("80.00")
    assert eur["2026-04"]["mrr"] == D("80.00")
    assert eur["2026-05"]["contraction"] == D("-20.00")
    assert eur["2026-05"]["mrr"] == D("60.00")
    assert eur["2026-06"]["churn"] == D("-60.00")
    assert eur["2026-06"]["reactivation"] == D("70.00")
    assert eur["2026-06"]["new"] == D("0.00")
    assert eur["2026-06"]["mrr"] == D("70.00")


def test_a_reps_mrr_holds_only_their_accounts(world):
    scripted_history(world)
    table = sel.mrr_movements(scope=scope(world["sam"]), now=NOW, months=3)
    assert {row["currency"] for row in table.rows} == {"USD"}
    assert by_month(table, "USD")["2026-06"]["mrr"] == D("290.00")
    nothing = sel.mrr_movements(scope=scope(world["maya"]), now=NOW, months=3)  # a rep owning nothing
    assert nothing.rows == []


# Trials and conversion ------------------------------------------------------------------------


def _member(account, email, *, last_login=None):
    user = make_user(email)
    membership_add(account=account, user=user)
    if last_login:
        User.objects.filter(pk=user.pk).update(last_login=last_login)
    return user


def test_active_trials_show_days_left_and_members_active_in_seven_days(world):
    acme = world["acme"]
    owner = Membership.objects.get(account=acme, user=world["alice"])
    with time_machine.travel(NOW - timedelta(days=12), tick=False):
        trial_start(account=acme, product=world["posture"], regions=[world["us"], world["eu"]], actor=owner)
    _member(acme, "bob@acme.test", last_login=NOW - timedelta(days=2))
    _member(acme, "dave@acme.test", last_login=NOW - timedelta(days=9))
    table = sel.active_trials(scope=scope(world["sam"]), now=NOW)
    [trial] = table.rows
    assert trial["slug"] == "acme"
    assert trial["product"] == "Security Posture"
    assert trial["regions"] == "EU US"
    assert trial["days_left"] == 2  # 14-day trial started 12 days ago
    assert (trial["members"], trial["active_7d"]) == (3, 1)
    # ending within 3 days: a trial to call today
    [call] = sel.trials_to_call(scope=scope(world["sam"]), now=NOW).rows
    assert call["why"] == "ends in 2 days"
    # rob owns Globex only: he sees neither
    assert sel.active_trials(scope=scope(world["rob"]), now=NOW).rows == []


def test_a_very_active_trial_is_to_call_even_far_from_its_end(world):
    globex = world["globex"]
    owner = Membership.objects.get(account=globex, user=world["carol"])
    account_region_add(account=globex, region=world["eu"])
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        trial_start(account=globex, product=world["backup"], regions=[world["eu"]], actor=owner)
    User.objects.filter(pk=world["carol"].pk).update(last_login=NOW - timedelta(hours=3))
    _member(globex, "gil@globex.test", last_login=NOW - timedelta(days=1))
    _member(globex, "hal@globex.test")
    [call] = sel.trials_to_call(scope=scope(world["rob"]), now=NOW).rows
    assert call["days_left"] == 29
    assert call["why"] == "2 of 3 members active"


def test_conversion_by_weekly_cohort_and_product(world):
    acme, globex = world["acme"], world["globex"]
    alice = Membership.objects.get(account=acme, user=world["alice"])
    carol = Membership.objects.get(account=globex, user=world["carol"])
    monday = datetime(2026, 6, 1, 9, tzinfo=UTC)
    with time_machine.travel(monday, tick=False):
        trial_start(account=acme, product=world["backup"], regions=[world["us"]], actor=alice)
        trial_start(account=globex, product=world["backup"], regions=[world["eu"]], actor=carol)
    with time_machine.travel(monday + timedelta(days=8), tick=False):
        trial_start(account=acme, product=world["posture"], regions=[world["us"]], actor=alice)
    # Acme converts backup (after its trial began); Globex does not
    sub = subscription(acme, world["backup"], started_at=monday + timedelta(days=5))
    event(sub, "start", monday + timedelta(days=5), "0", "100")
    table = sel.conversion_cohorts(scope=scope(world["maya"], manager=True), now=NOW, weeks=4)
    rows = {(r["week"], r["product"]): (r["trials"], r["converted"], r["rate"]) for r in table.rows}
    assert rows == {
        ("2026-06-01", "Backup & Recovery"): (2, 1, D("50.0")),
        ("2026-06-01", "All products"): (2, 1, D("50.0")),
        ("2026-06-08", "Security Posture"): (1, 0, D("0.0")),
        ("2026-06-08", "All products"): (1, 0, D("0.0")),
    }
    rob = sel.conversion_cohorts(scope=scope(world["rob"]), now=NOW, weeks=4)
    assert {(r["week"], r["product"], r["trials"], r["converted"]) for r in rob.rows} == {
        ("2026-06-01", "Backup & Recovery", 1, 0),
        ("2026-06-01", "All products", 1, 0),
    }


# Seats, coverage, risk, requests --------------------------------------------------------------


def test_seats_used_count_active_members_with_access_to_the_region(world):
    acme = world["acme"]
    for region in (world["us"], world["eu"]):
        account_region_add(account=acme, region=region)
    subscription(acme, world["backup"], seats={world["us"]: 5, world["eu"]: 2})
    bob = _member(acme, "bob@acme.test")  # all regions
    eve = _member(acme, "eve@acme.test")
    eve_m = Membership.objects.get(user=eve)
    eve_m.all_regions = False
    eve_m.save()
    eve_m.regions.set([world["eu"]])
    Membership.objects.filter(user=bob).update(status=Membership.Status.SUSPENDED)
    [row] = sel.seats_by_product(scope=scope(world["sam"]), now=NOW).rows
    # US: alice; EU: alice and eve (bob is suspended)
    assert row == {"product": "Backup & Recovery", "accounts": 1, "purchased": 7, "used": 3,
                   "utilisation": D("42.9")}  # fmt: skip
    assert sel.seats_by_product(scope=scope(world["rob"]), now=NOW).rows == []


@time_machine.travel(NOW, tick=False)
def test_accounts_by_region_and_product_count_paid_and_trial(world):
    from products.services import entitlement_set

    for account in (world["acme"], world["globex"]):
        account_region_add(account=account, region=world["eu"])
        entitlement_set(account=account, product=world["backup"], region=world["eu"], status="active")
    account_region_add(account=world["acme"], region=world["us"])
    entitlement_set(account=world["acme"], product=world["posture"], region=world["us"], status="trial",
                    ends_at=NOW + timedelta(days=3))  # fmt: skip
    rows = sel.accounts_by_region_product(scope=scope(world["maya"], manager=True), now=NOW).rows
    assert rows == [
        {"product": "Backup & Recovery", "region": "EU", "paid": 2, "trial": 0},
        {"product": "Security Posture", "region": "US", "paid": 0, "trial": 1},
    ]
    sams = sel.accounts_by_region_product(scope=scope(world["sam"]), now=NOW).rows
    assert [r["paid"] for r in sams if r["product"] == "Backup & Recovery"] == [1]


def test_accounts_at_risk_name_their_reasons(world):
    acme, globex = world["acme"], world["globex"]
    User.objects.filter(pk=world["alice"].pk).update(last_login=NOW - timedelta(days=1))
    User.objects.filter(pk=world["carol"].pk).update(last_login=NOW - timedelta(days=1))
    healthy = subscription(acme, world["backup"], seats={world["us"]: 3})
    falling = subscription(acme, world["posture"], seats={world["us"]: 3})
    event(falling, "seats", NOW - timedelta(days=3), "30", "20")
    subscription(globex, world["backup"], status="past_due", seats={world["eu"]: 1})
    assert healthy.status == "active"
    rows = sel.accounts_at_risk(scope=scope(world["maya"], manager=True), now=NOW).rows
    assert rows == [
        {"account": "Globex", "slug": "globex", "owner": "rob@atrium.test", "why": "past due"},
        {"account": "Acme", "slug": "acme", "owner": "sam@atrium.test", "why": "seats falling"},
    ]
    # nobody signed in for two weeks
    User.objects.filter(pk=world["alice"].pk).update(last_login=NOW - timedelta(days=20))
    [row] = sel.accounts_at_risk(scope=scope(world["sam"]), now=NOW).rows
    assert row["why"] == "seats falling; no sign-in for 14 days"


def test_pending_trial_requests_are_scoped_to_the_reps_accounts(world):
    from products.models import TrialRequest

    for account in (world["acme"], world["globex"]):
        request = TrialRequest.objects.create(
            account=account, product=world["posture"], requester_email=f"x@{account.slug}.test", note="please"
        )
        request.regions.set([world["us"]])
    [row] = sel.pending_trial_requests(scope=scope(world["sam"]), now=NOW).rows
    assert (row["slug"], row["product"], row["regions"], row["note"]) == (
        "acme",
        "Security Posture",
        "US",
        "please",
    )
    assert len(sel.pending_trial_requests(scope=scope(world["maya"], manager=True), now=NOW).rows) == 2
