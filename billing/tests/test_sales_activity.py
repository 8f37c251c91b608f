"""The members' rollup behind the sales dashboard (billing/sales_activity.py): the dashboard
reads it while fresh, counts live otherwise, and the page says as of when."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import Membership, User
from accounts.services import membership_add
from billing import sales_selectors as sel
from billing.models import AccountActivity
from billing.sales_activity import account_activity_refresh
from billing.tests import test_sales_selectors as scripted
from conftest import make_user
from products.trials import trial_start

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
world = scripted.world  # the sales tests' accounts, reps and manager (a fixture)
scope = scripted.scope


def _acme_trial(w):
    owner = Membership.objects.get(account=w["acme"], user=w["alice"])
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        trial_start(account=w["acme"], product=w["backup"], regions=[w["us"]], actor=owner)
    for n in range(3):
        membership_add(account=w["acme"], user=make_user(f"m{n}@acme.test"))
    User.objects.filter(email__in=["m0@acme.test", "m1@acme.test"]).update(last_login=NOW - timedelta(days=2))
    User.objects.filter(email="m2@acme.test").update(last_login=NOW - timedelta(days=10))


def _acme_row(table):
    return next(row for row in table.rows if row["slug"] == "acme")


@pytest.mark.django_db
def test_the_refresh_counts_every_accounts_active_members_as_the_live_scan_does(world):
    _acme_trial(world)
    assert account_activity_refresh(now=NOW) == 2  # Acme and Globex have active members
    rolled = AccountActivity.objects.get(account=world["acme"])
    # alice (never signed in) and three members, two of them within 7 days, three within 14
    assert (rolled.members, rolled.everywhere, rolled.active_7d, rolled.active_idle) == (4, 4, 2, 3)
    live = sel.members_counted(Membership.objects.filter(status="active"), NOW)
    assert live[world["acme"].pk] == sel.MemberStats(4, 4, 2, 3)
    assert rolled.computed_at == NOW


@pytest.mark.django_db
def test_the_dashboard_reads_a_fresh_rollup_and_says_as_of_when(world):
    _acme_trial(world)
    account_activity_refresh(now=NOW)
    # A change after the refresh shows at the next refresh, not before: the page reads the rollup.
    User.objects.filter(email="m2@acme.test").update(last_login=NOW)
    memo: dict = {}
    tables = sel.sales_dashboard(scope=scope(world["maya"], manager=True), now=NOW + timedelta(minutes=5),
                                 memo=memo)  # fmt: skip
    assert (_acme_row(tables["trials"])["members"], _acme_row(tables["trials"])["active_7d"]) == (4, 2)
    assert memo["activity_as_of"] == NOW
    account_activity_refresh(now=NOW + timedelta(minutes=6))
    tables = sel.sales_dashboard(scope=scope(world["maya"], manager=True), now=NOW + timedelta(minutes=7))
    assert _acme_row(tables["trials"])["active_7d"] == 3


@pytest.mark.django_db
def test_a_stale_or_future_rollup_is_ignored_for_the_live_count(world):
    _acme_trial(world)
    account_activity_refresh(now=NOW)
    User.objects.filter(email="m2@acme.test").update(last_login=NOW)
    for now in (NOW + sel.ACTIVITY_FRESH + timedelta(seconds=1), NOW - timedelta(minutes=1)):
        memo: dict = {}
        tables = sel.sales_dashboard(scope=scope(world["maya"], manager=True), now=now, memo=memo)
        assert _acme_row(tables["trials"])["active_7d"] == 3, now
        assert memo["activity_as_of"] == now


@pytest.mark.django_db
def test_a_reps_rollup_holds_only_their_accounts(world):
    _acme_trial(world)
    account_activity_refresh(now=NOW)
    memo: dict = {}
    sel.sales_dashboard(scope=scope(world["rob"]), now=NOW, memo=memo)  # rob owns Globex only
    assert set(memo["members"]) == {world["globex"].pk}


@pytest.mark.django_db
def test_the_page_shows_the_rollups_time(client, world):
    _acme_trial(world)
    with time_machine.travel(NOW, tick=False):
        account_activity_refresh()
        client.force_login(world["maya"])
        page = client.get("/sales/").content.decode()
    assert (
        "members&#x27; activity as of 2026-06-15 12:00 UTC" in page
        or "members' activity as of 2026-06-15 12:00 UTC" in page
    )


@pytest.mark.django_db
def test_table_cells_are_escaped_on_the_page(client, world):
    world["acme"].name = '<img src=x onerror="alert(1)">'
    world["acme"].save(update_fields=["name"])
    _acme_trial(world)
    client.force_login(world["maya"])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/sales/").content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert 'href="/sales/accounts/acme/"' in page


@pytest.mark.django_db
def test_a_second_refresh_updates_the_rows_and_drops_accounts_left_without_members(world):
    _acme_trial(world)
    account_activity_refresh(now=NOW)
    Membership.objects.filter(account=world["globex"]).update(status=Membership.Status.SUSPENDED)
    membership_add(account=world["acme"], user=make_user("m3@acme.test"))
    assert account_activity_refresh(now=NOW + timedelta(minutes=5)) == 1
    [row] = AccountActivity.objects.all()
    assert (row.account_id, row.members, row.computed_at) == (world["acme"].pk, 5, NOW + timedelta(minutes=5))
