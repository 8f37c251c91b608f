"""The catalog (products and where each is offered) and what each account owns in each region.

Entitlements change only through products/services.py, which records each region's
entitlements document in the provisioning ledger in the same transaction."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

code_format = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1–40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)

# Paths of the portal's catalog that sit beside `/products/<code>/`: a product of that code would be
# unreachable there.
RESERVED_CODES = frozenset({"trial-policy", "trial-requests"})


def code_not_reserved(value: str) -> None:
    if value in RESERVED_CODES:
        raise ValidationError(f"“{value}” names a page of the catalog; pick another code.")


class Product(models.Model):
    # The code names the product in every region (`/p/<code>/`) and in entitlements documents.
    code = models.SlugField(max_length=40, unique=True, validators=[code_format, code_not_reserved])
    name = models.CharField(max_length=100)
    tagline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=50, blank=True)
    # A short text or emoji, or a path under static/.
    icon = models.CharField(max_length=200, blank=True)
    # A trial of more than ten years is a typo (and its end date would overflow the calendar).
    trial_days = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(3650)], help_text="0: no trial; at most 3650 days."
    )
    coming_soon = models.BooleanField(default=False)
    regions = models.ManyToManyField(
        "regions.Region", through="ProductRegion", related_name="products", blank=True
    )

    class Meta:
        ordering = ["name", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def icon_is_static(self) -> bool:
        return "/" in self.icon or self.icon.endswith((".svg", ".png", ".jpg", ".webp"))


class ProductRegion(models.Model):
    """The product is offered in that region."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="availability")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "region"], name="product_region_unique")]
        ordering = ["region__code"]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.region_id}"


class Entitlement(models.Model):
    """One account's right to one product in one region."""

    class Status(models.TextChoices):
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    GRANTING = frozenset({Status.TRIAL, Status.ACTIVE})

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="entitlements")
    # PROTECT: a product or region someone is entitled to is retired, not deleted.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entitlements")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Trial reminders already mailed for this end ("7d", "1d"; products/trials.py).
    reminders_sent = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__code", "region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product", "region"], name="entitlement_account_product_region_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["trial", "active", "expired", "cancelled"]),
                name="entitlement_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gte=models.F("starts_at")),
                name="entitlement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.product_id} in {self.region_id} ({self.status})"

    @property
    def is_effective(self) -> bool:
        """Whether the region lets the account use the product now (what regions enforce too)."""
        return self.status in self.GRANTING and (self.ends_at is None or self.ends_at > timezone.now())


class AccountTrialPolicy(models.Model):
    """Who may start a free trial in the account (products/trial_requests.py). No row means the
    default: owners and admins only."""

    class Policy(models.TextChoices):
        ADMINS = "admins", "Owners and admins start trials"
        MEMBERS_REQUEST = "members_request", "Members request trials; an owner or admin approves"

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="trial_policy")
    policy = models.CharField(max_length=20, choices=Policy.choices, default=Policy.ADMINS)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "account trial policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(policy__in=["admins", "members_request"]), name="trial_policy_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.policy}"


class TrialRequest(models.Model):
    """A member's request for a free trial, approved or declined by an owner or admin. Kept
    after the decision: sales read pending and declined ones (trial_requests_for_sales)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="trial_requests")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="trial_requests")
    regions = models.ManyToManyField("regions.Region", related_name="+")
    # SET_NULL plus the email: the request stays readable for sales after the person is gone.
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="trial_requests"
    )
    requester_email = models.EmailField()
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product"],
                condition=models.Q(status="pending"),
                name="trial_request_one_pending_per_account_product",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "declined"]),
                name="trial_request_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="trial_request_status_created")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.product_id} ({self.status})"


class TrialSalesFlag(models.Model):
    """A trial started by an account sharing a (non-free-mail) verified email domain with a person
    in another account that already had a trial of the same product: a lead for sales, never a
    refusal (products/sales_flags.py)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="trial_sales_flags"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    email_domain = models.CharField(max_length=255)
    other_account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product", "email_domain", "other_account"], name="trial_sales_flag_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} & {self.other_account_id}: {self.product_id} ({self.email_domain})"


class CrossSellRule(models.Model):
    """ "Accounts with <when_product> often add <recommend_product>": shown on the account home and
    the catalog to accounts owning the first and lacking the second. Staff edit them in the admin."""

    when_product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="cross_sell_rules")
    recommend_product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(
        max_length=300, blank=True, help_text="Shown as is; empty: “Accounts with X often add Y”."
    )
    position = models.PositiveIntegerField(default=100, help_text="Lower first.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["when_product", "recommend_product"], name="cross_sell_rule_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(when_product=models.F("recommend_product")),
                name="cross_sell_rule_not_itself",
                violation_error_message="A product cannot recommend itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.when_product_id} → {self.recommend_product_id}"

    @property
    def text(self) -> str:
        return (
            self.message or f"Accounts with {self.when_product.name} often add {self.recommend_product.name}"
        )
