"""Hostile review of issue 11 (rauth): ways past Atrium's MFA step that the login stage does not
see. Real PostgreSQL; codes from pyotp against the device's secret; a frozen clock."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from accounts import mfa
from accounts.tests.mfa_helpers import (
    RECOVERY_CODE,
    enrol,
    frozen_clock,
    password_step,
    signed_in_user_id,
    totp_code,
)
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with frozen_clock() as traveller:
        yield traveller


def _tokens(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


# --- Django admin's own login form ------------------------------------------------------------
def test_the_django_admin_login_form_cannot_sign_in_an_enrolled_staff_member_without_a_code(client, clock):
    staff = make_user("ops@atrium.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    enrol(client, staff)
    client.post(reverse("account_logout"))
    assert signed_in_user_id(client) is None

    response = client.post(
        reverse("admin:login"), {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
    )
    # Django's AdminSite.login calls auth.login() itself: no allauth stage, no MFA, no rate limit.
    assert signed_in_user_id(client) is None
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    # The admin's sign-in goes through allauth's login, so the MFA stage asks for the code.
    admin_login = client.get(reverse("admin:index"))["Location"]
    assert client.get(admin_login)["Location"].startswith(reverse("account_login"))
    assert password_step(client, staff)["Location"] == reverse("mfa:authenticate")


# --- a session that never passed MFA ----------------------------------------------------------
def _pre_enrolment_session(alice) -> Client:
    """A session signed in with the password before Alice turned MFA on (a stolen password
    used earlier, a forgotten laptop): it never proved a code."""
    other = Client()
    assert password_step(other, alice).status_code == 302
    assert signed_in_user_id(other) == str(alice.pk)
    return other


def test_a_session_that_never_passed_mfa_cannot_get_new_recovery_codes_with_the_password_alone(
    client, alice, clock
):
    other = _pre_enrolment_session(alice)
    device, old = enrol(client, alice)
    before = _tokens(alice)

    other.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = other.post(reverse("mfa:recovery_codes"))
    # Ten fresh recovery codes would let this session's holder past MFA at every later login.
    assert not RECOVERY_CODE.findall(response.content.decode())
    assert _tokens(alice) == before

    # the same session with a current code from the app may
    clock.shift(30)
    response = other.post(reverse("mfa:recovery_codes"), {"code": totp_code(device)})
    assert response.status_code == 200 and len(RECOVERY_CODE.findall(response.content.decode())) == 10


def test_a_session_that_never_passed_mfa_cannot_remove_it_with_the_password_alone(client, alice, clock):
    other = _pre_enrolment_session(alice)
    device, _ = enrol(client, alice)

    other.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = other.get(reverse("mfa:remove"))
    assert page.status_code == 200 and b'name="code"' in page.content  # it asks for a code
    other.post(reverse("mfa:remove"))
    assert mfa.mfa_enrolled(user=alice)

    clock.shift(30)
    response = other.post(reverse("mfa:remove"), {"code": totp_code(device)})
    assert response.status_code == 302 and not mfa.mfa_enrolled(user=alice)


def test_the_status_page_asks_a_session_that_never_passed_mfa_for_a_code_to_regenerate(client, alice, clock):
    other = _pre_enrolment_session(alice)
    enrol(client, alice)
    assert b'name="code"' in other.get(reverse("mfa:index")).content
    # the session that enrolled (verified) is asked for its password only
    assert b'name="code"' not in client.get(reverse("mfa:index")).content
