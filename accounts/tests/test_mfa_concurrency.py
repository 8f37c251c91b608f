"""One TOTP code presented twice at the same moment (two portal processes = two database
connections here): the device row lock lets exactly one through; the other sees last_t."""

import threading

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.tests.mfa_helpers import START, frozen_clock, totp_code


@pytest.fixture
def clock():
    with frozen_clock() as traveller:
        yield traveller


def test_two_simultaneous_checks_of_one_code_accept_it_once(transactional_db, alice, clock):
    device = mfa.totp_enrolment_start(user=alice)
    mfa.totp_enrolment_confirm(user=alice, code=totp_code(device))
    clock.shift(30)
    device = TOTPDevice.objects.get(user=alice)
    code = totp_code(device)

    barrier = threading.Barrier(2)
    results: list[bool] = []

    def check():
        try:
            barrier.wait(timeout=10)
            results.append(mfa.code_verify(user=alice, code=code, purpose="login").ok)
        finally:
            connection.close()  # each thread has its own connection, as each process would

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, True]
    device.refresh_from_db()
    assert device.last_t == (int(START.timestamp()) + 30) // 30
