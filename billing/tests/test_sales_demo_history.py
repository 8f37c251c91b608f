"""`billing_demo_history`: months of real history through the services, deterministic and
idempotent (a second run adds nothing), and the dashboard shows it."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AuditEvent, User
from billing.models import Invoice, Plan, SalesOwner, Subscription, SubscriptionEvent
from billing.sales import SalesScope
from billing.sales_selectors import sales_dashboard
from conftest import make_region
from products.services import product_create


def _catalog():
    us, eu, au = make_region("us", 8101, 9101), make_region("eu", 8102, 9102), make_region("au", 8103, 9103)
    backup = product_create(code="backup", name="Backup & Recovery", regions=[us, eu, au], trial_days=30)
    posture = product_create(code="posture", name="Security Posture", regions=[us, eu], trial_days=14)
    for product in (backup, posture):
        for currency in ("USD", "EUR", "AUD"):
            Plan.objects.create(product=product, code=f"team-{currency.lower()}", name=f"Team {currency}",
                                interval="month", currency=currency, unit_price=Decimal("12.00"))  # fmt: skip


@pytest.fixture
def demo_catalog(db):
    _catalog()


def _counts():
    return (
        Account.objects.count(), Subscription.objects.count(), SubscriptionEvent.objects.count(),
        Invoice.objects.count(), AuditEvent.objects.count(), SalesOwner.objects.count(),
    )  # fmt: skip


def test_it_generates_a_year_of_history_through_the_services_and_a_second_run_adds_nothing(demo_catalog):
    out = io.StringIO()
    call_command("billing_demo_history", "--accounts=12", stdout=out)
    assert "12 accounts generated" in out.getvalue()
    first = _counts()
    call_command("billing_demo_history", "--accounts=12", stdout=io.StringIO())
    assert _counts() == first
    assert Account.objects.count() == 12
    # half belong to sam
    assert SalesOwner.objects.filter(rep__email="sam@atrium.test").count() == 6
    kinds = set(SubscriptionEvent.objects.values_list("kind", flat=True))
    assert {"start", "renew"} <= kinds
    assert Invoice.objects.filter(status="paid").exists()
    assert AuditEvent.objects.filter(action="trial.start").count() >= 12
    # every invoice is the engine's: one per subscription and period, numbered by it
    for invoice in Invoice.objects.all()[:20]:
        assert invoice.number.startswith(f"ATR-{invoice.account_id}-")


class _Undo(Exception):
    pass


def _history_shape() -> list[tuple]:
    return sorted(
        (e.account.slug, e.kind, e.effective_at, e.mrr_before, e.mrr_after)
        for e in SubscriptionEvent.objects.select_related("account")
    )


@time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=UTC), tick=False)
def test_the_same_seed_replays_the_same_history(demo_catalog):
    shapes = []
    for _ in range(2):
        try:
            with transaction.atomic():
                call_command("billing_demo_history", "--accounts=8", stdout=io.StringIO())
                shapes.append(_history_shape())
                raise _Undo  # roll the whole history back, then generate it again
        except _Undo:
            pass
    assert len(shapes[0]) > 8
    assert shapes[0] == shapes[1]


def test_the_dashboard_shows_the_generated_history(demo_catalog):
    call_command("billing_demo_history", "--accounts=12", stdout=io.StringIO())
    maya = User.objects.get(email="maya@atrium.test")
    tables = sales_dashboard(scope=SalesScope(user=maya, is_manager=True), now=timezone.now())
    assert tables["mrr"].rows
    assert any(row["mrr"] > 0 for row in tables["mrr"].rows)
    assert tables["conversion"].rows


def test_the_past_sends_no_mail_today(transactional_db, mailoutbox):
    # committed for real (each generated account in its own transaction), unlike the tests above
    _catalog()
    call_command("billing_demo_history", "--accounts=4", stdout=io.StringIO())
    assert Account.objects.count() == 4
    assert mailoutbox == []
