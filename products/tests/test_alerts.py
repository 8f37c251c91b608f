"""The account home's security alerts panel: open alert counts per region the account has
Security Posture in, fetched from each region's machine port (a real mTLS server on loopback),
cached a minute; a region that does not answer shows "unavailable" and the page still works."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import account_region_add
from conftest import make_region
from products.alerts import account_alerts, posture_regions
from products.models import Entitlement
from products.services import entitlement_set, product_create
from regions.tests import test_client_alerts_support as support

pytestmark = pytest.mark.django_db(transaction=True)
# The stand-in region's fixtures, used by name.
pki, atrium_for_regions, fake_eu = support.pki, support.atrium_for_regions, support.fake_eu


@pytest.fixture
def us_down(atrium_for_regions):
    return make_region("us", 8101, 9)  # nothing listens on port 9


@pytest.fixture
def posture(fake_eu, us_down):
    return product_create(
        code="posture", name="Security Posture", regions=[fake_eu.region, us_down], trial_days=14
    )


@pytest.fixture
def acme_posture(acme, posture, fake_eu, us_down):
    for region in (fake_eu.region, us_down):
        account_region_add(account=acme, region=region)
        entitlement_set(account=acme, product=posture, region=region, status="active")
    fake_eu.summary("acme", high=2, medium=2, low=1)
    return acme


def home(client, user, account):
    client.force_login(user)
    response = client.get(f"/a/{account.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_shows_the_open_alerts_per_region_with_a_link_into_the_region(
    client, alice, acme_posture, fake_eu
):
    page = home(client, alice, acme_posture)
    assert 'data-panel="alerts"' in page
    assert 'data-alerts-region="eu" data-open="5"' in page
    assert "2 high · 2 medium · 1 low" in page
    assert 'href="http://127.0.0.1:8102/p/posture/alerts/"' in page


def test_a_region_that_does_not_answer_is_unavailable_and_the_page_still_works(client, alice, acme_posture):
    page = home(client, alice, acme_posture)
    assert 'data-alerts-region="us" data-unavailable="yes"' in page
    assert 'data-alerts-region="eu" data-open="5"' in page


def test_a_member_who_is_not_an_admin_sees_the_counts_too(client, bob, acme_posture):
    assert 'data-alerts-region="eu" data-open="5"' in home(client, bob, acme_posture)


def test_answers_are_cached_for_a_minute(acme_posture, fake_eu):
    account_alerts(account=acme_posture)
    account_alerts(account=acme_posture)
    assert len(fake_eu.requests) == 1
    fake_eu.summary("acme", low=1)
    assert [r.open for r in account_alerts(account=acme_posture) if r.available] == [5]


def test_a_failure_is_cached_too_so_a_down_region_costs_one_call_a_minute(acme_posture, fake_eu):
    fake_eu.replies["acme"] = (503, {"status": "503", "detail": "busy"})
    first = account_alerts(account=acme_posture)
    again = account_alerts(account=acme_posture)
    assert [r.available for r in first] == [r.available for r in again] == [False, False]
    assert len(fake_eu.requests) == 1


def test_an_account_without_posture_has_no_panel_and_asks_no_region(client, carol, globex, fake_eu):
    page = home(client, carol, globex)
    assert 'data-panel="alerts"' not in page
    assert fake_eu.requests == []


def test_regions_whose_posture_ended_are_not_asked(acme_posture, fake_eu, us_down, posture):
    entitlement_set(account=acme_posture, product=posture, region=us_down, status="cancelled")
    ended = timezone.now() - timedelta(minutes=1)
    Entitlement.objects.filter(region=fake_eu.region).update(
        status="trial", starts_at=ended - timedelta(days=14), ends_at=ended
    )
    assert posture_regions(account=acme_posture) == []
    assert account_alerts(account=acme_posture) == []
    assert fake_eu.requests == []


def test_each_account_gets_its_own_tenants_counts(
    client, alice, carol, acme_posture, globex, posture, fake_eu
):
    account_region_add(account=globex, region=fake_eu.region)
    entitlement_set(account=globex, product=posture, region=fake_eu.region, status="trial",
                    ends_at=timezone.now() + timedelta(days=10))  # fmt: skip
    fake_eu.summary("globex", low=1)
    page = home(client, carol, globex)
    assert 'data-alerts-region="eu" data-open="1"' in page
    assert 'data-alerts-region="us"' not in page  # Globex does not have posture there
    assert [r["path"] for r in fake_eu.requests] == ["/tenant/v1/globex/products/posture/alerts/summary"]


def test_the_regions_to_ask_are_read_in_one_query(acme_posture, django_assert_num_queries):
    with django_assert_num_queries(1):
        regions = posture_regions(account=acme_posture)
    assert [r.code for r in regions] == ["eu", "us"]
