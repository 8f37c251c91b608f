"""The security policy Atrium pushed for a tenant, as this region enforces it (issue 11).

Imported at the end of atrium_kit/models.py, so these are models of this app ("tenants")."""

from django.db import models


class TenantPolicy(models.Model):
    """The policy document Atrium last sent for a tenant (atrium_kit/policy.py).

    `version` is the policy's version at Atrium: only a document at least as new replaces this
    one, so a late push of an older version never wins. `document` is the validated body:
    `{"tenant", "version", "mfa_required", "session_lifetime_seconds", "idle_timeout_seconds",
    "sso_only"}`."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="policy")
    version = models.PositiveIntegerField()
    document = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"policy v{self.version} of {self.tenant_id}"


__all__ = ["TenantPolicy"]
