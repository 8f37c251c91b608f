"""The account home: counts (members by status, regions, groups, pending invitations) and the
latest changes from the audit log, never the list of members; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.groups import group_create
from accounts.models import Invitation, Membership
from accounts.services import account_region_add, membership_add, membership_remove, membership_update
from conftest import make_region, make_user
from regions.models import AccountRegion, Region

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home", args=["acme"])


def invitation(account, email: str, *, status: str = "pending", days: int = 7) -> Invitation:
    return Invitation.objects.create(
        account=account, email=email, key_hash=email.ljust(64, "x")[:64], status=status,
        expires_at=timezone.now() + timedelta(days=days),
    )  # fmt: skip


def count_of(body: str, what: str) -> str:
    return body.split(f'data-count="{what}"><strong>', 1)[1].split("</strong>", 1)[0]


def test_it_links_the_regions(client, alice, acme):
    region = Region.objects.create(
        code="eu",
        name="European Union",
        people_url="http://127.0.0.1:8102",
        machine_url="https://127.0.0.1:9102",
    )
    AccountRegion.objects.create(account=acme, region=region)
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    assert 'href="http://127.0.0.1:8102"' in body and 'data-region="eu"' in body


def test_it_counts_instead_of_listing_members(client, alice, acme, globex):
    for n in range(3):
        membership_add(account=acme, user=make_user(f"person{n}@acme.test"))
    membership_update(membership=Membership.objects.get(user__email="person0@acme.test"), status="suspended")
    account_region_add(account=acme, region=make_region("eu"))
    membership_remove(membership=Membership.objects.get(user__email="person1@acme.test"))
    group_create(account=acme, actor=None, name="Backup operators")
    group_create(account=globex, actor=None, name="Globex only")
    invitation(acme, "new@acme.test")
    invitation(acme, "late@acme.test", days=-1)  # expired: not pending any more
    invitation(acme, "gone@acme.test", status="revoked")
    invitation(globex, "g@globex.test")
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    assert "data-member=" not in body
    counts = {what: count_of(body, what) for what in
              ("members", "active", "suspended", "removing", "groups", "invitations", "regions")}  # fmt: skip
    assert counts == {"members": "4", "active": "3", "suspended": "1", "removing": "1", "groups": "1",
                      "invitations": "1", "regions": "1"}  # fmt: skip


def test_it_shows_the_ten_latest_changes_of_this_account_only(client, alice, acme, globex):
    for n in range(12):
        audit_record(action=f"probe.step{n:02d}", account=acme, actor=alice, target_label=f"thing {n}")
    audit_record(action="probe.globex", account=globex, target_label="globex secret")
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    shown = [line.split('"')[1] for line in body.split("data-audit-action=")[1:]]
    assert shown == [f"probe.step{n:02d}" for n in range(11, 1, -1)]
    assert "globex secret" not in body and "thing 11" in body and "alice@acme.test" in body


@pytest.mark.parametrize("role", ["member", "billing"])
def test_plain_members_see_counts_but_not_statuses_invitations_or_the_audit_log(client, acme, role):
    person = make_user("p@acme.test")
    membership_add(account=acme, user=person, role=role)
    audit_record(action="member.suspend", account=acme, target_label="someone")
    client.force_login(person)
    response = client.get(HOME)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-count="members"' in body
    for hidden in ('data-count="suspended"', 'data-count="invitations"', "data-audit-action", "Recent changes",
                   "Invite people"):  # fmt: skip
        assert hidden not in body, hidden
    assert "Member directory" in body


def test_read_only_sees_the_recent_changes_without_invite_or_manage(client, acme):
    reader = make_user("r@acme.test")
    membership_add(account=acme, user=reader, role="read_only")
    audit_record(action="member.suspend", account=acme, target_label="someone")
    client.force_login(reader)
    body = client.get(HOME).content.decode()
    assert 'data-audit-action="member.suspend"' in body
    assert "Invite people" not in body and "Manage members" not in body


def test_it_redirects_an_anonymous_visitor_to_login(client, acme):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_accounts_owner_gets_404(client, carol, acme, globex):
    audit_record(action="member.suspend", account=acme, target_label="acme secret")
    client.force_login(carol)
    assert client.get(HOME).status_code == 404
    body = client.get(reverse("accounts:home", args=["globex"])).content.decode()
    assert "acme secret" not in body


def test_an_unknown_slug_is_404_like_a_foreign_one(client, carol, globex):
    client.force_login(carol)
    assert client.get("/a/no-such-account/").status_code == 404


def test_the_home_costs_the_same_queries_with_5_or_40_members(
    client, alice, acme, django_assert_max_num_queries
):
    account_region_add(account=acme, region=make_region("eu"))
    client.force_login(alice)
    counts = []
    for numbers in (range(5), range(5, 40)):
        for n in numbers:
            membership_add(account=acme, user=make_user(f"person{n}@acme.test"))
            audit_record(action="probe.step", account=acme, actor=alice, target_label=f"p{n}")
        # session, user, membership, counts, regions, audit rows (+ the layout's navigation)
        # + the products panel (products/crosssell.py: products, availability, entitlements, rules,
        #   and for owners and admins the count of pending trial requests)
        # + the apps panel (accounts/connected_apps.py: the launchable apps, one query)
        with django_assert_max_num_queries(13) as captured:
            response = client.get(HOME)
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert count_of(response.content.decode(), "members") == "42"


def test_a_member_being_removed_is_not_counted_as_a_member(client, alice, bob, acme):
    account_region_add(account=acme, region=make_region("eu"))
    membership_remove(membership=Membership.objects.get(account=acme, user=bob))
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    assert count_of(body, "members") == "1" and count_of(body, "removing") == "1"
