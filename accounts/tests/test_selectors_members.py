"""Reads behind the members page and the account home: what each returns and what it costs."""

import pytest
from django.http import Http404

from accounts import selectors
from accounts.groups import group_create, group_members_add
from accounts.models import Membership
from accounts.selectors import MemberQuery
from accounts.services import account_region_add, account_region_remove, membership_add, membership_remove
from conftest import make_region, make_user
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db


def add(account, email: str, **kwargs) -> Membership:
    return membership_add(account=account, user=make_user(email), **kwargs)


def emails(memberships) -> list[str]:
    return [m.user.email for m in memberships]


def test_the_sync_filter_matches_ledger_keys_to_public_ids(acme, bob):
    # the ledger keys users by their public UUID as text; the filter compares it in SQL
    account_region_add(account=acme, region=make_region("eu"))
    ProvisioningRecord.objects.filter(object_key=str(bob.public_id)).update(state="failed")
    found = selectors.members_filtered(account=acme, query=MemberQuery(sync="failed"))
    assert emails(found) == ["bob@acme.test"]
    assert emails(selectors.members_filtered(account=acme, query=MemberQuery(sync="synced"))) == []


def test_the_sync_filter_reads_only_this_accounts_ledger(acme, globex, bob):
    membership_add(account=globex, user=bob)
    account_region_add(account=globex, region=make_region("eu"))
    ProvisioningRecord.objects.update(state="failed")
    assert emails(selectors.members_filtered(account=acme, query=MemberQuery(sync="failed"))) == []


def test_the_group_filter_reads_only_this_accounts_groups(acme, globex, bob):
    globex_member = add(globex, "gina@globex.test")
    group = group_create(account=globex, actor=None, name="Globex ops")
    group_members_add(group=group, actor=None, memberships=[globex_member])
    assert list(selectors.members_filtered(account=acme, query=MemberQuery(group=group.pk))) == []


def test_search_needs_every_word_somewhere_in_email_or_name(acme):
    add(acme, "zed@acme.test")
    query = MemberQuery(q="brown ACME")
    assert emails(selectors.members_filtered(account=acme, query=query)) == ["bob@acme.test"]


def test_the_directory_holds_active_members_and_ignores_admin_filters(acme):
    add(acme, "sus@acme.test", status="suspended")
    query = MemberQuery(status="suspended", sync="failed")
    found = selectors.members_filtered(account=acme, query=query, directory=True)
    assert emails(found) == ["alice@acme.test", "bob@acme.test"]


def test_an_unknown_sort_falls_back_to_email(acme):
    add(acme, "aaron@acme.test")
    found = selectors.members_filtered(account=acme, query=MemberQuery(sort="password"))
    assert emails(found) == ["aaron@acme.test", "alice@acme.test", "bob@acme.test"]


def test_params_leave_defaults_out():
    assert MemberQuery().params() == {}
    assert MemberQuery(q="x", group=3, sort="-name").params() == {"q": "x", "group": "3", "sort": "-name"}
    assert not MemberQuery(sort="-name").is_filtered and MemberQuery(group=0).is_filtered


@pytest.mark.parametrize(("number", "shown"), [(None, 1), ("abc", 1), ("2", 2), ("99", 2), ("-1", 2)])
def test_a_page_number_that_is_not_one_is_the_first_or_the_last(acme, number, shown):
    for n in range(3):
        add(acme, f"p{n}@acme.test")
    listing = selectors.members_page(account=acme, query=MemberQuery(), page_number=number, per_page=3)
    assert listing.page.number == shown


def test_a_page_reads_the_ledger_rows_of_its_members_only_in_four_queries(acme, django_assert_num_queries):
    account_region_add(account=acme, region=make_region("eu"))
    for n in range(8):
        add(acme, f"p{n}@acme.test")
    # counts (matching and by status), page, columns, ledger rows
    with django_assert_num_queries(4):
        listing = selectors.members_page(account=acme, query=MemberQuery(), page_number=2, per_page=4)
        syncs = [sync.state for row in listing.rows for sync in row.syncs]
    assert syncs == ["pending"] * 4 and listing.syncing
    assert emails(row.membership for row in listing.rows) == ["p2@acme.test", "p3@acme.test", "p4@acme.test",
                                                              "p5@acme.test"]  # fmt: skip


def test_an_empty_page_costs_no_ledger_query(acme, django_assert_num_queries):
    with django_assert_num_queries(2):  # counts, columns (an empty page is not even read)
        listing = selectors.members_page(account=acme, query=MemberQuery(q="nobody"), page_number=1)
    assert listing.rows == [] and not listing.syncing


def test_columns_keep_a_region_being_left_until_its_deletions_are_confirmed(acme):
    eu, us = make_region("eu"), make_region("us", 8104, 9104)
    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)
    account_region_remove(account_region=AccountRegion.objects.get(account=acme, region=eu))
    columns = selectors.member_columns(account=acme)
    assert [(c.region.code, c.leaving) for c in columns] == [("us", False), ("eu", True)]
    ProvisioningRecord.objects.filter(region=eu).update(state="synced")
    assert [c.region.code for c in selectors.member_columns(account=acme)] == ["us"]
    # a page's refresh names its columns and keeps them, so the last deletion shows as removed
    assert [c.region.code for c in selectors.member_columns(account=acme, codes=["eu", "us"])] == ["us", "eu"]


def test_badges_report_members_gone_and_other_accounts_ids_alike(acme, globex, bob):
    account_region_add(account=acme, region=make_region("eu"))
    gina = add(globex, "gina@globex.test")
    bob_membership = Membership.objects.get(account=acme, user=bob)
    badges = selectors.member_badges(
        account=acme, membership_ids=[bob_membership.pk, gina.pk, 424242], region_codes=["eu"]
    )
    assert [row.membership.pk for row in badges.rows] == [bob_membership.pk]
    assert badges.gone == [gina.pk, 424242]
    assert badges.syncing


def test_members_by_ids_is_a_404_when_any_is_not_of_the_account(acme, globex, bob):
    gina = add(globex, "gina@globex.test")
    bob_membership = Membership.objects.get(account=acme, user=bob)
    assert selectors.members_of_account_by_ids(account=acme, membership_ids=[bob_membership.pk])
    with pytest.raises(Http404):
        selectors.members_of_account_by_ids(account=acme, membership_ids=[bob_membership.pk, gina.pk])


def test_counts_leave_members_being_removed_out(acme, bob):
    account_region_add(account=acme, region=make_region("eu"))
    membership_remove(membership=Membership.objects.get(account=acme, user=bob))
    counts = selectors.members_page(account=acme, query=MemberQuery(q="alice"), page_number=1).counts
    assert (counts.active, counts.suspended, counts.removing, counts.members) == (1, 0, 1, 1)


def test_the_overview_is_one_query_and_zero_for_nothing(acme, django_assert_num_queries):
    with django_assert_num_queries(1):
        overview = selectors.account_overview(account=acme)
    assert (overview.members, overview.groups, overview.invitations_pending) == (2, 0, 0)
