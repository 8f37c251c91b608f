"""Customer SSO: claimed email domains and their proof, and each account's OpenID Connect
connection (issue 11; accounts/sso.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""

from django.conf import settings
from django.db import models
from django.utils import timezone

# accounts.models imports this module at its end, after Membership is defined.
from accounts.models import Membership

__all__ = ["ClaimedDomain", "SSOConnection"]


class ClaimedDomain(models.Model):
    """An email domain an account says it owns. Only a verified one routes logins to the
    account's IdP and lets that IdP sign people in: a domain is verified for one account at
    most (database constraint), so two customers can never both own `acme.com`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"

    class Method(models.TextChoices):
        DNS = "dns", "DNS TXT record"
        STAFF = "staff", "Approved by Atrium staff"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="claimed_domains")
    # Lower-case ASCII (IDNA, punycode) form: what email addresses are compared against.
    domain = models.CharField(max_length=253)
    verification_token = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="claimed_domain_account_unique"),
            models.UniqueConstraint(
                fields=["domain"],
                condition=models.Q(status="verified"),
                name="claimed_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({self.status}) for {self.account_id}"

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def record_name(self) -> str:
        return f"_atrium-challenge.{self.domain}"

    @property
    def record_value(self) -> str:
        return f"atrium-verification={self.verification_token}"


class SSOConnection(models.Model):
    """An account's OpenID Connect IdP. The client secret lives only in the linked allauth
    SocialApp (which allauth's provider reads); it is never shown back."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="sso_connection"
    )
    app = models.OneToOneField("socialaccount.SocialApp", on_delete=models.PROTECT, related_name="+")
    issuer = models.URLField(max_length=500)
    client_id = models.CharField(max_length=191)
    trust_idp_mfa = models.BooleanField(default=False)
    default_role = models.CharField(
        max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"SSO for {self.account_id}: {self.issuer}"


# The security-policy part reads verified domains under this name (accounts/security_policy.py).
DomainClaim = ClaimedDomain
