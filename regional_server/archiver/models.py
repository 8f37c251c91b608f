"""Archiver's data: legal holds on a person's or a group's mailbox and file archive. The people
and groups themselves are Atrium's (read through the kit's directory client); a hold stores
their directory id and a label as seen when it was placed, and lives in this region only.

Built on the kit alone: the tenant and the user are referenced by Django's own means (a model
string and AUTH_USER_MODEL), so no kit module is imported here."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Hold(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        GROUP = "group", "Group"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="archive_holds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target_id = models.CharField(max_length=64)  # the directory's user uuid or group id
    target_label = models.CharField(max_length=300)  # name and email, or the group's name, when placed
    reason = models.CharField(max_length=300)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_by_label = models.CharField(max_length=300)
    placed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by_label = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "target_id"],
                condition=models.Q(released_at__isnull=True),
                name="archiver_hold_one_active_per_target",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["person", "group"]), name="archiver_hold_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"hold on {self.kind} {self.target_label}"

    @property
    def active(self) -> bool:
        return self.released_at is None
