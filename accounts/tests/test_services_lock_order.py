"""Lock order between identity changes and account changes (User row first, then accounts), on
real PostgreSQL row locks with separate connections: no deadlock between Django admin and an
account admin, and no membership slips in under an identity change."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.contrib import admin as django_admin
from django.db import connection, transaction

from accounts.models import Membership, User
from accounts.services import account_region_add, member_rename, membership_add, user_set_active
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(fn, errors, wrapper=None):
    def body():
        try:
            if wrapper is None:
                fn()
            else:
                with connection.execute_wrapper(wrapper):
                    fn()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_staff_renaming_a_user_in_admin_while_an_account_admin_renames_them_does_not_deadlock(
    alice, bob, acme
):
    user_admin = django_admin.site._registry[User]
    staff = make_user("staff@atrium.test")
    bob_m = Membership.objects.get(account=acme, user=bob)
    alice_m = Membership.objects.get(account=acme, user=alice)
    saved, go, errors = threading.Event(), threading.Event(), []

    def after_user_row_written(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "accounts_user"') and not saved.is_set():
            saved.set()
            go.wait(10)
        return result

    def staff_saves_user_form():
        # UserAdmin.save_model inside the admin's changeform transaction: super().save_model
        # writes the user row, then user_rename locks the user's accounts.
        with transaction.atomic():
            obj = User.objects.get(pk=bob.pk)
            obj.first_name = "Robert"
            user_admin.save_model(request=SimpleNamespace(user=staff), obj=obj, form=None, change=True)

    staff = _in_thread(staff_saves_user_form, errors, after_user_row_written)
    assert saved.wait(10)
    # meanwhile Acme's owner renames bob: locks Acme, then writes the user row (waits on staff)
    owner = _in_thread(
        lambda: member_rename(actor=alice_m, membership=bob_m, first_name="Bobby", last_name="Brown"), errors
    )
    time.sleep(1)
    go.set()  # staff's user_rename now asks for Acme's row lock, held by the owner's transaction
    staff.join(30)
    owner.join(30)
    assert not errors, errors  # PostgreSQL: "deadlock detected"


def test_a_membership_added_while_an_identity_changes_waits_and_is_rendered_after_it(
    alice, bob, carol, acme, globex
):
    us, eu = make_region("us", 8411, 9411), make_region("eu", 8412, 9412)
    account_region_add(account=acme, region=us)
    account_region_add(account=globex, region=us)
    account_region_add(account=globex, region=eu)
    read_memberships, go, errors = threading.Event(), threading.Event(), []

    def wrapper(execute, sql, params, many, context):
        if 'FROM "accounts_account"' in sql and "FOR UPDATE" in sql and not read_memberships.is_set():
            read_memberships.set()  # bob is locked and his memberships read: {acme}
            go.wait(10)
        return execute(sql, params, many, context)

    # given an operator deactivating bob (his row locked, his accounts being locked)
    deactivate = _in_thread(lambda: user_set_active(user=bob, active=False), errors, wrapper)
    assert read_memberships.wait(10)
    # when Globex adds bob meanwhile
    added = threading.Event()
    adder = _in_thread(lambda: (membership_add(account=globex, user=bob), added.set()), errors)
    # then the addition waits for the deactivation (it cannot add an account under it) ...
    assert not added.wait(1), "membership_add did not wait for the person's row lock"
    go.set()
    deactivate.join(30)
    adder.join(30)
    assert not errors, errors
    # ... and renders bob as he is after it: no region of Globex is told to keep him active
    bob.refresh_from_db()
    assert bob.is_active is False
    rows = ProvisioningRecord.objects.filter(kind="user", tenant="globex", object_key=str(bob.public_id))
    assert {r.region.code: r.desired["active"] for r in rows} == {"us": False, "eu": False}
