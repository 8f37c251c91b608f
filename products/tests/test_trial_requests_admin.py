"""Django admin for sales and staff: trial requests (filterable, read-only: decisions go through
the account's admins), sales flags (read-only), trial policies (read-only) and cross-sell rules
(staff edit them; a rule recommending its own product is a form error)."""

import pytest
from django.urls import reverse

from accounts.models import Membership, User
from accounts.services import account_create
from conftest import make_user
from products.models import CrossSellRule, TrialRequest, TrialSalesFlag
from products.trial_requests import trial_policy_set, trial_request_create, trial_request_decline
from products.trials import trial_start


@pytest.fixture
def staff(client, db):
    user = User.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(user)
    return user


@pytest.fixture
def requests_made(acme_everywhere, owner, bob_m, posture, backup, regions):
    trial_policy_set(actor=owner, policy="members_request")
    declined = trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]])
    trial_request_decline(actor=owner, trial_request=declined, reason="Not now")
    pending = trial_request_create(actor=bob_m, product=backup, regions=[regions["us"]])
    return {"declined": declined, "pending": pending}


def test_staff_list_trial_requests_filtered_by_status(client, staff, requests_made):
    url = reverse("admin:products_trialrequest_changelist")
    body = client.get(url).content.decode()
    assert 'class="field-product nowrap">Backup &amp; Recovery' in body
    assert 'class="field-product nowrap">Security Posture' in body
    declined = client.get(f"{url}?status__exact=declined").content.decode()
    assert 'class="field-product nowrap">Security Posture' in declined
    assert 'class="field-product nowrap">Backup &amp; Recovery' not in declined


def test_trial_requests_cannot_be_added_or_changed_in_the_admin(client, staff, requests_made):
    assert client.get(reverse("admin:products_trialrequest_add")).status_code == 403
    pk = requests_made["pending"].pk
    response = client.post(reverse("admin:products_trialrequest_change", args=[pk]), {"status": "approved"})
    assert response.status_code == 403
    assert TrialRequest.objects.get(pk=pk).status == "pending"
    assert (
        client.post(reverse("admin:products_trialrequest_delete", args=[pk]), {"post": "yes"}).status_code
        == 403
    )


def test_sales_flags_are_listed_read_only(client, staff, acme, owner, backup, regions):
    labs = account_create(name="Acme Labs", slug="acme-labs", owner=make_user("zoe@acme.test"))
    trial_start(
        account=labs, product=backup, regions=[regions["eu"]], actor=Membership.objects.get(account=labs)
    )
    trial_start(account=acme, product=backup, regions=[regions["us"]], actor=owner)
    flag = TrialSalesFlag.objects.get()
    body = client.get(reverse("admin:products_trialsalesflag_changelist")).content.decode()
    assert "acme.test" in body and "Acme Labs" in body
    assert client.get(reverse("admin:products_trialsalesflag_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:products_trialsalesflag_delete", args=[flag.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TrialSalesFlag.objects.count() == 1


def test_trial_policies_are_shown_read_only(client, staff, acme, owner):
    trial_policy_set(actor=owner, policy="members_request")
    body = client.get(reverse("admin:products_accounttrialpolicy_changelist")).content.decode()
    assert "Members request trials" in body
    assert client.get(reverse("admin:products_accounttrialpolicy_add")).status_code == 403


def test_staff_add_a_cross_sell_rule(client, staff, backup, posture):
    response = client.post(
        reverse("admin:products_crosssellrule_add"),
        {
            "when_product": backup.pk,
            "recommend_product": posture.pk,
            "message": "",
            "position": 3,
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = CrossSellRule.objects.get()
    assert (rule.when_product, rule.recommend_product, rule.position, rule.active) == (
        backup,
        posture,
        3,
        True,
    )


def test_a_rule_recommending_its_own_product_is_a_form_error(client, staff, backup):
    response = client.post(
        reverse("admin:products_crosssellrule_add"),
        {
            "when_product": backup.pk,
            "recommend_product": backup.pk,
            "message": "",
            "position": 1,
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert (
        "cross_sell_rule_not_itself" in response.content.decode() or "errorlist" in response.content.decode()
    )
    assert not CrossSellRule.objects.exists()
