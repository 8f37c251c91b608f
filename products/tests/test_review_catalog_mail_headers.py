"""People choose their own names (the profile form) and company names (sign-up, settings); the
trial mails put them in the subject. A line break there must not turn a request into a server
error, nor stop the trials sweep's reminders for every account after it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import Membership
from accounts.services import account_rename
from products.trial_requests import trial_policy_set
from products.trials import trial_start, trials_sweep

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


# Transactional: the mail goes on commit, inside the request, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_member_whose_name_has_a_line_break_can_request_a_trial(
    client, bob, acme_everywhere, owner, posture, regions
):
    # given: Bob named himself with a line break, through the profile form
    trial_policy_set(actor=owner, policy="members_request")
    client.force_login(bob)
    named = client.post(
        reverse("profile:name"), {"first_name": "Bob\r\nBcc: all@evil.test", "last_name": "B"}
    )
    assert named.status_code == 302
    mail.outbox.clear()
    # when
    response = client.post(
        reverse("products:trial_request_create", args=["posture"]), {"account": "acme", "regions": ["eu"]}
    )
    # then
    assert response.status_code == 302
    (sent,) = mail.outbox
    assert "\n" not in sent.subject and "\r" not in sent.subject
    assert sent.to == ["alice@acme.test"]
    assert "Bcc" not in sent.extra_headers and sent.bcc == []


def test_an_account_named_with_a_line_break_does_not_stop_the_other_accounts_reminders(
    acme_everywhere, owner, globex_eu, carol, backup, regions
):
    # given: two trials ending in 7 days; Acme's name holds a line break (account_rename takes it)
    carol_m = Membership.objects.get(account=globex_eu, user=carol)
    with time_machine.travel(START, tick=False):
        trial_start(account=acme_everywhere, product=backup, regions=[regions["eu"]], actor=owner)
        trial_start(account=globex_eu, product=backup, regions=[regions["eu"]], actor=carol_m)
    account_rename(account=acme_everywhere, name="Acme\nCorp")
    mail.outbox.clear()
    # when
    with time_machine.travel(START + timedelta(days=23, minutes=1), tick=False):
        result = trials_sweep()
    # then: both reminded, each subject on one line
    assert result["reminded"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.test", "carol@globex.test"]
    assert all("\n" not in m.subject for m in mail.outbox)
