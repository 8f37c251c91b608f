"""/a/<slug>/security/: owners and admins preview who new settings would lock out, then confirm;
the page shows each region's acknowledged version against the desired one. Members get 403,
another account's admin 404; bad input is a form error (400), never a save."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ClaimedDomain, Membership, SecurityPolicy
from accounts.security_policy import security_policy_save
from accounts.services import account_region_add, membership_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db

URL = "/a/acme/security/"
FORM = {
    "mfa_grace_days": "0", "password_min_length": "8", "session_lifetime_minutes": "",
    "idle_timeout_minutes": "", "allowed_email_domains": "",
}  # fmt: skip


def post(client, step: str = "preview", **fields):
    return client.post(URL, {**FORM, "step": step, **fields})


def enrolled(user) -> None:
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def locked_out(response, reason: str) -> list[str]:
    import re

    return re.findall(rf'data-locked-out="{reason}" data-email="([^"]+)"', response.content.decode())


def test_the_owner_sees_the_defaults_and_the_form(client, alice, acme):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    assert b'data-testid="policy-version">0<' in response.content
    assert b'name="mfa_required"' in response.content and b'data-action="preview"' in response.content


def test_an_admin_may_open_it_a_member_gets_403_and_another_accounts_owner_404(
    client, acme, bob, carol, globex
):
    client.force_login(bob)
    assert client.get(URL).status_code == 403
    assert post(client, mfa_required="on", step="confirm").status_code == 403
    Membership.objects.filter(account=acme, user=bob).update(role=Membership.Role.ADMIN)
    assert client.get(URL).status_code == 200
    client.force_login(carol)
    assert client.get(URL).status_code == 404
    assert post(client, mfa_required="on", step="confirm").status_code == 404
    assert client.get("/a/globex/security/").status_code == 200
    assert not SecurityPolicy.objects.filter(account=acme).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_preview_lists_exactly_the_active_members_without_mfa_and_saves_nothing(client, alice, bob, acme):
    enrolled(alice)
    dave, erin = make_user("dave@acme.test"), make_user("erin@acme.test")
    membership_add(account=acme, user=dave, role=Membership.Role.MEMBER)
    membership_add(account=acme, user=erin, role=Membership.Role.MEMBER)
    Membership.objects.filter(user=erin).update(status=Membership.Status.SUSPENDED)
    TOTPDevice.objects.create(user=dave, name="unconfirmed", confirmed=False)
    client.force_login(alice)

    response = post(client, mfa_required="on", mfa_grace_days="14")

    assert response.status_code == 200
    assert locked_out(response, "mfa") == ["bob@acme.test", "dave@acme.test"]
    grace_end = (timezone.now() + timezone.timedelta(days=14)).strftime("%Y-%m-%d")
    assert f"grace ends <time>{grace_end}</time>".encode() in response.content
    assert b'data-action="confirm"' in response.content
    assert not SecurityPolicy.objects.exists()


def test_the_preview_costs_the_same_queries_for_3_or_30_members(
    client, alice, acme, django_assert_num_queries
):
    client.force_login(alice)
    post(client, mfa_required="on")  # warm the session
    for i in range(2):
        membership_add(account=acme, user=make_user(f"p{i}@acme.test"), role=Membership.Role.MEMBER)
    with CaptureQueriesContext(connection) as few:
        assert len(locked_out(post(client, mfa_required="on", sso_only="on"), "mfa")) == 4
    for i in range(2, 29):
        membership_add(account=acme, user=make_user(f"p{i}@acme.test"), role=Membership.Role.MEMBER)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(locked_out(post(client, mfa_required="on", sso_only="on"), "mfa")) == 31


def test_the_sso_only_preview_lists_members_outside_the_verified_domains(client, alice, acme):
    membership_add(account=acme, user=make_user("frank@gmail.test"), role=Membership.Role.MEMBER)
    ClaimedDomain.objects.create(
        account=acme,
        domain="acme.test",
        verification_token="t",
        status="verified",
        verified_at=timezone.now(),
    )
    client.force_login(alice)
    response = post(client, sso_only="on")
    assert locked_out(response, "sso") == ["frank@gmail.test"]
    assert locked_out(response, "mfa") == []


def test_confirming_saves_a_version_and_the_page_shows_each_regions_acknowledged_version(client, alice, acme):
    eu, us = make_region("eu", 8101, 9101), make_region("us", 8102, 9102)
    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)
    client.force_login(alice)

    response = post(client, step="confirm", idle_timeout_minutes="30")

    assert response.status_code == 302 and response.url == URL
    assert SecurityPolicy.objects.get(account=acme).version == 1
    # given EU acknowledged version 1 (what the worker records) and US has not yet
    row = ProvisioningRecord.objects.get(kind="policy", tenant="acme", region=eu)
    ProvisioningRecord.objects.filter(pk=row.pk).update(acked=row.desired, acked_version=1, state="synced")
    page = client.get(URL).content.decode()
    assert 'data-testid="policy-version">1<' in page
    assert 'data-testid="acked-eu">v1<' in page and 'data-testid="desired-eu">v1<' in page
    assert 'data-testid="acked-us">—<' in page and 'data-testid="desired-us">v1<' in page
    assert 'data-version="1"' in page


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"mfa_grace_days": "-1"}, "greater than or equal to 0"),
        ({"mfa_grace_days": "lots"}, "Enter a whole number"),
        ({"idle_timeout_minutes": "2"}, "greater than or equal to 5"),
        ({"session_lifetime_minutes": "999999999"}, "less than or equal to"),
        ({"password_min_length": "4"}, "greater than or equal to 8"),
        ({"allowed_email_domains": "acme.test, not a domain!"}, "is not an email domain"),
    ],
)
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_bad_input_is_a_form_error_and_saves_nothing(client, alice, acme, fields, error, step):
    client.force_login(alice)
    response = post(client, step=step, **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not SecurityPolicy.objects.exists()


def test_the_account_settings_page_links_to_the_policy_for_admins_only(client, alice, bob, acme):
    client.force_login(alice)
    assert b'href="/a/acme/security/"' in client.get("/a/acme/settings/").content
    Membership.objects.filter(account=acme, user=bob).update(role=Membership.Role.READ_ONLY)
    client.force_login(bob)
    assert b'href="/a/acme/security/"' not in client.get("/a/acme/settings/").content


def test_the_page_costs_the_same_queries_for_one_region_and_version_or_many(client, alice, acme, owner):
    account_region_add(account=acme, region=make_region("eu", 8101, 9101))
    security_policy_save(actor=owner, settings={"idle_timeout_minutes": 30})
    client.force_login(alice)
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for n, code in enumerate(("us", "au", "jp")):
        account_region_add(account=acme, region=make_region(code, 8110 + n, 9110 + n))
    for minutes in (40, 50, 60):
        security_policy_save(actor=owner, settings={"idle_timeout_minutes": minutes})
    client.get(URL)  # the saves renewed the session's policy read
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL).content.decode()
    assert page.count("<tr data-region=") == 4 and page.count("data-version=") == 4
    assert len(many.captured_queries) == len(few.captured_queries)
