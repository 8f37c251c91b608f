"""Hostile review (issue 11, reviewer rpol): an account's password rules bind the people it
invites. A new identity created by accepting an invitation is not a member of anything yet
when its password is chosen, so the strictest-of-your-accounts rules (empty for them) let a
password through that the inviting account's policy refuses."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.invitations import invitation_accept
from accounts.models import User
from accounts.security_policy import security_policy_save
from accounts.tests.invitations_helpers import invite

pytestmark = pytest.mark.django_db

TEN_CHARS = "Qx7!mv2#Lp"  # passes Django's site-wide rules; shorter than the account asks


def test_accepting_an_invitation_refuses_a_password_shorter_than_the_accounts_rule(acme, owner):
    security_policy_save(actor=owner, settings={"password_min_length": 16})
    invitation = invite(acme, owner, "erin@example.com")
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=invitation.link_token, password=TEN_CHARS)
    assert "password" in caught.value.message_dict
    assert not User.objects.filter(email="erin@example.com").exists()


def test_the_invitation_page_shows_the_accounts_password_rule_as_a_form_error(client, acme, owner):
    security_policy_save(actor=owner, settings={"password_min_length": 16})
    invitation = invite(acme, owner, "erin@example.com")
    response = client.post(
        reverse("invite:accept", args=[invitation.link_token]),
        {"first_name": "Erin", "last_name": "E", "password": TEN_CHARS, "password_again": TEN_CHARS},
    )
    assert response.status_code == 400
    assert "at least 16 characters" in response.content.decode()
    assert not User.objects.filter(email="erin@example.com").exists()


def test_a_password_meeting_the_accounts_rule_is_accepted(acme, owner):
    security_policy_save(actor=owner, settings={"password_min_length": 16})
    invitation = invite(acme, owner, "erin@example.com")
    membership = invitation_accept(token=invitation.link_token, password=TEN_CHARS + "Zr4%Wk9&")
    assert membership.user.email == "erin@example.com"
