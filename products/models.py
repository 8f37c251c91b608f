"""The catalog (products and where each is offered) and what each account owns in each region.

Entitlements change only through products/services.py, which records each region's
entitlements document in the provisioning ledger in the same transaction."""

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

code_format = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1–40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


class Product(models.Model):
    # The code names the product in every region (`/p/<code>/`) and in entitlements documents.
    code = models.SlugField(max_length=40, unique=True, validators=[code_format])
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
