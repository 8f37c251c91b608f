import pytest
from django.urls import reverse

from regions.models import AccountRegion, Region

pytestmark = pytest.mark.django_db


def test_it_lists_the_members_and_regions(client, alice, acme):
    region = Region.objects.create(
        code="eu",
        name="European Union",
        people_url="http://127.0.0.1:8102",
        machine_url="https://127.0.0.1:9102",
    )
    AccountRegion.objects.create(account=acme, region=region)
    client.force_login(alice)
    response = client.get(reverse("accounts:home", args=["acme"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-member="alice@acme.test"' in body
    assert 'data-member="bob@acme.test"' in body
    assert 'href="http://127.0.0.1:8102"' in body


def test_a_plain_member_sees_the_account_too(client, bob, acme):
    client.force_login(bob)
    assert client.get(reverse("accounts:home", args=["acme"])).status_code == 200


def test_it_redirects_an_anonymous_visitor_to_login(client, acme):
    response = client.get(reverse("accounts:home", args=["acme"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_accounts_owner_gets_404(client, carol, acme, globex):
    client.force_login(carol)
    assert client.get(reverse("accounts:home", args=["acme"])).status_code == 404
    assert client.get(reverse("accounts:home", args=["globex"])).status_code == 200


def test_an_unknown_slug_is_404_like_a_foreign_one(client, carol, globex):
    client.force_login(carol)
    assert client.get("/a/no-such-account/").status_code == 404


def test_the_member_list_costs_a_fixed_number_of_queries(client, alice, acme, django_assert_num_queries):
    from accounts.services import membership_add
    from conftest import make_user

    for n in range(10):
        membership_add(account=acme, user=make_user(f"person{n}@acme.test"))
    client.force_login(alice)
    # session, user, membership, members, regions: independent of the number of members
    with django_assert_num_queries(5):
        response = client.get(reverse("accounts:home", args=["acme"]))
    assert response.content.decode().count("data-member=") == 12


def test_a_member_being_removed_is_no_longer_listed_or_counted(client, alice, bob, acme):
    from accounts.models import Membership
    from accounts.services import account_region_add, membership_remove
    from conftest import make_region

    account_region_add(account=acme, region=make_region("eu"))
    membership_remove(membership=Membership.objects.get(account=acme, user=bob))
    client.force_login(alice)
    body = client.get(reverse("accounts:home", args=["acme"])).content.decode()
    assert 'data-member="bob@acme.test"' not in body
    assert "Members <small>(1)</small>" in body
