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
