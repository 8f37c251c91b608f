"""The mail server is down (nothing listens on the SMTP port): a trial request, an approval and
a decline are committed before their mail goes, so the person must see their success, not a
server error that invites a retry ("already waiting", "already approved")."""

import pytest
from django.urls import reverse

from products.models import Entitlement, TrialRequest
from products.trial_requests import trial_policy_set, trial_request_create

pytestmark = pytest.mark.django_db(transaction=True)  # the mail goes on commit, in the request


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2


@pytest.fixture
def requesting(acme_everywhere, owner):
    trial_policy_set(actor=owner, policy="members_request")
    return acme_everywhere


def test_a_request_made_while_mail_is_down_is_saved_and_confirmed(
    client, bob, requesting, posture, smtp_down
):
    client.force_login(bob)
    response = client.post(
        reverse("products:trial_request_create", args=["posture"]), {"account": "acme", "regions": ["eu"]}
    )
    assert response.status_code == 302
    assert TrialRequest.objects.filter(status="pending").count() == 1


@pytest.mark.parametrize("what", ["approve", "decline"])
def test_a_decision_made_while_mail_is_down_is_saved_and_confirmed(
    client, alice, requesting, bob_m, posture, regions, settings, what
):
    pending = trial_request_create(actor=bob_m, product=posture, regions=[regions["eu"]])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    client.force_login(alice)
    url = reverse(f"products:trial_request_{what}", args=[pending.pk])
    response = client.post(url, {"account": "acme", "reason": "not now"})
    assert response.status_code == 302
    assert (
        TrialRequest.objects.get(pk=pending.pk).status == {"approve": "approved", "decline": "declined"}[what]
    )
    assert Entitlement.objects.filter(product=posture).exists() == (what == "approve")
