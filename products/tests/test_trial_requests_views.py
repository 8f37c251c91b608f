"""The pages of trial requests: who may start trials (/products/trial-policy/), the request form
on the product page, the requests list and approve / decline. Owners and admins decide; members
request; read-only sees and changes nothing; another account's request is a 404."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership
from accounts.services import membership_add
from conftest import make_user
from products.models import Entitlement, TrialRequest
from products.services import entitlement_set
from products.trial_requests import trial_policy_of, trial_policy_set, trial_request_create

Role = Membership.Role
POLICY = reverse("products:trial_policy")
REQUESTS = reverse("products:trial_requests")


def _person(account, email, role):
    user = make_user(email)
    membership_add(account=account, user=user, role=role)
    return user


@pytest.fixture
def requesting(acme_everywhere, owner):
    trial_policy_set(actor=owner, policy="members_request")
    return acme_everywhere


@pytest.fixture
def viewer(acme):
    return _person(acme, "ro@acme.test", Role.READ_ONLY)


@pytest.fixture
def pending(requesting, bob_m, posture, regions):
    return trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]], note="please")


def _approve(pk):
    return reverse("products:trial_request_approve", args=[pk])


def _decline(pk):
    return reverse("products:trial_request_decline", args=[pk])


# --- the policy page --------------------------------------------------------------------------
def test_the_owner_sees_and_changes_the_policy(client, alice, acme):
    client.force_login(alice)
    body = client.get(f"{POLICY}?account=acme").content.decode()
    assert re.search(r'value="admins"[^>]*checked', body)
    assert not re.search(r'value="members_request"[^>]*checked', body)
    response = client.post(POLICY, {"account": "acme", "policy": "members_request"})
    assert response.status_code == 302
    assert trial_policy_of(account=acme) == "members_request"


def test_an_unknown_policy_is_a_form_error(client, alice, acme):
    client.force_login(alice)
    response = client.post(POLICY, {"account": "acme", "policy": "everyone"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert trial_policy_of(account=acme) == "admins"


@pytest.mark.parametrize("who", ["bob", "viewer"])
def test_members_and_read_only_get_403_on_the_policy_page(client, acme, bob, viewer, who):
    client.force_login({"bob": bob, "viewer": viewer}[who])
    assert client.get(f"{POLICY}?account=acme").status_code == 403
    assert client.post(POLICY, {"account": "acme", "policy": "members_request"}).status_code == 403
    assert trial_policy_of(account=acme) == "admins"


def test_another_accounts_owner_gets_404_on_the_policy_page(client, carol, acme, globex):
    client.force_login(carol)
    assert client.get(f"{POLICY}?account=acme").status_code == 404
    assert client.post(POLICY, {"account": "acme", "policy": "members_request"}).status_code == 404
    assert trial_policy_of(account=acme) == "admins"


# --- the product page -------------------------------------------------------------------------
def _detail(client, code="posture"):
    return client.get(f"{reverse('products:detail', args=[code])}?account=acme").content.decode()


def test_under_the_admins_policy_a_member_is_told_to_ask_an_admin(client, bob, acme_everywhere, posture):
    client.force_login(bob)
    body = _detail(client)
    assert 'data-testid="ask-an-admin"' in body
    assert 'data-testid="request-trial"' not in body


def test_under_the_request_policy_a_member_sees_the_request_form(client, bob, requesting, posture):
    client.force_login(bob)
    body = _detail(client)
    assert 'data-testid="request-trial"' in body
    assert 'data-testid="ask-an-admin"' not in body


def test_read_only_sees_no_request_form(client, viewer, requesting, posture):
    client.force_login(viewer)
    assert 'data-testid="request-trial"' not in _detail(client)


def test_a_pending_request_is_shown_instead_of_the_form(client, bob, pending):
    client.force_login(bob)
    body = _detail(client)
    assert 'data-testid="request-pending"' in body and "You asked" in body
    assert 'data-testid="request-trial"' not in body


def test_the_owner_still_starts_the_trial_directly_and_sees_the_links(client, alice, pending):
    client.force_login(alice)
    body = _detail(client)
    assert "Start free trial" in body
    assert 'data-link="trial-requests"' in body and 'data-link="trial-policy"' in body


# --- requesting -------------------------------------------------------------------------------
def _request(client, code="posture", **data):
    return client.post(
        reverse("products:trial_request_create", args=[code]), {"account": "acme", "regions": ["eu"], **data}
    )


def test_a_member_requests_a_trial(client, bob, requesting, posture, django_capture_on_commit_callbacks):
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = _request(client, note="for the audit")
    assert response.status_code == 302
    trial_request = TrialRequest.objects.get()
    assert (trial_request.requested_by, trial_request.note) == (bob, "for the audit")
    assert [m.to for m in mail.outbox] == [["alice@acme.test"]]


def test_a_request_without_regions_is_a_form_error(client, bob, requesting, posture):
    client.force_login(bob)
    response = _request(client, regions=[])
    assert response.status_code == 400
    assert "Choose at least one region." in response.content.decode()
    assert not TrialRequest.objects.exists()


def test_a_request_for_an_owned_product_is_refused_on_the_page(client, bob, requesting, backup, regions):
    entitlement_set(account=requesting, product=backup, region=regions["us"], status="active")
    client.force_login(bob)
    response = _request(client, code="backup")
    assert response.status_code == 400
    assert "already has or had Backup &amp; Recovery" in response.content.decode()


def test_under_the_admins_policy_a_request_is_403(client, bob, acme_everywhere, posture):
    client.force_login(bob)
    assert _request(client).status_code == 403
    assert not TrialRequest.objects.exists()


def test_read_only_gets_403_when_requesting(client, viewer, requesting, posture):
    client.force_login(viewer)
    assert _request(client).status_code == 403


def test_requesting_for_another_account_is_404(client, carol, requesting, globex, posture):
    client.force_login(carol)
    assert _request(client).status_code == 404
    assert not TrialRequest.objects.exists()


# --- the requests list ------------------------------------------------------------------------
def test_the_owner_sees_every_request_with_decision_buttons(
    client, alice, requesting, pending, backup, regions
):
    erin = Membership.objects.get(user=_person(requesting, "erin@acme.test", Role.MEMBER), account=requesting)
    trial_request_create(actor=erin, product=backup, regions=[regions["au"]])
    client.force_login(alice)
    body = client.get(f"{REQUESTS}?account=acme").content.decode()
    assert body.count("data-request=") == 2
    assert f'data-approve="{pending.pk}"' in body and f'data-decline="{pending.pk}"' in body


def test_a_member_sees_only_their_own_requests_and_no_buttons(
    client, bob, requesting, pending, backup, regions
):
    erin = Membership.objects.get(user=_person(requesting, "erin@acme.test", Role.MEMBER), account=requesting)
    other = trial_request_create(actor=erin, product=backup, regions=[regions["au"]])
    client.force_login(bob)
    body = client.get(f"{REQUESTS}?account=acme").content.decode()
    assert f'data-request="{pending.pk}"' in body and f'data-request="{other.pk}"' not in body
    assert "data-approve" not in body


def test_read_only_sees_every_request_but_no_buttons(client, viewer, pending):
    client.force_login(viewer)
    body = client.get(f"{REQUESTS}?account=acme").content.decode()
    assert f'data-request="{pending.pk}"' in body and "data-approve" not in body


def test_another_accounts_owner_gets_404_on_the_list(client, carol, globex, pending):
    client.force_login(carol)
    assert client.get(f"{REQUESTS}?account=acme").status_code == 404
    assert f'data-request="{pending.pk}"' not in client.get(f"{REQUESTS}?account=globex").content.decode()


def test_the_list_costs_the_same_queries_for_2_or_20_requests(
    client, alice, requesting, posture, regions, django_assert_max_num_queries
):
    client.force_login(alice)
    counts = []
    for numbers in (range(2), range(2, 20)):
        for n in numbers:
            member = Membership.objects.get(
                account=requesting, user=_person(requesting, f"m{n}@acme.test", "member")
            )
            # one pending per product: mark the earlier ones declined directly to stack many rows
            TrialRequest.objects.filter(status="pending").update(status="declined", decline_reason="old")
            trial_request_create(actor=member, product=posture, regions=[regions["eu"], regions["us"]])
        # session, user, memberships (switcher), policy, count, page, regions prefetch
        with django_assert_max_num_queries(9) as captured:
            response = client.get(f"{REQUESTS}?account=acme")
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert response.content.decode().count("data-request=") == 20


# --- approve / decline ------------------------------------------------------------------------
def test_the_owner_approves_and_the_trial_starts(client, alice, pending, regions):
    client.force_login(alice)
    response = client.post(_approve(pending.pk), {"account": "acme"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert Entitlement.objects.get(account__slug="acme").status == "trial"


def test_approving_twice_is_a_409_with_the_reason(client, alice, pending):
    client.force_login(alice)
    client.post(_approve(pending.pk), {"account": "acme"})
    response = client.post(_approve(pending.pk), {"account": "acme"})
    assert response.status_code == 409
    assert "approved already" in response.content.decode()


@pytest.mark.parametrize("who", ["bob", "viewer"])
def test_members_and_read_only_get_403_on_approve_and_decline(client, bob, viewer, pending, who):
    client.force_login({"bob": bob, "viewer": viewer}[who])
    assert client.post(_approve(pending.pk), {"account": "acme"}).status_code == 403
    assert client.get(f"{_decline(pending.pk)}?account=acme").status_code == 403
    assert client.post(_decline(pending.pk), {"account": "acme", "reason": "no"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_another_accounts_request_is_404_for_its_owner(client, carol, globex, pending):
    client.force_login(carol)
    for account in ("globex", "acme"):
        assert client.post(_approve(pending.pk), {"account": account}).status_code == 404
        assert client.post(_decline(pending.pk), {"account": account, "reason": "x"}).status_code == 404
        assert client.get(f"{_decline(pending.pk)}?account={account}").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_declining_asks_for_a_reason(client, alice, pending):
    client.force_login(alice)
    assert (
        "Why (mailed to bob@acme.test)" in client.get(f"{_decline(pending.pk)}?account=acme").content.decode()
    )
    response = client.post(_decline(pending.pk), {"account": "acme", "reason": ""})
    assert response.status_code == 400
    assert "Say why, for the person who asked." in response.content.decode()
    response = client.post(_decline(pending.pk), {"account": "acme", "reason": "Budget frozen"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decline_reason) == ("declined", "Budget frozen")
    assert "Budget frozen" in client.get(f"{REQUESTS}?account=acme").content.decode()
