"""Plans, subscriptions, seats and invoices; who in sales owns which account.

Money is `Decimal` in the currency's minor unit precision (USD, EUR and AUD: cents). Every write
goes through billing's services; the invoice arithmetic lives in one module (billing/pricing.py),
used by both the previews customers see and the invoice run, so a preview is always what is billed.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    AUD = "AUD", "Australian dollar"


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class Plan(models.Model):
    """A price per seat per interval for one product. Staff edit plans; a changed price applies to
    new subscriptions, while existing ones keep the price they locked in until their renewal."""

    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="plans")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    interval = models.CharField(max_length=5, choices=Interval.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    # Offered to new subscriptions; a retired plan keeps serving the subscriptions on it.
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product__code", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="plan_code_unique_per_product"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="plan_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code}/{self.code}"


class PlanChange(models.Model):
    """Whether moving from one plan to another is an upgrade (now, prorated) or a downgrade (at
    period end): decided per plan pair by staff, never inferred from the daily price."""

    class Direction(models.TextChoices):
        UPGRADE = "upgrade", "Upgrade (takes effect now, prorated)"
        DOWNGRADE = "downgrade", "Downgrade (takes effect at period end)"

    from_plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="changes_from")
    to_plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="changes_to")
    direction = models.CharField(max_length=9, choices=Direction.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_plan", "to_plan"], name="plan_change_unique_pair"),
            models.CheckConstraint(condition=~Q(from_plan=models.F("to_plan")), name="plan_change_two_plans"),
        ]

    def __str__(self) -> str:
        return f"{self.from_plan} → {self.to_plan}: {self.direction}"


class Subscription(models.Model):
    """One per account × product while not cancelled. Seats are bought per region
    (SubscriptionRegion); the plan's price is copied in at start and at each renewal."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="subscriptions")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=9, choices=Status.choices)
    # Locked in: the plan's price, currency and interval when this period began.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    interval = models.CharField(max_length=5, choices=Interval.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    # A downgrade (or seat decrease, or cancellation) waits for the period's end.
    pending_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cancel_at_period_end = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account__name", "product__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product"],
                condition=~Q(status="cancelled"),
                name="subscription_one_live_per_account_product",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=models.F("current_period_start")),
                name="subscription_period_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.slug}/{self.product.code} ({self.status})"


class SubscriptionRegion(models.Model):
    """Seats bought in one region. `pending_seats` is a decrease waiting for the period's end."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="items")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    pending_seats = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["region__code"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "region"], name="subscription_region_unique"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="subscription_region_seats_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}@{self.region_id}: {self.seats}"


class SubscriptionEvent(models.Model):
    """Every change to a subscription, with the MRR before and after (in the subscription's
    currency, monthly-normalised): the MRR movements and the proration lines are computed from
    these, so history is never re-derived from today's rows."""

    class Kind(models.TextChoices):
        START = "start", "Started (trial converted or new)"
        SEATS = "seats", "Seats changed"
        REGIONS = "regions", "Regions changed"
        PLAN = "plan", "Plan changed"
        RENEW = "renew", "Renewed"
        CANCEL = "cancel", "Cancelled"
        REACTIVATE = "reactivate", "Reactivated"
        PAST_DUE = "past_due", "Past due"
        PAID = "paid", "Paid up"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_at = models.DateTimeField(default=timezone.now)
    mrr_before = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    mrr_after = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, choices=Currency.choices)
    # {"seats": {"eu": 5}, "plan": "backup/team-monthly", ...} before and after the change.
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["effective_at", "pk"]
        indexes = [
            models.Index(fields=["effective_at"]),
            models.Index(fields=["account", "effective_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.kind} at {self.effective_at:%Y-%m-%d}"


class Invoice(models.Model):
    """One per subscription and period (the database says so: running the invoice run twice makes
    no second invoice). Its lines are the period's recurring charge per product × region plus the
    netted proration of the previous period's mid-period changes."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    number = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="invoice_one_per_subscription_period"
            ),
        ]
        indexes = [models.Index(fields=["account", "-issued_at"]), models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        RECURRING = "recurring", "Recurring"
        PRORATION = "proration", "Proration"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=9, choices=Kind.choices)
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    seats = models.IntegerField()  # negative on a proration credit
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["invoice", "position", "pk"]

    def __str__(self) -> str:
        return self.description


class Payment(models.Model):
    """A payment recorded by a provider (billing/payments.py; the manual provider: staff mark paid)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=40)
    reference = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    paid_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="payment_reference_unique_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency}"


class SalesOwner(models.Model):
    """Which sales rep owns an account (a manager reassigns). No row: unassigned."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="sales_owner")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales_accounts")
    assigned_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.account_id} → {self.rep_id}"


class AccountActivity(models.Model):
    """The members' counts of one account, as of `computed_at`: a rollup the sales dashboard
    reads instead of scanning every membership joined to its sign-in on each page view
    (billing/sales_activity.py refreshes it from beat; the dashboard falls back to the live scan
    when the rollup is older than ACTIVITY_FRESH). An account with no active member has no row."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    members = models.PositiveIntegerField()  # active members
    everywhere = models.PositiveIntegerField()  # of whom with every region the account uses
    active_7d = models.PositiveIntegerField()  # of whom signed in within 7 days of computed_at
    active_idle = models.PositiveIntegerField()  # of whom signed in within 14 days of computed_at
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"activity of {self.account_id} at {self.computed_at:%Y-%m-%d %H:%M}"
