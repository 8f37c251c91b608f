"""The account security policy and its versions (issue 11; accounts/security_policy.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""

from django.conf import settings
from django.db import models
from django.utils import timezone

# Django's own MinimumLengthValidator default; a policy may only ask for more.
PASSWORD_MIN_LENGTH_DEFAULT = 8


class SecurityPolicy(models.Model):
    """An account's current policy (no row: the defaults, which add nothing to the site's rules).

    `version` is the number of the latest SecurityPolicyVersion; the region documents carry it."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="security_policy"
    )
    version = models.PositiveIntegerField(default=0)
    mfa_required = models.BooleanField(default=False)
    mfa_grace_days = models.PositiveSmallIntegerField(default=0)
    # When MFA became required: the grace period counts from here (None while not required).
    mfa_required_since = models.DateTimeField(null=True, blank=True)
    session_lifetime_minutes = models.PositiveIntegerField(null=True, blank=True)
    idle_timeout_minutes = models.PositiveIntegerField(null=True, blank=True)
    password_min_length = models.PositiveSmallIntegerField(default=PASSWORD_MIN_LENGTH_DEFAULT)
    password_check_common = models.BooleanField(default=True)
    password_check_similarity = models.BooleanField(default=True)
    password_refuse_numeric = models.BooleanField(default=True)
    # Lowercased domains invitations may go to; empty: any.
    allowed_email_domains = models.JSONField(default=list, blank=True)
    sso_only = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "security policies"

    def __str__(self) -> str:
        return f"security policy v{self.version} of {self.account_id}"


class SecurityPolicyVersion(models.Model):
    """One saved version of an account's policy, never changed afterwards (the history)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="security_policy_versions"
    )
    number = models.PositiveIntegerField()
    document = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="security_policy_version_unique")
        ]

    def __str__(self) -> str:
        return f"security policy v{self.number} of {self.account_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A security policy version is immutable; save a new version instead.")
        super().save(*args, **kwargs)
