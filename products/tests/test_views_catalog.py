"""/products/: every product with where it is offered, and what the current account owns per
region; the account is ?account=<slug> among the person's own (another's is a 404)."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.services import account_create, membership_add
from conftest import make_user
from products.services import entitlement_set, product_create

CATALOG = reverse("products:catalog")


def row(body: str, code: str) -> str:
    return body.split(f'data-product="{code}"', 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def owned(acme_everywhere, globex_eu, backup, posture, insights, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    entitlement_set(account=acme_everywhere, product=posture, region=regions["eu"], status="trial")
    entitlement_set(account=globex_eu, product=backup, region=regions["eu"], status="active")


def test_it_asks_for_a_sign_in(client, db):
    response = client.get(CATALOG)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_rejects_post(client, alice, owned):
    client.force_login(alice)
    assert client.post(CATALOG).status_code == 405


def test_it_lists_every_product_with_the_regions_it_is_offered_in(client, alice, owned):
    client.force_login(alice)
    body = client.get(CATALOG).content.decode()
    assert 'data-available="us"' in row(body, "backup")
    assert 'data-available="au"' in row(body, "backup")
    assert 'data-available="au"' not in row(body, "posture")
    assert "data-coming-soon" in row(body, "insights")
    assert "data-available" not in row(body, "insights")


def test_it_shows_what_the_first_account_owns_per_region(client, alice, owned):
    client.force_login(alice)
    body = client.get(CATALOG).content.decode()
    backup_row = row(body, "backup")
    assert 'data-region="us" data-status="active"' in backup_row
    assert 'data-region="eu" data-status="active"' in backup_row
    assert 'data-region="au"' not in backup_row
    assert 'data-region="eu" data-status="trial"' in row(body, "posture")
    assert "contact your admin" in row(body, "insights").lower() or "Coming soon" in row(body, "insights")


def test_another_account_of_the_person_is_chosen_by_its_slug(client, alice, owned, globex):
    membership_add(account=globex, user=alice, role=Membership.Role.MEMBER)
    client.force_login(alice)
    body = client.get(CATALOG, {"account": "globex"}).content.decode()
    assert 'data-region="eu" data-status="active"' in row(body, "backup")
    assert 'data-region="us"' not in row(body, "backup")
    assert "data-status" not in row(body, "posture")
    assert 'data-account="acme"' in body  # a link to switch back


def test_carol_never_sees_acmes_entitlements(client, carol, owned):
    client.force_login(carol)
    assert client.get(CATALOG, {"account": "acme"}).status_code == 404
    body = client.get(CATALOG).content.decode()
    assert "data-status" not in row(body, "posture")
    assert 'data-region="us"' not in row(body, "backup")


def test_an_unknown_account_is_a_404(client, alice, owned):
    client.force_login(alice)
    assert client.get(CATALOG, {"account": "nope"}).status_code == 404
    assert client.get(CATALOG, {"account": "../<x>"}).status_code == 404


def test_a_suspended_or_closed_membership_does_not_count(client, bob, owned, acme_everywhere):
    Membership.objects.filter(user=bob).update(status=Membership.Status.SUSPENDED)
    client.force_login(bob)
    assert client.get(CATALOG, {"account": "acme"}).status_code == 404
    body = client.get(CATALOG).content.decode()
    assert "data-status" not in body


def test_someone_without_an_account_sees_the_catalog_only(client, db, owned):
    client.force_login(make_user("nobody@example.test"))
    response = client.get(CATALOG)
    assert response.status_code == 200
    assert "data-status" not in response.content.decode()
    assert 'data-product="backup"' in response.content.decode()


def test_it_runs_a_fixed_number_of_queries(
    client, alice, owned, acme_everywhere, regions, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(10):  # incl. session, user, the account switcher, cross-sell rules
        client.get(CATALOG)
    # given ten more products, each owned in a region, and a second account
    for n in range(10):
        product = product_create(code=f"extra-{n}", name=f"Extra {n}", regions=list(regions.values()))
        entitlement_set(account=acme_everywhere, product=product, region=regions["au"], status="active")
    account_create(name="Zeta", slug="zeta", owner=alice)
    # A new membership makes the next page re-read the person's security policy, once
    # (accounts/security_policy.py): not a cost of the catalog's size.
    client.get(CATALOG)
    # then the same number of queries
    with django_assert_max_num_queries(10):
        response = client.get(CATALOG)
    assert response.content.decode().count('data-region="au" data-status="active"') == 10
