"""Hostile review: two managers assign an unassigned account at the same moment. The second waits
for the first and then reassigns (audited twice), instead of failing on the one-owner-per-account
unique constraint (a 500)."""

import threading

from django.db import connection, connections, transaction

from accounts.models import AuditEvent
from accounts.services import account_create
from billing.models import SalesOwner
from billing.sales import sales_owner_assign
from billing.tests.test_sales_selectors import sales_user
from conftest import make_user
from tests.e2e.conftest import wait_for


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_two_managers_assigning_an_unassigned_account_at_once_both_succeed_in_turn(transactional_db):
    maya, mia = sales_user("maya@atrium.test", manager=True), sales_user("mia@atrium.test", manager=True)
    sam, rob = sales_user("sam@atrium.test"), sales_user("rob@atrium.test")
    acme = account_create(name="Acme", slug="acme", owner=make_user("alice@acme.test"))
    first_done, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                sales_owner_assign(account=acme, rep=sam, actor=maya)
                first_done.set()
                release.wait(30)  # holds its transaction open while the second one arrives
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            first_done.set()
        finally:
            connections.close_all()

    def second():
        try:
            sales_owner_assign(account=acme, rep=rob, actor=mia)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_done.wait(30)
    two = threading.Thread(target=second)
    two.start()
    wait_for(_waiting_on_a_lock, timeout=15, what="the second assignment to wait for the first")
    release.set()
    one.join(30)
    two.join(30)
    assert errors == []
    assert SalesOwner.objects.get(account=acme).rep == rob
    audits = AuditEvent.objects.filter(account=acme, action="sales_owner.assign").order_by("pk")
    assert [(a.before, a.after) for a in audits] == [
        ({"rep": None}, {"rep": "sam@atrium.test"}),
        ({"rep": "sam@atrium.test"}, {"rep": "rob@atrium.test"}),
    ]
