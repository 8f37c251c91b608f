import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_scim.models import AbstractSCIMUserMixin


class Tenant(models.Model):
    """A customer account as this region knows it; `slug` is the account's immutable slug."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.slug


class UserManager(BaseUserManager):
    def get_by_natural_key(self, scim_id):
        return self.get(scim_id=scim_id)


class User(AbstractSCIMUserMixin, AbstractBaseUser):
    """A person inside one tenant of this region.

    `scim_external_id` is Atrium's public user UUID (the OIDC `sub`); one person in two tenants
    of this region is two rows. Other SCIM clients may leave it unset (NULL): it is unique per
    tenant when present. `scim_username` is unique per tenant ignoring case (kept as sent).
    `emails` is the SCIM list as sent; `email` its primary value (or the userName when that is an
    address), and `emails_search` the lower-cased values framed by line breaks, so a filter on
    `emails.value` runs in SQL.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="users")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    scim_display_name = models.CharField(max_length=300, blank=True)
    name_formatted = models.CharField(max_length=300, blank=True)
    emails = models.JSONField(default=list, blank=True)
    emails_search = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    # scim_id is unique region-wide and set on first save; the login keys on externalId.
    USERNAME_FIELD = "scim_id"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "scim_external_id"],
                condition=models.Q(scim_external_id__isnull=False),
                name="user_tenant_external_id_unique",
            ),
            models.UniqueConstraint("tenant", Lower("scim_username"), name="user_tenant_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scim_username} ({self.tenant_id})"

    @property
    def display_name(self) -> str:
        return (
            self.scim_display_name
            or f"{self.first_name} {self.last_name}".strip()
            or self.email
            or self.scim_username
        )

    @property
    def scim_groups(self):
        return self.member_of.all()


def new_scim_id() -> str:
    return str(uuid.uuid4())


class Group(models.Model):
    """A SCIM Group of one tenant; members are users of the same tenant only (the SCIM layer
    refuses others before they reach here)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="groups")
    scim_id = models.CharField(max_length=36, default=new_scim_id, unique=True, editable=False)
    display_name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=254, null=True, blank=True, default=None)
    members = models.ManyToManyField(User, related_name="member_of", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("display_name"), name="group_tenant_display_name_ci_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="group_tenant_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.tenant_id})"


class LoginSession(models.Model):
    """A region session opened through Atrium, so the region can end it itself
    (user suspended or deleted by SCIM, back-channel logout by `sid`)."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    sid = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"session of {self.user_id}"


class TenantEntitlements(models.Model):
    """The entitlements document Atrium last sent for a tenant, as this region enforces it.

    `version` is Atrium's ledger version: only a document at least as new replaces this one, so
    a late push of an older version never wins. `document` is the validated, normalised body:
    `{"tenant": <slug>, "products": [{"code", "status", "ends_at"}, ...]}` sorted by code."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="entitlements")
    version = models.PositiveIntegerField()
    document = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"entitlements v{self.version} of {self.tenant_id}"


# Issue 11's models live in their own modules, registered here as this app's.
from atrium_kit.models_logout import *  # noqa: E402, F403
from atrium_kit.models_policy import *  # noqa: E402, F403
