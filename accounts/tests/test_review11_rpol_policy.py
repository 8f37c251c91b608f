"""Hostile review of the account security policy (issue 11, reviewer rpol).

- Someone who gains a membership in an MFA-required account (joins it, or is reactivated) must
  be held to its policy at their very next page and region sign-in, not a minute later: the
  cached copy of the person's policy in the session is read again when their memberships change.
- A page's background polling (htmx `hx-trigger="every 2s"`) is not activity: a tab left open
  on a syncing page must not keep the session alive past the idle timeout.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.security_policy import security_policy_save
from accounts.services import membership_add, membership_update
from accounts.tests.oidc_helpers import authorize, region_with_login_client
from conftest import pkce_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def eu(tmp_path):
    return region_with_login_client("eu", tmp_path, 8101, 9101)


def path_of(response) -> str:
    return urlparse(response["Location"]).path


def test_joining_an_mfa_required_account_sends_the_person_to_enrol_at_their_next_page(
    client, owner, acme, carol, globex
):
    security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 0})
    client.force_login(carol)
    assert client.get("/a/globex/").status_code == 200  # Globex asks for nothing
    membership_add(account=acme, user=carol, role=Membership.Role.MEMBER)
    response = client.get("/a/globex/")
    assert response.status_code == 302
    assert path_of(response) == reverse("mfa:index")


def test_joining_an_mfa_required_account_holds_the_next_region_sign_in_to_it(
    client, owner, acme, carol, globex, eu
):
    security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 0})
    client.force_login(carol)
    assert client.get("/a/globex/").status_code == 200
    membership_add(account=acme, user=carol, role=Membership.Role.MEMBER)
    _, challenge = pkce_pair()
    response = authorize(client, eu.oidc_client_id, eu.oidc_redirect_uri, challenge=challenge)
    assert response.status_code == 302
    assert path_of(response) == reverse("mfa:index")
    assert "code" not in parse_qs(urlparse(response["Location"]).query)


def test_a_reactivated_membership_imposes_its_policy_at_the_next_page(client, owner, acme, bob, bob_m):
    security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": 0})
    membership_update(membership=bob_m, status=Membership.Status.SUSPENDED)
    client.force_login(bob)
    assert client.get("/profile/").status_code == 200  # suspended: Acme's policy does not apply
    membership_update(membership=Membership.objects.get(pk=bob_m.pk), status=Membership.Status.ACTIVE)
    response = client.get("/profile/")
    assert response.status_code == 302 and path_of(response) == reverse("mfa:index")


POLL = {
    "HX-Request": "true",
    "HX-Trigger": "members-sync",
    "HX-Current-URL": "http://testserver/a/acme/members/",
}


def test_background_polling_does_not_keep_a_session_alive_past_the_idle_timeout(client, owner, bob_m):
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 30})
    client.force_login(owner.user)
    badges = reverse("accounts:members_badges", args=["acme"]) + f"?ids={bob_m.pk}&regions="
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert client.get("/a/acme/members/").status_code == 200
        for _ in range(8):  # 40 minutes of a tab polling by itself, nobody at the keyboard
            traveller.shift(timedelta(minutes=5))
            client.get(badges, headers=POLL)
        response = client.get("/a/acme/members/")
    assert response.status_code == 302 and path_of(response) == reverse("account_login")


def test_typing_into_a_live_search_is_activity(client, owner):
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 30})
    client.force_login(owner.user)
    typed = {"HX-Request": "true", "HX-Trigger": "q", "HX-Trigger-Name": "q"}
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(4):  # 80 minutes of typing, never 30 idle
            traveller.shift(timedelta(minutes=20))
            assert client.get("/a/acme/members/?q=b", headers=typed).status_code == 200
        assert client.get("/a/acme/members/").status_code == 200
