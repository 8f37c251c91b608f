"""Helpers of the MFA tests: a frozen clock (TOTP codes and django-otp's throttle both read
it), codes computed with pyotp from the device's secret, and the two login steps."""

import re
from base64 import b32encode
from datetime import UTC, datetime

import pyotp
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD

# 5 s into a 30-second TOTP step, so a shift of 30 s is always exactly the next step.
START = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC)
RECOVERY_CODE = re.compile(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>")


def frozen_clock():
    """Use as `with frozen_clock() as clock:` inside a fixture named `clock` of the test module."""
    return time_machine.travel(START, tick=False)


def totp_code(device: TOTPDevice) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).now()


def wrong_code(device: TOTPDevice) -> str:
    right = totp_code(device)
    # Any other six digits: not the current code nor one of the neighbouring steps'.
    totp = pyotp.TOTP(b32encode(device.bin_key).decode())
    near = {totp.at(datetime.now(UTC).timestamp() + delta) for delta in (-30, 0, 30)}
    candidate = int(right)
    while f"{candidate:06d}" in near:
        candidate = (candidate + 1) % 1_000_000
    return f"{candidate:06d}"


def enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    """Enrol `user` through the pages (signed in with force_login); returns the confirmed
    device and the recovery codes the page showed."""
    client.force_login(user)
    response = client.post(reverse("mfa:enrol"), {"start": "1"})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("mfa:enrol"), {"code": totp_code(device)})
    assert response.status_code == 200, response.content[:500]
    codes = RECOVERY_CODE.findall(response.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def password_step(client, user, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": user.email, "password": password})


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")
