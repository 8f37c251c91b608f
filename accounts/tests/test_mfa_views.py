"""A person's own MFA through the pages: enrolment (QR code + secret as text), the MFA step of
allauth's login, replay and throttling, recovery codes, removal after re-authentication, and
step-up (`mfa:verify`). Real PostgreSQL; codes computed with pyotp from the device's secret;
time frozen with time-machine (TOTP steps and django-otp's throttle both read the clock)."""

from base64 import b32encode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.adapters import AccountAdapter
from accounts.models import AuditEvent
from accounts.tests.mfa_helpers import (
    RECOVERY_CODE,
    START,
    enrol,
    frozen_clock,
    password_step,
    signed_in_user_id,
    totp_code,
    wrong_code,
)
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with frozen_clock() as traveller:
        yield traveller


def _actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user, action__startswith="mfa.").values_list("action", flat=True)
    )


# --- contract -------------------------------------------------------------------------------
def test_mfa_is_the_last_login_stage():
    assert AccountAdapter().get_login_stages()[-1] == "accounts.mfa.MFAStage"


def test_mfa_enrolled_is_true_only_for_a_confirmed_device(client, alice, clock):
    assert mfa.mfa_enrolled(user=alice) is False
    mfa.totp_enrolment_start(user=alice)
    assert mfa.mfa_enrolled(user=alice) is False  # begun, not confirmed
    enrol(client, alice)
    assert mfa.mfa_enrolled(user=alice) is True


# --- enrolment ------------------------------------------------------------------------------
def test_the_index_offers_set_up_to_a_person_without_mfa(client, alice):
    client.force_login(alice)
    response = client.get(reverse("mfa:index"))
    assert response.status_code == 200
    assert b'data-mfa="off"' in response.content and b'data-action="enrol"' in response.content


def test_enrolment_shows_a_qr_code_and_the_same_secret_as_text(client, alice, clock):
    client.force_login(alice)
    client.post(reverse("mfa:enrol"), {"start": "1"})
    device = TOTPDevice.objects.get(user=alice)
    response = client.get(reverse("mfa:enrol"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="segno"' in html  # inline, no image request, no CDN
    secret = b32encode(device.bin_key).decode()
    shown = html.split('data-testid="secret">')[1].split("<")[0]
    assert shown.replace(" ", "") == secret and " " in shown  # grouped for typing
    assert mfa.totp_uri(device=device).startswith(
        "otpauth://totp/Atrium%3Aalice%40acme.test?secret=" + secret
    )


def test_a_wrong_code_does_not_confirm_the_device(client, alice, clock):
    client.force_login(alice)
    client.post(reverse("mfa:enrol"), {"start": "1"})
    device = TOTPDevice.objects.get(user=alice)
    response = client.post(reverse("mfa:enrol"), {"code": wrong_code(device)})
    assert response.status_code == 400
    assert b"does not match" in response.content
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=alice).exists()


def test_confirming_turns_mfa_on_shows_ten_recovery_codes_once_and_verifies_the_session(client, alice, clock):
    device, codes = enrol(client, alice)
    assert len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert stored == {code.replace("-", "") for code in codes}
    assert _actions(alice) == ["mfa.enrolled"]
    event = AuditEvent.objects.get(action="mfa.enrolled")
    assert event.account is None and event.target_id == str(alice.public_id)
    # the person just proved a code: this session passed MFA
    assert client.session["otp_device_id"] == device.persistent_id
    assert isinstance(client.session[mfa.SESSION_MFA_AT], int)
    # shown once: the status page counts them but never shows them again
    page = client.get(reverse("mfa:index")).content.decode()
    assert "10 recovery codes left" in page and codes[0] not in page


def test_the_recovery_codes_page_continues_to_a_local_next_only(client, alice, clock):
    client.force_login(alice)
    client.post(reverse("mfa:enrol"), {"start": "1", "next": "/identity/o/authorize?client_id=x"})
    device = TOTPDevice.objects.get(user=alice)
    response = client.post(
        reverse("mfa:enrol"), {"code": totp_code(device), "next": "/identity/o/authorize?client_id=x"}
    )
    assert b'href="/identity/o/authorize?client_id=x"' in response.content
    mfa.mfa_remove(user=alice)
    client.post(reverse("mfa:enrol"), {"start": "1"})
    clock.shift(30)
    device = TOTPDevice.objects.get(user=alice)
    response = client.post(reverse("mfa:enrol"), {"code": totp_code(device), "next": "https://evil.example/"})
    assert b"evil.example" not in response.content


def test_starting_again_gives_a_fresh_secret_and_an_enrolled_person_cannot_start(client, alice, clock):
    client.force_login(alice)
    client.post(reverse("mfa:enrol"), {"start": "1"})
    first = TOTPDevice.objects.get(user=alice).key
    client.post(reverse("mfa:enrol"), {"start": "1"})
    assert TOTPDevice.objects.get(user=alice).key != first
    clock.shift(30)
    enrol(client, alice)
    response = client.post(reverse("mfa:enrol"), {"start": "1"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_mfa_pages_need_a_signed_in_person(client):
    for name in ("mfa:index", "mfa:enrol", "mfa:verify", "mfa:remove"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- the login stage ------------------------------------------------------------------------
def test_enrol_log_out_and_the_login_then_needs_the_code(client, alice, clock):
    device, _ = enrol(client, alice)
    client.post(reverse("account_logout"))
    clock.shift(30)

    response = password_step(client, alice)
    assert response.status_code == 302 and response["Location"] == reverse("mfa:authenticate")
    assert signed_in_user_id(client) is None  # the password alone signs nobody in
    assert client.get(reverse("profile:index")).status_code == 302

    page = client.get(reverse("mfa:authenticate"))
    assert page.status_code == 200 and b"alice@acme.test" in page.content
    response = client.post(reverse("mfa:authenticate"), {"code": totp_code(device)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.session[mfa.SESSION_MFA_AT] == int(START.timestamp()) + 30
    assert client.get(reverse("profile:index")).status_code == 200


def test_a_person_without_mfa_logs_in_with_the_password_alone(client, alice):
    response = password_step(client, alice)
    assert response.status_code == 302 and response["Location"] != reverse("mfa:authenticate")
    assert signed_in_user_id(client) == str(alice.pk)


def test_a_wrong_code_at_login_is_refused_and_audited(client, alice, clock):
    device, _ = enrol(client, alice)
    client.post(reverse("account_logout"))
    clock.shift(30)
    password_step(client, alice)
    response = client.post(reverse("mfa:authenticate"), {"code": wrong_code(device)})
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert signed_in_user_id(client) is None
    failed = AuditEvent.objects.get(action="mfa.failed")
    assert (
        failed.actor == alice
        and failed.after["purpose"] == "login"
        and failed.after["reason"] == "wrong_code"
    )


def test_cancelling_the_code_step_forgets_the_pending_login(client, alice, clock):
    enrol(client, alice)
    client.post(reverse("account_logout"))
    password_step(client, alice)
    response = client.post(reverse("mfa:authenticate"), {"cancel": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert client.get(reverse("mfa:authenticate"))["Location"] == reverse("account_login")
    assert signed_in_user_id(client) is None


def test_a_member_reset_between_password_and_code_signs_in_without_a_code(client, alice, clock):
    enrol(client, alice)
    client.post(reverse("account_logout"))
    password_step(client, alice)
    mfa.mfa_remove(user=alice)
    response = client.get(reverse("mfa:authenticate"))
    assert response.status_code == 302 and signed_in_user_id(client) == str(alice.pk)


def test_the_code_step_without_a_pending_login_goes_back_to_the_login_page(client):
    response = client.get(reverse("mfa:authenticate"))
    assert response.status_code == 302 and response["Location"] == reverse("account_login")


def test_a_code_used_at_login_cannot_be_used_again_in_the_same_window(client, alice, clock):
    device, _ = enrol(client, alice)
    client.post(reverse("account_logout"))
    clock.shift(30)
    code = totp_code(device)
    password_step(client, alice)
    assert client.post(reverse("mfa:authenticate"), {"code": code}).status_code == 302

    # another browser (and, for the database, any other process): the device row is the truth
    other = Client()
    clock.shift(5)  # same 30-second step, and past the one-second throttle of nothing
    assert totp_code(device) == code
    password_step(other, alice)
    response = other.post(reverse("mfa:authenticate"), {"code": code})
    assert response.status_code == 400 and b"already used" in response.content
    assert signed_in_user_id(other) is None

    clock.shift(30)
    fresh = totp_code(device)
    assert fresh != code
    assert other.post(reverse("mfa:authenticate"), {"code": fresh}).status_code == 302


def test_the_enrolment_code_itself_cannot_be_replayed_at_login(client, alice, clock):
    device, _ = enrol(client, alice)
    code = totp_code(device)
    client.post(reverse("account_logout"))
    password_step(client, alice)
    assert client.post(reverse("mfa:authenticate"), {"code": code}).status_code == 400


def test_after_failures_even_the_right_code_is_refused_until_the_throttle_ends(client, alice, clock):
    device, _ = enrol(client, alice)
    client.post(reverse("account_logout"))
    clock.shift(30)
    password_step(client, alice)
    # three failures, each after the previous one's delay (1 s, then 2 s): the device now
    # refuses every code for 4 s
    for wait in (0, 1.5, 2.5):
        clock.shift(wait)
        response = client.post(reverse("mfa:authenticate"), {"code": wrong_code(device)})
        assert response.status_code == 400 and b"not valid" in response.content
    device.refresh_from_db()
    assert device.throttling_failure_count == 3

    response = client.post(reverse("mfa:authenticate"), {"code": totp_code(device)})
    assert response.status_code == 400
    assert b"Too many wrong codes. Try again in 4 seconds." in response.content
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(action="mfa.failed", after__reason="throttled").count() == 1

    clock.shift(4.5)
    response = client.post(reverse("mfa:authenticate"), {"code": totp_code(device)})
    assert response.status_code == 302 and signed_in_user_id(client) == str(alice.pk)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


# --- recovery codes -------------------------------------------------------------------------
def test_a_recovery_code_signs_in_once(client, alice, clock):
    _, codes = enrol(client, alice)
    client.post(reverse("account_logout"))
    password_step(client, alice)
    response = client.post(reverse("mfa:authenticate"), {"code": codes[3].upper()})  # as typed from paper
    assert response.status_code == 302 and signed_in_user_id(client) == str(alice.pk)
    assert StaticToken.objects.filter(device__user=alice).count() == 9

    client.post(reverse("account_logout"))
    clock.shift(2)
    password_step(client, alice)
    response = client.post(reverse("mfa:authenticate"), {"code": codes[3]})
    assert response.status_code == 400 and b"already used" in response.content
    assert signed_in_user_id(client) is None


def test_regenerating_needs_reauthentication_and_invalidates_the_old_codes(client, alice, clock):
    _, old = enrol(client, alice)
    response = client.post(reverse("mfa:recovery_codes"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == {
        c.replace("-", "") for c in old
    }

    # allauth's re-authentication replays the suspended POST once the password is right
    response = client.post(response["Location"], {"password": PASSWORD}, follow=False)
    assert response.status_code == 200
    new = RECOVERY_CODE.findall(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert "mfa.recovery_codes_regenerated" in _actions(alice)

    client.post(reverse("account_logout"))
    clock.shift(2)
    password_step(client, alice)
    assert client.post(reverse("mfa:authenticate"), {"code": old[0]}).status_code == 400
    clock.shift(2)
    assert client.post(reverse("mfa:authenticate"), {"code": new[0]}).status_code == 302


def test_a_person_without_a_password_regenerates_with_a_current_code(client, alice, clock):
    device, old = enrol(client, alice)
    alice.set_unusable_password()
    alice.save()
    client.force_login(alice)
    clock.shift(30)
    page = client.get(reverse("mfa:index"))
    assert b'name="code"' in page.content
    response = client.post(reverse("mfa:recovery_codes"), {"code": ""})
    assert response.status_code == 302 and response["Location"] == reverse("mfa:index")
    response = client.post(reverse("mfa:recovery_codes"), {"code": wrong_code(device)})
    assert response.status_code == 302
    assert set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == {
        c.replace("-", "") for c in old
    }
    clock.shift(2)
    response = client.post(reverse("mfa:recovery_codes"), {"code": totp_code(device)})
    assert response.status_code == 200
    new = RECOVERY_CODE.findall(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)


# --- removal --------------------------------------------------------------------------------
def test_removing_needs_reauthentication_then_removes_the_app_and_the_recovery_codes(client, alice, clock):
    enrol(client, alice)
    assert client.get(reverse("mfa:remove")).status_code == 200  # the confirmation page

    response = client.post(reverse("mfa:remove"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert mfa.mfa_enrolled(user=alice)

    assert client.get(response["Location"]).status_code == 200  # allauth's password page
    wrong = client.post(response["Location"], {"password": "not-the-password"})
    assert wrong.status_code == 200 and mfa.mfa_enrolled(user=alice)

    done = client.post(response["Location"], {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("mfa:index")
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert "mfa.removed" in _actions(alice)

    client.post(reverse("account_logout"))
    response = password_step(client, alice)
    assert response["Location"] != reverse("mfa:authenticate") and signed_in_user_id(client) == str(alice.pk)


def test_a_recent_reauthentication_lets_the_removal_through_at_once(client, alice, clock):
    enrol(client, alice)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa:remove"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa:index")
    assert not mfa.mfa_enrolled(user=alice)


def test_a_person_without_a_password_removes_with_a_current_code(client, alice, clock):
    device, _ = enrol(client, alice)
    alice.set_unusable_password()
    alice.save()
    client.force_login(alice)
    clock.shift(30)
    response = client.post(reverse("mfa:remove"), {"code": wrong_code(device)})
    assert response.status_code == 400 and mfa.mfa_enrolled(user=alice)
    clock.shift(2)
    response = client.post(reverse("mfa:remove"), {"code": totp_code(device)})
    assert response.status_code == 302 and not mfa.mfa_enrolled(user=alice)


# --- step-up --------------------------------------------------------------------------------
def test_step_up_verifies_the_session_and_goes_on_to_the_local_next(client, alice, clock):
    device, _ = enrol(client, alice)
    client.force_login(alice)  # a fresh session, not verified
    session = client.session
    session.pop("otp_device_id", None)
    session.pop(mfa.SESSION_MFA_AT, None)
    session.save()
    clock.shift(30)
    next_url = "/identity/o/authorize?client_id=region-eu&scope=openid"
    page = client.get(reverse("mfa:verify"), {"next": next_url})
    assert page.status_code == 200 and b'name="next"' in page.content

    response = client.post(reverse("mfa:verify"), {"code": totp_code(device), "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    assert client.session["otp_device_id"] == device.persistent_id
    assert isinstance(client.session[mfa.SESSION_MFA_AT], int)


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http://testserver.evil/",
        "javascript:alert(1)",
    ],
)
def test_step_up_never_redirects_outside_the_site(client, alice, clock, next_url):
    device, _ = enrol(client, alice)
    clock.shift(30)
    response = client.post(reverse("mfa:verify"), {"code": totp_code(device), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    page = client.get(reverse("mfa:verify"), {"next": next_url})
    assert b"evil" not in page.content and b"javascript" not in page.content


def test_step_up_with_a_wrong_code_is_refused_and_audited(client, alice, clock):
    device, _ = enrol(client, alice)
    clock.shift(30)
    response = client.post(reverse("mfa:verify"), {"code": wrong_code(device), "next": "/profile/"})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="mfa.failed", after__purpose="step_up").count() == 1


def test_step_up_accepts_a_recovery_code(client, alice, clock):
    _, codes = enrol(client, alice)
    response = client.post(reverse("mfa:verify"), {"code": codes[0], "next": "/profile/"})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert StaticToken.objects.filter(device__user=alice).count() == 9


def test_step_up_for_a_person_without_mfa_sends_them_to_enrol_and_back(client, alice):
    client.force_login(alice)
    response = client.get(reverse("mfa:verify"), {"next": "/profile/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/?next=%2Fprofile%2F"


# --- hostile input --------------------------------------------------------------------------
BAD_CODES = [
    "",
    "   ",
    "x" * 100_000,
    "12\x0034",
    "abcdef",
    "12345",
    "1234567",
    "１２３４５６",
    "<script>",
    "0" * 33,
]


@pytest.mark.parametrize("code", BAD_CODES, ids=lambda c: repr(c[:12]))
def test_bad_codes_are_form_errors_never_500(client, alice, clock, code):
    device, _ = enrol(client, alice)
    clock.shift(30)
    assert client.post(reverse("mfa:verify"), {"code": code}).status_code == 400
    client.post(reverse("account_logout"))
    password_step(client, alice)
    assert client.post(reverse("mfa:authenticate"), {"code": code}).status_code == 400
    assert signed_in_user_id(client) is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # a malformed code guesses nothing


@pytest.mark.parametrize("code", BAD_CODES, ids=lambda c: repr(c[:12]))
def test_bad_codes_do_not_confirm_an_enrolment(client, alice, clock, code):
    client.force_login(alice)
    client.post(reverse("mfa:enrol"), {"start": "1"})
    assert client.post(reverse("mfa:enrol"), {"code": code}).status_code == 400
    assert not mfa.mfa_enrolled(user=alice)
