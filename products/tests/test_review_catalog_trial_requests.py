"""Hostile use of trial requests: two admins approving at once, approving after the world
changed (policy back to admins-only, the account left the region, the product went coming
soon), a member approving through the API, another account's id, junk bodies."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import account_region_remove, membership_add
from conftest import make_user
from products.models import Entitlement, TrialRequest
from products.trial_requests import trial_policy_set, trial_request_approve, trial_request_create
from regions.models import AccountRegion

Role = Membership.Role


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def pending(acme_everywhere, owner, bob_m, posture, regions):
    trial_policy_set(actor=owner, policy="members_request")
    return trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]], note="please")


def _url(slug, pk, what):
    return f"/api/v1/accounts/{slug}/trial-requests/{pk}/{what}/"


@pytest.mark.django_db(transaction=True)
def test_two_admins_approving_at_once_start_one_trial(acme_everywhere, owner, pending):
    # given: a second admin; both press approve at the same moment
    dora = membership_add(account=acme_everywhere, user=make_user("dora@acme.test"), role=Role.ADMIN)
    barrier, results = threading.Barrier(2), []

    def approve(actor):
        try:
            barrier.wait()
            trial_request_approve(actor=actor, trial_request=pending)
            results.append("approved")
        except ValidationError as exc:
            results.append(exc.code if hasattr(exc, "code") else "refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(actor,)) for actor in (owner, dora)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then
    assert sorted(results) == ["approved", "decided"]
    assert Entitlement.objects.filter(account=acme_everywhere, product__code="posture").count() == 1
    assert TrialRequest.objects.get(pk=pending.pk).status == "approved"


def test_a_member_cannot_approve_their_own_request_through_the_api(api, bob, pending):
    api.force_login(bob)
    response = api.post(_url("acme", pending.pk, "approve"), format="json")
    assert response.status_code == 403 and "detail" in response.json()
    assert TrialRequest.objects.get(pk=pending.pk).status == "pending"


def test_an_admin_cannot_approve_another_accounts_request_by_id_under_their_own_slug(
    api, carol, globex, pending
):
    api.force_login(carol)
    for what in ("approve", "decline"):
        response = api.post(_url("globex", pending.pk, what), {"reason": "no"}, format="json")
        assert response.status_code == 404, what
    assert TrialRequest.objects.get(pk=pending.pk).status == "pending"


def test_approving_after_the_policy_went_back_to_admins_only_still_works_for_an_admin(
    api, alice, owner, pending, regions
):
    trial_policy_set(actor=owner, policy="admins")
    api.force_login(alice)
    response = api.post(_url("acme", pending.pk, "approve"), format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"


def test_approving_after_the_product_went_coming_soon_is_400_and_stays_pending(api, alice, pending, posture):
    posture.coming_soon = True
    posture.save()
    api.force_login(alice)
    response = api.post(_url("acme", pending.pk, "approve"), format="json")
    assert response.status_code == 400 and "coming soon" in str(response.json())
    assert TrialRequest.objects.get(pk=pending.pk).status == "pending"


def test_approving_after_the_account_left_the_region_adds_it_back(
    api, alice, acme_everywhere, pending, regions
):
    account_region_remove(
        account_region=AccountRegion.objects.get(account=acme_everywhere, region=regions["eu"])
    )
    api.force_login(alice)
    response = api.post(_url("acme", pending.pk, "approve"), format="json")
    assert response.status_code == 200
    assert AccountRegion.objects.filter(account=acme_everywhere, region=regions["eu"]).exists()
    assert Entitlement.objects.get(account=acme_everywhere, product__code="posture").status == "trial"


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "x" * 100_000},
        {"reason": "nul\x00byte"},
        {"reason": ["a", "list"]},
        {"reason": None},
        {},
    ],
)
def test_junk_decline_bodies_are_400_json(api, alice, pending, body):
    api.force_login(alice)
    response = api.post(_url("acme", pending.pk, "decline"), body, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert TrialRequest.objects.get(pk=pending.pk).status == "pending"


def test_a_non_json_decline_body_is_400_json(api, alice, pending):
    api.force_login(alice)
    response = api.post(_url("acme", pending.pk, "decline"), b"\xff\xfe{", content_type="application/json")
    assert response.status_code == 400 and response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"product": "posture", "regions": ["au"]},  # not offered there
        {"product": "posture", "regions": "eu"},
        {"product": "posture", "regions": [{"code": "eu"}]},
        {"product": "posture\x00", "regions": ["eu"]},
        {"product": "posture", "regions": ["eu"], "note": "n" * 100_000},
        {"product": 7, "regions": [7]},
    ],
)
def test_junk_request_bodies_are_400_json(api, bob, acme_everywhere, owner, posture, regions, body):
    trial_policy_set(actor=owner, policy="members_request")
    api.force_login(bob)
    response = api.post("/api/v1/accounts/acme/trial-requests/", body, format="json")
    assert response.status_code == 400 and response.json()
    assert not TrialRequest.objects.exists()


def test_the_decline_page_with_a_huge_or_nul_reason_is_a_form_error(client, alice, pending):
    client.force_login(alice)
    for reason in ("x" * 100_000, "a\x00b"):
        response = client.post(
            f"/products/trial-requests/{pending.pk}/decline/", {"account": "acme", "reason": reason}
        )
        assert response.status_code == 400
    assert TrialRequest.objects.get(pk=pending.pk).status == "pending"


@pytest.mark.parametrize("what", ["approve", "decline"])
def test_an_id_beyond_any_integer_column_is_404(api, client, alice, pending, what):
    api.force_login(alice)
    huge = 10**30
    assert api.post(_url("acme", huge, what), {"reason": "no"}, format="json").status_code == 404
    client.force_login(alice)
    page = client.post(f"/products/trial-requests/{huge}/{what}/", {"account": "acme", "reason": "no"})
    assert page.status_code == 404
