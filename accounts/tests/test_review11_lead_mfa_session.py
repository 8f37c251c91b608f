"""Under an MFA-required policy, a session that never passed MFA does not stay open on the
password alone, even when its person has enrolled since (rauth's open finding D6)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.security_policy import effective_policy, security_policy_save
from accounts.tests.mfa_helpers import enrol, frozen_clock, password_step

pytestmark = pytest.mark.django_db


def test_an_mfa_required_policy_sends_a_session_that_never_passed_mfa_to_step_up(client, owner, bob):
    with frozen_clock():
        security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 7})
        stale = Client()
        assert password_step(stale, bob).status_code == 302  # in the grace, without MFA
        enrol(client, bob)  # bob enrols in another browser
        security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 0})
        assert effective_policy(user=bob).mfa_required  # the grace is over
        response = stale.get("/a/acme/members/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa:verify"))
