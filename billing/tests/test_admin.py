"""Staff in Django admin: plan prices apply to new subscriptions only; subscriptions and invoices are
read-only; "Mark paid" goes through the payment service (audited)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, User
from billing.models import Invoice, Payment
from billing.services import subscription_convert_trial


@pytest.fixture
def staff(client, db):
    user = User.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(user)
    return user


@pytest.fixture
def paid(acme_everywhere, backup, plans, owner):
    return subscription_convert_trial(
        account=acme_everywhere,
        product=backup,
        plan=plans["basic"],
        seats_by_region={"eu": 5},
        actor=owner,
        now=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )


def test_a_price_changed_in_admin_applies_to_new_subscriptions_only(
    client, staff, paid, plans, globex_eu, backup
):
    basic = plans["basic"]
    response = client.post(
        reverse("admin:billing_plan_change", args=[basic.pk]),
        {"name": basic.name, "unit_price": "11.50", "active": "on", "position": 0},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    basic.refresh_from_db()
    assert basic.unit_price == Decimal("11.50")
    paid.refresh_from_db()
    assert paid.unit_price == Decimal("10.00")
    newer = subscription_convert_trial(
        account=globex_eu,
        product=backup,
        plan=basic,
        seats_by_region={"eu": 2},
        actor=Membership.objects.get(account=globex_eu),
        now=datetime(2027, 3, 2, tzinfo=UTC),
    )
    assert (newer.unit_price, newer.invoices.get().total) == (Decimal("11.50"), Decimal("23.00"))


def test_subscriptions_and_invoices_are_read_only(client, staff, paid):
    invoice = paid.invoices.get()
    assert client.get(reverse("admin:billing_subscription_change", args=[paid.pk])).status_code == 200
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200
    client.post(
        reverse("admin:billing_invoice_change", args=[invoice.pk]), {"total": "1.00", "status": "paid"}
    )
    invoice.refresh_from_db()
    assert (invoice.total, invoice.status) == (Decimal("50.00"), "open")
    assert client.get(reverse("admin:billing_invoice_add")).status_code == 403
    assert client.get(reverse("admin:billing_subscription_delete", args=[paid.pk])).status_code == 403


def test_mark_paid_records_a_manual_payment_and_audits_it(client, staff, paid, acme):
    invoice = paid.invoices.get()
    response = client.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "mark_paid", "_selected_action": [invoice.pk]},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.provider, payment.amount, payment.recorded_by) == ("manual", Decimal("50.00"), staff)
    assert AuditEvent.objects.filter(action="invoice.paid", account=acme, actor=staff).count() == 1
