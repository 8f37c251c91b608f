"""Backup & Recovery's business data: what each tenant protects in this region and every run of
its backups. It lives in the region only (Atrium sees counts and links, never these rows).

Rows hang off the kit's tenant row ("tenants.Tenant", by string: a product needs no kit import
for its models). The tenant is keyed by the account's immutable slug, so data seeded before
Atrium's first SCIM or entitlements push attaches to the same row those pushes use later."""

from datetime import timedelta

from django.db import models
from django.utils import timezone


class ProtectedSource(models.Model):
    """Something the tenant backs up: a server, a database, mailboxes, a file share."""

    class Kind(models.TextChoices):
        SERVER = "server", "Server"
        DATABASE = "database", "Database"
        MAILBOX = "mailbox", "Mailboxes"
        FILE_SHARE = "file_share", "File share"
        SAAS = "saas", "SaaS application"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="backup_sources")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    location = models.CharField(max_length=200, blank=True)  # host, cluster or service it lives on
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="backup_source_tenant_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant_id})"


class BackupJob(models.Model):
    """One run of a source's backup. A succeeded run is a snapshot, kept `retention_days`
    (until `expires_at`); the protection it had (encrypted, immutable, an offsite copy) is
    recorded per run, because a policy can change between runs."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        RUNNING = "running", "Running"

    source = models.ForeignKey(ProtectedSource, on_delete=models.CASCADE, related_name="jobs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    size_bytes = models.PositiveBigIntegerField(default=0)
    encrypted = models.BooleanField(default=True)
    retention_days = models.PositiveIntegerField(default=30)
    immutable = models.BooleanField(default=False)
    offsite_copy = models.BooleanField(default=False)
    # Derived from started_at + retention_days on save, so "still retained" is a plain SQL filter.
    expires_at = models.DateTimeField(editable=False)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "status", "-started_at"], name="backup_job_source_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["succeeded", "failed", "running"]),
                name="backup_job_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    def save(self, *args, **kwargs):
        self.expires_at = self.started_at + timedelta(days=self.retention_days)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "expires_at"}
        super().save(*args, **kwargs)
