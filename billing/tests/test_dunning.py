"""Dunning: reminders once each, past due after the grace period, and prepaid time never blocked.
Monthly, converted 1 March 2027; invoices are due when issued; grace is 14 days."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from billing.models import Invoice, Payment, SubscriptionEvent
from billing.payments import invoice_void
from billing.services import dunning_run, invoice_mark_paid, invoices_run, subscription_convert_trial
from billing.tests.conftest import MAR_1
from products.models import Entitlement


def day(month, d, hour=12):
    return datetime(2027, month, d, hour, tzinfo=UTC)


@pytest.fixture
def staff(db):
    from conftest import make_user

    user = make_user("ops@atrium.test")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def paid(acme_everywhere, backup, plans, owner):
    return subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=MAR_1,
    )


def statuses(account):
    return set(Entitlement.objects.filter(account=account).values_list("status", flat=True))


def run(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoices_run(now=now)
        return dunning_run(now=now)


def test_reminders_are_sent_once_each_and_past_due_after_grace(
    paid, acme, django_capture_on_commit_callbacks
):
    run(day(3, 2, 12), django_capture_on_commit_callbacks)  # 1 day past due
    run(day(3, 3), django_capture_on_commit_callbacks)
    assert [m.subject for m in mail.outbox] == [
        f"Atrium: reminder, invoice {paid.invoices.get().number} is due"
    ]
    assert mail.outbox[0].to == ["alice@acme.test"]
    paid.refresh_from_db()
    assert paid.status == "active"

    result = run(day(3, 15, 10), django_capture_on_commit_callbacks)  # 14 days past due
    run(day(3, 16), django_capture_on_commit_callbacks)

    assert result.past_due == 1
    assert len(mail.outbox) == 2 and "past due" in mail.outbox[1].subject
    paid.refresh_from_db()
    assert paid.status == "past_due" and paid.past_due_since == day(3, 15, 10)
    assert paid.invoices.get().reminders_sent == ["1d", "grace"]
    assert SubscriptionEvent.objects.filter(subscription=paid, kind="past_due").count() == 1
    # The period running now (March) is the unpaid one, past grace: access expires.
    assert statuses(acme) == {"expired"}


def test_paying_clears_past_due_and_gives_access_back(paid, acme, staff, django_capture_on_commit_callbacks):
    run(day(3, 16), django_capture_on_commit_callbacks)
    invoice = paid.invoices.get()
    invoice_mark_paid(invoice=invoice, actor=staff, reference="bank-2027-03-16", now=day(3, 17))
    invoice.refresh_from_db()
    paid.refresh_from_db()
    assert (invoice.status, invoice.paid_at, paid.status, paid.past_due_since) == (
        "paid",
        day(3, 17),
        "active",
        None,
    )
    assert Payment.objects.get(invoice=invoice).amount == Decimal("50.00")
    assert statuses(acme) == {"active"}
    assert AuditEvent.objects.filter(action="invoice.paid", account=acme, actor=staff).count() == 1
    # Marking it paid again changes nothing.
    invoice_mark_paid(invoice=invoice, actor=staff, now=day(3, 18))
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_dunning_never_blocks_a_period_already_paid_for(
    paid, acme, staff, django_capture_on_commit_callbacks
):
    # March's invoice stays unpaid; April's (the period running) is paid.
    run(day(4, 1, 1), django_capture_on_commit_callbacks)
    april = Invoice.objects.get(subscription=paid, period_start__month=4)
    invoice_mark_paid(invoice=april, actor=staff, now=day(4, 1, 2))

    run(day(4, 20), django_capture_on_commit_callbacks)

    paid.refresh_from_db()
    assert paid.status == "past_due"  # March is overdue …
    assert statuses(acme) == {"active"}  # … but April was paid for: access stays to its end.
    # May's invoice unpaid past grace (the paid period is over): now access expires.
    run(day(5, 14, 23), django_capture_on_commit_callbacks)
    assert statuses(acme) == {"active"}
    run(day(5, 15, 1), django_capture_on_commit_callbacks)
    assert statuses(acme) == {"expired"}


def test_grace_days_come_from_the_setting(paid, settings, django_capture_on_commit_callbacks):
    settings.ATRIUM_BILLING_GRACE_DAYS = 3
    run(MAR_1 + timedelta(days=3, hours=1), django_capture_on_commit_callbacks)
    paid.refresh_from_db()
    assert paid.status == "past_due"


def test_a_customer_cannot_mark_an_invoice_paid(paid, owner):
    with pytest.raises(PermissionDenied):
        invoice_mark_paid(invoice=paid.invoices.get(), actor=owner)


# -- void: staff cancel an open invoice that is not owed ---------------------------------------


def test_voiding_the_overdue_invoice_ends_past_due_and_gives_access_back(
    paid, acme, staff, django_capture_on_commit_callbacks
):
    run(day(3, 16), django_capture_on_commit_callbacks)  # past grace: past due, access expired
    paid.refresh_from_db()
    assert paid.status == "past_due" and statuses(acme) == {"expired"}
    invoice = paid.invoices.get()

    invoice_void(invoice=invoice, actor=staff, reason="billed in error", now=day(3, 17))

    invoice.refresh_from_db()
    paid.refresh_from_db()
    assert (invoice.status, paid.status) == ("void", "active")
    assert statuses(acme) == {"active"}
    event = AuditEvent.objects.get(action="invoice.void", account=acme)
    assert event.actor == staff and event.after["reason"] == "billed in error"
    # again: nothing more happens
    invoice_void(invoice=invoice, actor=staff, reason="again", now=day(3, 18))
    assert AuditEvent.objects.filter(action="invoice.void").count() == 1
    # and a void invoice cannot be paid
    with pytest.raises(ValidationError, match="void"):
        invoice_mark_paid(invoice=invoice, actor=staff, now=day(3, 18))


def test_a_paid_invoice_cannot_be_voided_and_customers_void_nothing(paid, owner, staff):
    invoice = paid.invoices.get()
    with pytest.raises(PermissionDenied):
        invoice_void(invoice=invoice, actor=owner.user, reason="no")
    with pytest.raises(ValidationError, match="Say why"):
        invoice_void(invoice=invoice, actor=staff, reason="   ")
    invoice_mark_paid(invoice=invoice, actor=staff, now=day(3, 2))
    with pytest.raises(ValidationError, match="refund"):
        invoice_void(invoice=invoice, actor=staff, reason="changed our mind")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
