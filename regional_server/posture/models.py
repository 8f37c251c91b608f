"""Security Posture's findings: alerts raised by scanning the tenant's data in this region, and
a record of each scan. Like every product's data, it never leaves the region (Atrium reads
counts through the machine endpoint)."""

from django.db import models
from django.utils import timezone


class Alert(models.Model):
    """One problem found by one rule on one subject. While the problem lasts, every scan
    refreshes the same open alert (last_seen_at); once a scan no longer finds it, it is resolved.
    A problem that comes back later is a new alert (a new first_seen_at)."""

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="posture_alerts")
    rule = models.CharField(max_length=50)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # What the problem is about, stable across scans (e.g. "backup.source:12"); `subject` is its label.
    subject_key = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    detail = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "severity", "-first_seen_at", "pk"]
        constraints = [
            # A rescan never duplicates an open alert, even two scans racing.
            models.UniqueConstraint(
                fields=["tenant", "rule", "subject_key"],
                condition=models.Q(status="open"),
                name="posture_alert_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=["high", "medium", "low"]),
                name="posture_alert_severity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "resolved"]), name="posture_alert_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="posture_alert_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.rule} on {self.subject} ({self.status})"


class Scan(models.Model):
    """One scan of a tenant: when, and what it changed. `skipped` says why nothing was scanned."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="posture_scans")
    started_at = models.DateTimeField(default=timezone.now)
    findings = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    skipped = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"scan of {self.tenant_id} at {self.started_at:%Y-%m-%d %H:%M}"
