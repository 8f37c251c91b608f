"""The strictest policy of a person's accounts, enforced by accounts/middleware_security.py: after
the grace, someone who must have MFA and has none is sent to enrol on every portal page and at
the authorize step (a region's sign-in), an enrolled person whose session has not passed MFA is
sent to step up first, `prompt=none` gets `interaction_required` at the client; the session
lifetime and idle timeout end the portal session (time-machine)."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from accounts.security_policy import security_policy_save
from accounts.services import membership_add
from accounts.tests.oidc_helpers import authorize, query_of, region_with_login_client
from conftest import pkce_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def eu(tmp_path):
    return region_with_login_client("eu", tmp_path, 8101, 9101)


def require_mfa(owner, grace_days: int = 0) -> None:
    security_policy_save(actor=owner, settings={"mfa_required": True, "mfa_grace_days": grace_days})


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in_to_region(client, region, **extra):
    _, challenge = pkce_pair()
    return authorize(client, region.oidc_client_id, region.oidc_redirect_uri, challenge=challenge, **extra)


def location_path_and_next(response) -> tuple[str, str]:
    parsed = urlparse(response["Location"])
    return parsed.path, parse_qs(parsed.query).get("next", [""])[0]


def test_after_the_grace_a_member_without_mfa_is_sent_to_enrol_on_every_page(client, owner, bob):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        require_mfa(owner, grace_days=3)
        client.force_login(bob)
        assert client.get("/a/acme/").status_code == 200  # in the grace
        traveller.shift(timedelta(days=3, seconds=1))
        client.force_login(bob)  # a fresh sign-in: the site's session age is shorter than days
        response = client.get("/a/acme/members/?page=1")
    assert response.status_code == 302
    assert location_path_and_next(response) == (reverse("mfa:index"), "/a/acme/members/?page=1")
    # the MFA pages themselves stay open, so enrolment is possible
    with time_machine.travel(start + timedelta(days=3, seconds=2), tick=False):
        assert client.get(reverse("mfa:index")).status_code == 200


def test_an_enrolled_member_and_people_of_other_accounts_are_not_redirected(
    client, owner, bob, carol, globex
):
    require_mfa(owner)
    device = enrolled(bob)
    client.force_login(bob)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # this session passed MFA (django-otp)
    session.save()
    assert client.get("/a/acme/").status_code == 200
    client.force_login(carol)
    assert client.get("/a/globex/").status_code == 200


def test_a_suspended_membership_does_not_impose_its_accounts_policy(client, owner, bob, acme):
    require_mfa(owner)
    Membership.objects.filter(account=acme, user=bob).update(status=Membership.Status.SUSPENDED)
    client.force_login(bob)
    assert client.get("/profile/").status_code == 200


def test_a_region_sign_in_by_someone_who_must_have_mfa_is_sent_to_enrol_first(client, owner, bob, eu):
    require_mfa(owner)
    client.force_login(bob)
    response = sign_in_to_region(client, eu)
    assert response.status_code == 302
    path, next_url = location_path_and_next(response)
    assert path == reverse("mfa:index")
    assert next_url.startswith("/identity/o/authorize?") and f"client_id={eu.oidc_client_id}" in next_url


def test_during_the_grace_the_region_sign_in_goes_through(client, owner, bob, eu):
    require_mfa(owner, grace_days=7)
    client.force_login(bob)
    response = sign_in_to_region(client, eu)
    assert response.status_code == 302 and "code" in query_of(response)


def test_an_enrolled_person_whose_session_has_not_passed_mfa_steps_up_before_the_region(
    client, owner, bob, eu
):
    require_mfa(owner)
    device = enrolled(bob)
    client.force_login(bob)
    response = sign_in_to_region(client, eu)
    path, next_url = location_path_and_next(response)
    assert path == reverse("mfa:verify") and next_url.startswith("/identity/o/authorize?")

    # once the session is verified (what mfa:verify does), the code is issued
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    response = sign_in_to_region(client, eu)
    assert response.status_code == 302 and "code" in query_of(response)


def test_a_federated_session_whose_idp_mfa_is_trusted_reaches_the_region(client, owner, bob, eu):
    require_mfa(owner)
    client.force_login(bob)
    session = client.session
    session["atrium_federated"] = {"account": "acme", "mfa": True}
    session.save()
    response = sign_in_to_region(client, eu)
    assert "code" in query_of(response)


def test_prompt_none_gets_interaction_required_at_the_registered_redirect_uri(client, owner, bob, eu):
    require_mfa(owner)
    client.force_login(bob)
    response = sign_in_to_region(client, eu, prompt="none")
    assert response.status_code == 302
    assert response["Location"].startswith(eu.oidc_redirect_uri)
    query = query_of(response)
    assert query["error"] == "interaction_required" and query["state"] == "state-1" and "code" not in query


def test_prompt_none_with_an_unregistered_redirect_uri_gets_no_redirect_there(client, owner, bob, eu):
    require_mfa(owner)
    client.force_login(bob)
    _, challenge = pkce_pair()
    response = authorize(
        client, eu.oidc_client_id, "https://evil.test/cb", challenge=challenge, prompt="none"
    )
    assert not response.get("Location", "").startswith("https://evil.test")


def test_the_session_lifetime_ends_the_portal_session(client, owner, bob):
    security_policy_save(actor=owner, settings={"session_lifetime_minutes": 60})
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(bob)
        traveller.shift(timedelta(minutes=59))
        assert client.get("/a/acme/").status_code == 200
        traveller.shift(timedelta(minutes=2))
        response = client.get("/a/acme/")
        assert response.status_code == 302
        assert location_path_and_next(response) == (reverse("account_login"), "/a/acme/")
        assert "_auth_user_id" not in client.session
        assert client.get("/a/acme/").status_code == 302  # signed out for good


def test_activity_keeps_the_session_until_the_idle_timeout_passes(client, owner, bob):
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 30})
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(bob)
        for _ in range(4):  # 100 minutes in all, never 30 idle
            traveller.shift(timedelta(minutes=25))
            assert client.get("/a/acme/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/a/acme/")
    assert response.status_code == 302 and location_path_and_next(response)[0] == reverse("account_login")


def test_the_strictest_lifetime_of_the_persons_accounts_applies(client, owner, bob, globex, carol):
    membership_add(account=globex, user=bob, role=Membership.Role.MEMBER)
    security_policy_save(actor=owner, settings={"session_lifetime_minutes": 600})
    globex_owner = Membership.objects.get(account=globex, user=carol)
    security_policy_save(actor=globex_owner, settings={"session_lifetime_minutes": 30})
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(bob)
        traveller.shift(timedelta(minutes=31))
        assert client.get("/a/acme/").status_code == 302


def test_a_policy_saved_while_a_member_is_signed_in_applies_at_their_next_page(client, owner, bob):
    client.force_login(bob)
    assert client.get("/a/acme/").status_code == 200
    require_mfa(owner)
    response = client.get("/a/acme/")
    assert response.status_code == 302 and location_path_and_next(response)[0] == reverse("mfa:index")


def test_enforcement_costs_no_query_per_page_once_signed_in(client, owner, bob, django_assert_num_queries):
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 30})
    client.force_login(bob)
    with CaptureQueriesContext(connection) as first:
        client.get("/profile/")
    with django_assert_num_queries(len(first.captured_queries)):
        client.get("/profile/")
    assert not any("accounts_securitypolicy" in q["sql"] for q in first.captured_queries)
