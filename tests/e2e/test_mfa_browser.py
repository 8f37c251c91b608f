"""MFA in a real browser (Playwright + Debian's Chromium) against the portal's live server:
alice turns on two-factor authentication from her profile (scanning is replaced by reading the
key the page shows as text), signs out, and her next sign-in stops at the code step until she
enters a code from the app (computed with pyotp from that key), then lands on her account.
The QR code is an inline SVG under the portal's Content-Security-Policy: no violation."""

import time

import pyotp
import pytest

from accounts import mfa
from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery-2026"


def _next_step_code(secret: str) -> str:
    # The code of the next 30-second step (within the device's tolerance of one step): the
    # step the enrolment used can never be used again, and the test never waits for a new one.
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_sign_out_and_the_next_sign_in_needs_the_code(page, live_server, transactional_db, alice, acme):
    portal = live_server.url
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )

    # alice signs in with her password (no MFA yet) and opens two-factor authentication
    browser_sign_in(page, portal, "alice@acme.test", PASSWORD)
    page.goto(f"{portal}/profile/")
    page.click("a[data-action=mfa]")
    page.wait_for_url(f"{portal}/accounts/mfa/")
    page.click("button[data-action=enrol]")
    page.wait_for_url(f"{portal}/accounts/mfa/enrol/")

    # the QR code is drawn, and the same key is there as text, grouped for typing
    box = page.locator("[data-testid=qr] svg").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    assert len(secret) == 32

    # the app's current code turns MFA on and the recovery codes are shown, once
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[data-action=confirm]")
    codes = page.locator("[data-testid=recovery-codes] li")
    codes.first.wait_for()
    assert codes.count() == 10
    assert mfa.mfa_enrolled(user=alice)

    # sign out; the password alone no longer signs her in
    page.click("nav form[action='/accounts/logout/'] button")
    page.wait_for_url(f"{portal}/accounts/login/")
    page.fill("input[name=login]", "alice@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{portal}/accounts/mfa/authenticate/")
    # her profile is out of reach: the sign-in (with its pending login) sends her to the code step
    page.goto(f"{portal}/profile/")
    assert page.url == f"{portal}/accounts/mfa/authenticate/"

    # the app's code signs her in
    assert "alice@acme.test" in page.locator("#mfa-authenticate").inner_text()
    page.fill("input[name=code]", _next_step_code(secret))
    page.click("button[data-action=verify]")
    page.wait_for_url(f"{portal}/a/acme/")
    assert violations == []
