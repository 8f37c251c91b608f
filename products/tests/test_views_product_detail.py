"""/products/<code>/: the product, where it is offered, and the account's entitlement in each
region (status, end); unknown product or another's account is a 404."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from products.services import entitlement_set


def detail(code: str) -> str:
    return reverse("products:detail", args=[code])


def cell(body: str, region: str) -> str:
    return body.split(f'<tr data-region="{region}">', 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def owned(acme_everywhere, globex_eu, backup, posture, insights, regions):
    ends = datetime(2027, 2, 1, tzinfo=UTC)
    entitlement_set(
        account=acme_everywhere, product=posture, region=regions["eu"], status="trial", ends_at=ends
    )
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="cancelled")
    entitlement_set(account=globex_eu, product=posture, region=regions["eu"], status="active")


def test_it_shows_the_product_and_the_accounts_entitlement_per_region(client, alice, owned):
    client.force_login(alice)
    response = client.get(detail("posture"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Security Posture" in body
    eu = cell(body, "eu")
    assert 'data-status="trial"' in eu
    assert 'datetime="2027-02-01T00:00:00+00:00"' in eu
    assert "/p/posture/" in eu  # open it in the region
    assert "contact your admin" in cell(body, "us").lower()
    assert '<tr data-region="au">' not in body  # not offered there


def test_an_ended_entitlement_is_shown_without_a_link_to_the_region(client, alice, owned):
    client.force_login(alice)
    us = cell(client.get(detail("backup")).content.decode(), "us")
    assert 'data-status="cancelled"' in us
    assert "/p/backup/" not in us


def test_it_says_when_the_account_does_not_use_a_region(client, carol, owned):
    client.force_login(carol)
    body = client.get(detail("backup")).content.decode()
    assert "does not use this region" in cell(body, "us")
    assert "start a free trial below" in cell(body, "eu").lower()  # Carol owns Globex


def test_a_coming_soon_product_says_so(client, alice, owned):
    client.force_login(alice)
    body = client.get(detail("insights")).content.decode()
    assert "data-coming-soon" in body
    assert "not offered in any region yet" in body


def test_an_unknown_product_is_a_404(client, alice, owned):
    client.force_login(alice)
    assert client.get(detail("nope")).status_code == 404
    assert client.get("/products/Posture/").status_code == 404


def test_carol_never_sees_acmes_entitlements(client, carol, owned):
    client.force_login(carol)
    assert client.get(detail("posture"), {"account": "acme"}).status_code == 404
    eu = cell(client.get(detail("posture")).content.decode(), "eu")
    assert 'data-status="active"' in eu  # Globex's own
    assert "trial" not in eu


def test_it_asks_for_a_sign_in(client, db):
    assert client.get(detail("backup")).status_code == 302


def test_it_runs_a_fixed_number_of_queries(client, alice, owned, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(9):  # incl. session, user and the account switcher
        assert client.get(detail("posture")).status_code == 200
