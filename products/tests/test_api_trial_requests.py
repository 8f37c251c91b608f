"""REST API for trial requests: /api/v1/accounts/<slug>/trial-requests/ (list, create) and
.../<id>/approve/, .../<id>/decline/ — the same services as the pages, JSON errors, another
account's request a 404, a role without the right a 403, a fixed number of queries per list."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import membership_add
from conftest import make_user
from products.models import Entitlement, TrialRequest
from products.services import entitlement_set
from products.trial_requests import trial_policy_set, trial_request_create
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/{slug}/trial-requests/"
Role = Membership.Role


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def requesting(acme_everywhere, owner):
    trial_policy_set(actor=owner, policy="members_request")
    return acme_everywhere


@pytest.fixture
def pending(requesting, bob_m, posture, regions):
    return trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]], note="please")


def _login_as(api, account, role):
    user = make_user(f"{role}@acme.test")
    membership_add(account=account, user=user, role=role)
    api.force_login(user)
    return user


def test_a_member_creates_a_request(api, bob, requesting, posture):
    api.force_login(bob)
    response = api.post(
        URL.format(slug="acme"), {"product": "posture", "regions": ["eu", "us"], "note": "hi"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["product"], body["regions"], body["status"], body["requester_email"], body["note"]) == (
        "posture", ["eu", "us"], "pending", "bob@acme.test", "hi"
    )  # fmt: skip
    assert TrialRequest.objects.get().pk == body["id"]


def test_under_the_admins_policy_creating_is_403_json(api, bob, acme_everywhere, posture):
    api.force_login(bob)
    response = api.post(URL.format(slug="acme"), {"product": "posture", "regions": ["eu"]}, format="json")
    assert response.status_code == 403
    assert "ask an admin" in response.json()["detail"]


def test_read_only_creating_is_403(api, requesting, posture):
    _login_as(api, requesting, Role.READ_ONLY)
    response = api.post(URL.format(slug="acme"), {"product": "posture", "regions": ["eu"]}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"product": "nope", "regions": ["eu"]}, "product"),
        ({"product": "posture", "regions": ["zz"]}, "regions"),
        ({"product": "posture", "regions": []}, "regions"),
        ({"product": "posture"}, "regions"),
        ({"product": "posture", "regions": ["au"]}, "regions"),  # not offered there
        ({"product": "posture", "regions": ["eu"], "note": "x" * 1001}, "note"),
        ({"product": ["posture"], "regions": "eu"}, "product"),
    ],
)
def test_bad_bodies_are_400_json_naming_the_field(api, bob, requesting, posture, payload, field):
    api.force_login(bob)
    response = api.post(URL.format(slug="acme"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TrialRequest.objects.exists()


def test_an_owned_product_and_a_second_pending_request_are_400(
    api, bob, requesting, pending, backup, regions
):
    entitlement_set(account=requesting, product=backup, region=regions["us"], status="active")
    api.force_login(bob)
    owned = api.post(URL.format(slug="acme"), {"product": "backup", "regions": ["eu"]}, format="json")
    assert owned.status_code == 400 and "already has or had" in owned.json()["detail"][0]
    again = api.post(URL.format(slug="acme"), {"product": "posture", "regions": ["eu"]}, format="json")
    assert again.status_code == 400 and "already waiting" in again.json()["detail"][0]


def test_another_account_is_404(api, carol, globex, requesting, pending):
    api.force_login(carol)
    assert api.get(URL.format(slug="acme")).status_code == 404
    response = api.post(URL.format(slug="acme"), {"product": "posture", "regions": ["eu"]}, format="json")
    assert response.status_code == 404
    assert api.get(URL.format(slug="globex")).json()["results"] == []


def test_admins_list_every_request_members_their_own(api, alice, bob, requesting, pending, backup, regions):
    erin = membership_add(account=requesting, user=make_user("erin@acme.test"), role=Role.MEMBER)
    trial_request_create(actor=erin, product=backup, regions=[regions["au"]])
    api.force_login(alice)
    assert [r["requester_email"] for r in api.get(URL.format(slug="acme")).json()["results"]] == [
        "erin@acme.test", "bob@acme.test"
    ]  # fmt: skip
    api.force_login(bob)
    assert [r["id"] for r in api.get(URL.format(slug="acme")).json()["results"]] == [pending.pk]


def test_the_list_costs_the_same_queries_for_2_or_12_requests(
    api, alice, requesting, posture, regions, django_assert_max_num_queries
):
    api.force_login(alice)
    counts = []
    for numbers in (range(2), range(2, 12)):
        for n in numbers:
            member = membership_add(account=requesting, user=make_user(f"m{n}@acme.test"), role=Role.MEMBER)
            TrialRequest.objects.filter(status="pending").update(status="declined", decline_reason="old")
            trial_request_create(actor=member, product=posture, regions=[regions["eu"], regions["us"]])
        # session, user, membership, count, page, regions prefetch
        with django_assert_max_num_queries(6) as captured:
            response = api.get(URL.format(slug="acme"))
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert response.json()["count"] == 12


def test_an_admin_approves_and_the_trial_starts_with_its_document(api, requesting, pending, regions):
    admin = _login_as(api, requesting, Role.ADMIN)
    response = api.post(f"{URL.format(slug='acme')}{pending.pk}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved" and response.json()["decided_by"] == admin.email
    assert Entitlement.objects.get(account=requesting).status == "trial"
    assert ProvisioningRecord.objects.filter(
        kind="entitlements", tenant="acme", region=regions["eu"]
    ).exists()
    again = api.post(f"{URL.format(slug='acme')}{pending.pk}/approve/")
    assert again.status_code == 400 and "approved already" in again.json()["detail"][0]


def test_an_admin_declines_with_a_reason(api, alice, pending):
    api.force_login(alice)
    url = f"{URL.format(slug='acme')}{pending.pk}/decline/"
    assert "reason" in api.post(url, {}, format="json").json()
    response = api.post(url, {"reason": "Not this quarter"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decline_reason"]) == ("declined", "Not this quarter")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.READ_ONLY, Role.BILLING])
def test_roles_without_the_right_get_403_on_decisions(api, requesting, pending, role):
    _login_as(api, requesting, role)
    base = f"{URL.format(slug='acme')}{pending.pk}"
    assert api.post(f"{base}/approve/").status_code == 403
    assert api.post(f"{base}/decline/", {"reason": "no"}, format="json").status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_deciding_another_accounts_request_is_404(api, carol, globex, pending):
    api.force_login(carol)
    for slug in ("globex", "acme"):
        base = f"{URL.format(slug=slug)}{pending.pk}"
        assert api.post(f"{base}/approve/").status_code == 404
        assert api.post(f"{base}/decline/", {"reason": "no"}, format="json").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_anonymous_is_refused(api, pending):
    assert api.get(URL.format(slug="acme")).status_code == 401
    assert api.post(f"{URL.format(slug='acme')}{pending.pk}/approve/").status_code == 401


def test_the_schema_documents_the_trial_request_endpoints():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for path in (
        "/api/v1/accounts/{slug}/trial-requests/:",
        "/api/v1/accounts/{slug}/trial-requests/{id}/approve/:",
        "/api/v1/accounts/{slug}/trial-requests/{id}/decline/:",
    ):
        assert path in schema
    for operation in (
        "trial_requests_list",
        "trial_request_create",
        "trial_request_approve",
        "trial_request_decline",
    ):
        assert f"operationId: {operation}" in schema
