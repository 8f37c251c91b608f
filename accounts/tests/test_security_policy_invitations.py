"""The policy where people meet it: inviting an address outside the allowed domains is a form
error on the page and a 400 JSON in the API; allauth's password change applies the account's
password rules."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Invitation
from accounts.security_policy import security_policy_save
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def domains_only(owner):
    security_policy_save(actor=owner, settings={"allowed_email_domains": ["acme.test"]})


def test_the_invitation_form_refuses_an_address_outside_the_allowed_domains(
    client, alice, acme, domains_only
):
    client.force_login(alice)
    response = client.post(
        "/a/acme/invitations/new/", {"email": "erin@gmail.test", "role": "member", "region_access": "all"}
    )
    assert response.status_code == 400
    assert "invites only addresses at acme.test" in response.content.decode()
    assert not Invitation.objects.exists()
    client.post(
        "/a/acme/invitations/new/", {"email": "erin@acme.test", "role": "member", "region_access": "all"}
    )
    assert Invitation.objects.get().email == "erin@acme.test"


def test_the_api_answers_400_json_for_an_address_outside_the_allowed_domains(alice, acme, domains_only):
    api = APIClient()
    api.force_login(alice)
    response = api.post("/api/v1/accounts/acme/invitations/", {"email": "erin@gmail.test"}, format="json")
    assert response.status_code == 400
    assert "invites only addresses at acme.test" in str(response.json())
    assert not Invitation.objects.exists()


def test_a_password_change_follows_the_accounts_minimum_length(client, owner, bob):
    security_policy_save(actor=owner, settings={"password_min_length": 20})
    client.force_login(bob)
    too_short = "Tr0ub4dor-and-3"  # 15 characters: enough for the site, not for Acme
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": too_short, "password2": too_short},
    )
    assert response.status_code == 200
    assert "at least 20 characters" in response.content.decode()
    bob.refresh_from_db()
    assert bob.check_password(PASSWORD)
