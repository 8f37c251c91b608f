"""Cross-sell recommendations must not promise what the account cannot have: a free trial of a
product whose one trial already ran, or of a product offered in no region."""

import pytest
from django.urls import reverse

from products.crosssell import crosssell_panel
from products.models import CrossSellRule
from products.services import entitlement_set, product_create

HOME = reverse("accounts:home", args=["acme"])
CATALOG = reverse("products:catalog") + "?account=acme"


@pytest.fixture
def backup_owned(acme_everywhere, backup, posture, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    CrossSellRule.objects.create(when_product=backup, recommend_product=posture, position=1)
    return acme_everywhere


def _recommendations(body: str) -> str:
    return body.split('data-testid="recommendations"', 1)[1].split("</ul>", 1)[0]


@pytest.mark.parametrize("url", [HOME, CATALOG])
def test_a_recommended_product_whose_trial_ran_out_is_not_offered_free(
    client, alice, backup_owned, posture, regions, url
):
    # given: Acme's one trial of Posture is over
    entitlement_set(account=backup_owned, product=posture, region=regions["eu"], status="expired")
    client.force_login(alice)
    # when
    recommendations = _recommendations(client.get(url).content.decode())
    # then: still recommended (Acme lacks it), but as something to see and buy, not a free trial
    assert 'data-recommend="posture"' in recommendations
    assert "try Security Posture free" not in recommendations
    assert "see Security Posture" in recommendations


@pytest.mark.parametrize("url", [HOME, CATALOG])
def test_a_recommended_product_never_tried_is_offered_free(client, alice, backup_owned, url):
    client.force_login(alice)
    assert "try Security Posture free" in _recommendations(client.get(url).content.decode())


def test_a_recommended_product_offered_in_no_region_is_not_offered_free(backup_owned, backup):
    nowhere = product_create(code="nowhere", name="Nowhere", regions=[], trial_days=14)
    CrossSellRule.objects.create(when_product=backup, recommend_product=nowhere, position=0)
    (rec, _) = crosssell_panel(account=backup_owned)["recommendations"]
    assert rec.product.code == "nowhere" and rec.can_try is False


def test_rules_recommending_each_other_show_only_what_is_lacking(backup_owned, backup, posture, regions):
    CrossSellRule.objects.create(when_product=posture, recommend_product=backup, position=2)
    assert [r.product.code for r in crosssell_panel(account=backup_owned)["recommendations"]] == ["posture"]
    entitlement_set(account=backup_owned, product=posture, region=regions["eu"], status="active")
    assert crosssell_panel(account=backup_owned)["recommendations"] == []


def test_the_panel_costs_five_queries_for_owners_and_admins_whatever_the_requests(
    backup_owned, owner, bob_m, posture, regions, django_assert_num_queries
):
    from products.crosssell import _panel_context
    from products.trial_requests import DECIDE_RIGHT, trial_policy_set, trial_request_create

    trial_policy_set(actor=owner, policy="members_request")
    trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]])
    owner.account, bob_m.account = backup_owned, backup_owned  # as the home loads them
    with django_assert_num_queries(5):  # products, availability, entitlements, rules, pending count
        context = _panel_context(None, owner, frozenset({DECIDE_RIGHT}))
    assert context["pending_requests"] == 1
    with django_assert_num_queries(4):
        assert "pending_requests" not in _panel_context(None, bob_m, frozenset())
