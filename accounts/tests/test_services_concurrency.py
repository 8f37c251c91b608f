"""Races between an account's region changes and its member changes (real PostgreSQL row locks,
two connections): every such service locks the Account row first, so whichever commits second
sees what the first wrote, and no region is left holding a member the account does not
provision there (nor a removal left `removing` forever)."""

import threading

import pytest
from django.db import connection, transaction

from accounts.models import Membership
from accounts.provisioning import member_removal_unconfirmed
from accounts.services import (
    account_region_add,
    account_region_remove,
    membership_add,
    membership_remove,
    membership_update,
)
from conftest import make_region, make_user
from regions.models import AccountRegion, ProvisioningRecord

pytestmark = pytest.mark.django_db(transaction=True)


def run_open_transaction(fn, proceed: threading.Event, ready: threading.Event, errors: list):
    """fn() inside a transaction that stays open until `proceed` is set."""

    def body():
        try:
            with transaction.atomic():
                fn()
                ready.set()
                proceed.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
            ready.set()
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_member_added_while_a_region_is_being_removed_is_not_left_in_that_region(alice, bob, acme):
    us, eu = make_region("us", 8301, 9301), make_region("eu", 8302, 9302)
    account_region_add(account=acme, region=us)
    account_region_add(account=acme, region=eu)
    dave = make_user("dave@acme.test", "Dave", "Doe")
    link = AccountRegion.objects.get(account=acme, region=eu)
    proceed, ready, errors = threading.Event(), threading.Event(), []
    # given an operator removing EU from the account (transaction not yet committed)
    thread = run_open_transaction(lambda: account_region_remove(account_region=link), proceed, ready, errors)
    assert ready.wait(30)
    # when an admin adds a member meanwhile (membership_add does not wait for that transaction)
    done = threading.Event()
    adder = threading.Thread(
        target=lambda: (membership_add(account=acme, user=dave), connection.close(), done.set())
    )
    adder.start()
    done.wait(5)
    proceed.set()
    thread.join(30)
    adder.join(30)
    assert not errors
    # then the account no longer uses EU, yet EU is told to hold dave
    assert not AccountRegion.objects.filter(account=acme, region=eu).exists()
    held = ProvisioningRecord.objects.filter(
        region=eu, tenant="acme", object_key=str(dave.public_id), desired__isnull=False
    )
    assert not held.exists(), "EU will hold dave although acme no longer uses EU"


def test_member_suspended_while_a_region_is_being_removed_is_not_recreated_there(alice, bob, acme):
    us, eu = make_region("us", 8303, 9303), make_region("eu", 8304, 9304)
    account_region_add(account=acme, region=us)
    account_region_add(account=acme, region=eu)
    bob_m = Membership.objects.get(account=acme, user=bob)
    link = AccountRegion.objects.get(account=acme, region=eu)
    proceed, ready, errors = threading.Event(), threading.Event(), []
    thread = run_open_transaction(lambda: account_region_remove(account_region=link), proceed, ready, errors)
    assert ready.wait(30)
    # when bob is suspended meanwhile (reads the account's regions before the removal commits;
    # then waits on the EU row's lock and overwrites the recorded deletion)
    suspender = threading.Thread(
        target=lambda: (membership_update(membership=bob_m, status="suspended"), connection.close())
    )
    suspender.start()
    threading.Event().wait(1)  # let it read the regions and block on the row lock
    proceed.set()
    thread.join(30)
    suspender.join(30)
    assert not errors
    row = ProvisioningRecord.objects.get(region=eu, tenant="acme", object_key=str(bob.public_id))
    assert row.desired is None, f"EU must delete bob, but the ledger now desires {row.desired}"


def test_member_removed_while_a_region_is_being_added_is_not_provisioned_there(alice, bob, acme):
    us, eu = make_region("us", 8305, 9305), make_region("eu", 8306, 9306)
    account_region_add(account=acme, region=us)
    bob_m = Membership.objects.get(account=acme, user=bob)
    proceed, ready, errors = threading.Event(), threading.Event(), []
    # given an operator adding EU (back-fill read bob as active; not committed yet)
    thread = run_open_transaction(lambda: account_region_add(account=acme, region=eu), proceed, ready, errors)
    assert ready.wait(30)
    # when bob is removed meanwhile (membership_remove does not lock the account)
    done = threading.Event()
    remover = threading.Thread(
        target=lambda: (membership_remove(membership=bob_m), connection.close(), done.set())
    )
    remover.start()
    done.wait(5)
    proceed.set()
    thread.join(30)
    remover.join(30)
    assert not errors
    # then EU must not be told to hold bob, and his removal must be finishable
    eu_row = ProvisioningRecord.objects.get(region=eu, tenant="acme", object_key=str(bob.public_id))
    assert eu_row.desired is None, "EU is told to create a member who is being removed"
    # (with desired != None no confirmation could ever bring unconfirmed to 0: removing forever)
    ProvisioningRecord.objects.filter(object_key=str(bob.public_id)).update(state="synced", acked_version=99)
    assert member_removal_unconfirmed(Membership.objects.get(pk=bob_m.pk)) == 0
