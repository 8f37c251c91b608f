from django.core.validators import RegexValidator
from django.db import models


class Region(models.Model):
    """An isolated regional deployment: its own servers, database and URLs."""

    code = models.CharField(
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[a-z]{2,10}$", "Use 2–10 lowercase letters, e.g. “eu”.")],
    )
    name = models.CharField(max_length=100)
    # People-facing URL: product pages and OIDC login.
    people_url = models.URLField()
    # Machine URL: SCIM and tenant API, always mutual TLS; also the `aud` of M2M tokens.
    machine_url = models.URLField()
    # The region answered 429/503 with Retry-After: no push to it starts before this time.
    retry_not_before = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def oidc_client_id(self) -> str:
        return f"region-{self.code}"

    @property
    def oidc_redirect_uri(self) -> str:
        return f"{self.people_url.rstrip('/')}/oidc/callback/"


class AccountRegion(models.Model):
    """A region an account uses: its members are provisioned there and may log in."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="account_regions")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="account_regions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "region"], name="account_region_unique")]
        ordering = ["region__code"]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.region}"


class ProvisioningRecord(models.Model):
    """The ledger: what one region must hold for one object (desired) and what it confirmed
    (acknowledged). "Synced" means acknowledged version = desired version.

    The desired representation (the SCIM resource) is stored here, written in the same
    transaction as the change, so delivery never re-reads domain models. `desired` is null
    when the object must be deleted in the region.
    """

    class Kind(models.TextChoices):
        # Each kind has one handler registered in regions/kinds.py (how it is sent and deleted).
        USER = "user", "User"
        GROUP = "group", "Group"
        ENTITLEMENTS = "entitlements", "Entitlements"
        POLICY = "policy", "Security policy"
        LOGOUT = "logout", "Back-channel logout"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    tenant = models.SlugField(max_length=40)  # the account's slug: the region's tenant
    object_key = models.CharField(max_length=100)  # users: the public UUID (SCIM externalId)
    # PROTECT: deleting a region must not silently drop what it has yet to receive.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="provisioning_records")
    desired = models.JSONField(null=True, blank=True)
    desired_version = models.PositiveIntegerField(default=1)
    sent_version = models.PositiveIntegerField(default=0)
    acked_version = models.PositiveIntegerField(default=0)
    # The representation the region acknowledged last (kinds that send differences, such as a
    # group's PATCH of `members`, diff the desired state against it).
    acked = models.JSONField(null=True, blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the current run of failures began: a row fails for good only after attempts *and*
    # time are spent, so a region down for hours never turns rows `failed`.
    failing_since = models.DateTimeField(null=True, blank=True)
    # The region's last `Retry-After`: nothing (a new change, the retry button) calls it sooner.
    retry_not_before = models.DateTimeField(null=True, blank=True)
    # Waiting for objects it references (a group's members) to reach the region first.
    awaiting_dependency = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    # A push holds the lease while it talks to the region: one push in flight per row. Every
    # result is written only where the row still holds the lease token (fencing), so a push
    # whose lease expired can never overwrite what a later push wrote.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set by the sweeper when it re-enqueues a row; the message carries it, so exactly that
    # delivery may lease the row early while duplicates of older messages wait their turn.
    dispatch_token = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "tenant", "object_key", "region"], name="provisioning_record_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="provisioning_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} in {self.tenant}@{self.region_id}: {self.state}"

    @property
    def is_deletion(self) -> bool:
        return self.desired is None
