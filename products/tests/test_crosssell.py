"""Cross-sell on the account home (the products panel) and the catalog page: owned products with
"Open in <region>" links where the account is entitled, the others with "Try it free" or
"Coming soon", and recommendations from staff-edited rules; bounded queries."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.services import membership_add
from conftest import make_user
from products.crosssell import crosssell_panel
from products.models import CrossSellRule
from products.services import entitlement_set, product_create
from products.trial_requests import trial_policy_set, trial_request_create

HOME = reverse("accounts:home", args=["acme"])


@pytest.fixture
def catalog(acme_everywhere, backup, posture, insights, regions):
    archiver = product_create(code="archiver", name="Archiver", regions=list(regions.values()), trial_days=30)
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["au"], status="cancelled")
    return {"backup": backup, "posture": posture, "insights": insights, "archiver": archiver}


@pytest.fixture
def rule(catalog):
    return CrossSellRule.objects.create(
        when_product=catalog["backup"], recommend_product=catalog["posture"], position=1
    )


def _section(body: str, marker: str) -> str:
    return body.split(marker, 1)[1].split("</ul>", 1)[0]


def test_the_home_shows_owned_products_with_open_links_where_entitled(client, alice, catalog, regions):
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    owned = _section(body, 'data-testid="owned-products"')
    assert 'href="http://127.0.0.1:8101/p/backup/"' in owned and "Open in US" in owned
    assert 'href="http://127.0.0.1:8102/p/backup/"' in owned and "Open in EU" in owned
    assert "Open in AU" not in owned  # cancelled there


def test_the_other_products_offer_a_free_trial_or_say_coming_soon(client, bob, catalog):
    client.force_login(bob)  # any member sees the panel
    others = _section(client.get(HOME).content.decode(), 'data-testid="other-products"')
    assert 'data-try="posture"' in others and 'data-try="archiver"' in others
    assert "/products/posture/?account=acme" in others
    assert 'data-other="insights"' in others and "Coming soon" in others
    assert 'data-other="backup"' not in others


def test_a_product_whose_trial_ended_links_to_its_page_not_a_new_trial(
    client, alice, acme_everywhere, catalog, regions
):
    entitlement_set(
        account=acme_everywhere, product=catalog["posture"], region=regions["eu"], status="expired"
    )
    client.force_login(alice)
    others = _section(client.get(HOME).content.decode(), 'data-testid="other-products"')
    assert 'data-see="posture"' in others and 'data-try="posture"' not in others


def test_a_trial_past_its_end_is_not_owned(acme_everywhere, catalog, regions):
    ends = timezone.now() + timedelta(days=2)
    entitlement_set(
        account=acme_everywhere,
        product=catalog["archiver"],
        region=regions["eu"],
        status="trial",
        ends_at=ends,
    )
    assert [item.product.code for item in crosssell_panel(account=acme_everywhere)["owned"]] == [
        "archiver",
        "backup",
    ]
    with time_machine.travel(ends + timedelta(minutes=1)):  # before the sweep expires it
        assert [item.product.code for item in crosssell_panel(account=acme_everywhere)["owned"]] == ["backup"]


def test_a_rule_recommends_what_the_account_lacks(client, alice, rule):
    client.force_login(alice)
    recommendations = _section(client.get(HOME).content.decode(), 'data-testid="recommendations"')
    assert 'data-recommend="posture"' in recommendations
    assert "Accounts with Backup &amp; Recovery often add Security Posture" in recommendations


def test_a_custom_message_is_shown_as_is(acme_everywhere, rule):
    rule.message = "Scan your backups for risks"
    rule.save()
    assert [r.text for r in crosssell_panel(account=acme_everywhere)["recommendations"]] == [
        "Scan your backups for risks"
    ]


def test_no_recommendation_when_the_account_owns_the_product_already(acme_everywhere, rule, regions, catalog):
    entitlement_set(account=acme_everywhere, product=catalog["posture"], region=regions["eu"], status="trial",
                    ends_at=timezone.now() + timedelta(days=3))  # fmt: skip
    assert crosssell_panel(account=acme_everywhere)["recommendations"] == []


def test_no_recommendation_without_the_when_product(globex_eu, catalog):
    CrossSellRule.objects.create(when_product=catalog["archiver"], recommend_product=catalog["posture"])
    assert crosssell_panel(account=globex_eu)["recommendations"] == []


def test_inactive_rules_and_coming_soon_products_are_not_recommended(acme_everywhere, rule, catalog):
    rule.active = False
    rule.save()
    CrossSellRule.objects.create(when_product=catalog["backup"], recommend_product=catalog["insights"])
    assert crosssell_panel(account=acme_everywhere)["recommendations"] == []


def test_rules_show_in_position_order_once_per_product(acme_everywhere, catalog, regions):
    entitlement_set(
        account=acme_everywhere, product=catalog["archiver"], region=regions["eu"], status="active"
    )
    CrossSellRule.objects.create(when_product=catalog["archiver"], recommend_product=catalog["posture"],
                                 message="second", position=5)  # fmt: skip
    CrossSellRule.objects.create(when_product=catalog["backup"], recommend_product=catalog["posture"],
                                 message="first", position=2)  # fmt: skip
    assert [r.text for r in crosssell_panel(account=acme_everywhere)["recommendations"]] == ["first"]


def test_the_catalog_page_shows_the_recommendations(client, alice, rule):
    client.force_login(alice)
    body = client.get(f"{reverse('products:catalog')}?account=acme").content.decode()
    assert 'data-testid="recommendations"' in body and 'data-recommend="posture"' in body


def test_another_accounts_rules_apply_to_its_own_products_only(client, carol, globex_eu, rule, catalog):
    client.force_login(carol)  # Globex owns nothing: no recommendation, and nothing of Acme's shows
    body = client.get(reverse("accounts:home", args=["globex"])).content.decode()
    assert 'data-testid="recommendations"' not in body
    assert "/p/backup/" not in body


def test_the_panel_costs_four_queries_whatever_the_catalog_size(
    acme_everywhere, catalog, rule, regions, django_assert_num_queries
):
    with django_assert_num_queries(4):  # products, availability, entitlements, rules
        crosssell_panel(account=acme_everywhere)
    for n in range(10):
        product = product_create(
            code=f"extra-{n}", name=f"Extra {n}", regions=list(regions.values()), trial_days=7
        )
        entitlement_set(account=acme_everywhere, product=product, region=regions["au"], status="active")
        CrossSellRule.objects.create(when_product=product, recommend_product=catalog["archiver"], position=n)
    with django_assert_num_queries(4):
        panel = crosssell_panel(account=acme_everywhere)
    assert len(panel["owned"]) == 11
    assert [r.product.code for r in panel["recommendations"]] == ["archiver", "posture"]


def test_the_home_costs_the_same_queries_with_2_or_12_products(
    client, alice, acme_everywhere, catalog, rule, regions, django_assert_max_num_queries
):
    membership_add(account=acme_everywhere, user=make_user("x@acme.test"))
    client.force_login(alice)
    counts = []
    for numbers in (range(1), range(1, 12)):
        for n in numbers:
            product = product_create(code=f"extra-{n}", name=f"Extra {n}", regions=list(regions.values()))
            entitlement_set(account=acme_everywhere, product=product, region=regions["us"], status="active")
        # the products panel is pinned above; other apps' panels add their own bounded queries
        with django_assert_max_num_queries(20) as captured:
            response = client.get(HOME)
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert response.content.decode().count("data-owned=") == 13


def test_owners_and_admins_see_pending_trial_requests_members_do_not(client, alice, bob, acme_everywhere, owner,
                                                                     bob_m, catalog, regions):  # fmt: skip
    trial_policy_set(actor=owner, policy="members_request")
    trial_request_create(actor=bob_m, product=catalog["posture"], regions=[regions["eu"]])
    client.force_login(alice)
    body = client.get(HOME).content.decode()
    assert "1 trial request waiting for an owner or admin" in body
    assert "/products/trial-requests/?account=acme" in body
    client.force_login(bob)
    assert 'data-testid="pending-requests"' not in client.get(HOME).content.decode()
