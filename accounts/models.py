import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# Slugs name tenants in every region and in URLs (`/a/<slug>/`); these would collide with
# routes, well-known paths or operator vocabulary.
RESERVED_SLUGS = frozenset(
    {
        "a", "about", "account", "accounts", "admin", "api", "app", "atrium", "auth", "billing",
        "dashboard", "docs", "help", "identity", "login", "logout", "me", "new", "null", "oidc",
        "portal", "products", "region", "regions", "root", "scim", "settings", "signup", "static",
        "status", "support", "system", "tenant", "tenants", "well-known", "www",
    }
)  # fmt: skip

slug_format = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1–40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved; choose another slug.", code="reserved")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """The one global identity. `public_id` is the OIDC `sub` and SCIM `externalId` everywhere."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Account(models.Model):
    """A customer company. Its slug names its tenant in every region and never changes."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True, validators=[slug_format, validate_slug_not_reserved])
    created_at = models.DateTimeField(default=timezone.now)
    # Closing keeps the row, so the slug (a tenant name in every region) is never reused.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored_slug = type(self).objects.filter(pk=self.pk).values_list("slug", flat=True).first()
            if stored_slug is not None and stored_slug != self.slug:
                raise ValidationError("An account's slug is immutable.", code="immutable")
        super().save(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Membership(models.Model):
    class Role(models.TextChoices):
        # What each role may do is one table: accounts/permissions.py.
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        BILLING = "billing", "Billing"
        READ_ONLY = "read_only", "Read-only"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        # Removed here, waiting for every region to confirm the deletion; then the row goes.
        REMOVING = "removing", "Removing"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    # Region access: every region the account uses (also those it adds later), or only the
    # chosen ones (`regions`, always a subset of the account's). accounts/provisioning.py
    # provisions the member exactly there.
    all_regions = models.BooleanField(default=True)
    regions = models.ManyToManyField("regions.Region", blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_user_account_unique")
        ]
        indexes = [models.Index(fields=["account", "status", "role"], name="membership_filter_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.account} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_removing(self) -> bool:
        return self.status == self.Status.REMOVING


class Group(models.Model):
    """An account group ("Backup operators"); pushed to every region the account uses as a SCIM
    Group whose `externalId` is `public_id`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(Membership, through="GroupMember", related_name="member_groups")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("account", Lower("name"), name="group_account_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="links")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="group_links")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "membership"], name="group_member_unique")]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.group_id}"


class Invitation(models.Model):
    """An invitation to join an account. The link carries a secret key; only its SHA-256 is
    stored (`key_hash`), so a database reader cannot accept invitations."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    all_regions = models.BooleanField(default=True)
    regions = models.ManyToManyField("regions.Region", blank=True, related_name="+")
    groups = models.ManyToManyField(Group, blank=True, related_name="invitations")
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One pending invitation per person and account (resend instead of a second one).
            models.UniqueConstraint(
                "account",
                Lower("email"),
                condition=models.Q(status="pending"),
                name="invitation_pending_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.account} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= timezone.now()


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are immutable.")

    def delete(self):
        raise TypeError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One change, by whom, when, from where, on what, before -> after. Written in the
    transaction of the change (accounts/audit.py); never edited or deleted by the app."""

    # PROTECT: accounts close, they are never deleted, and their log is kept.
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # No database constraint: the row outlives the actor's identity (actor_email keeps who it was).
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    # The person a personal security event (account=None: sign-ins, failures, MFA) concerns, so
    # the audit page of each account they belong to can show it (accounts/security_events.py).
    subject = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="audit_account_time_idx"),
            models.Index(fields=["account", "action"], name="audit_account_action_idx"),
            models.Index(fields=["subject", "-created_at"], name="audit_subject_time_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are never deleted.")


class ConnectedApp(models.Model):
    """A third-party SaaS app (a wiki, a chat) that signs people in with Atrium: registered by
    staff as an OIDC client (`client`, created by accounts.connected_apps.connected_app_register),
    opened from the portal's app launcher at `launch_url`. Atrium signs a person in to it only when
    one of their accounts has enabled it for them (`AppEnablement`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    # A short text or emoji, or a path under static/ (as products' icons).
    icon = models.CharField(max_length=200, blank=True)
    launch_url = models.URLField(max_length=500)
    client = models.OneToOneField(
        "allauth_idp_oidc.Client", on_delete=models.CASCADE, related_name="connected_app"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def icon_is_static(self) -> bool:
        return "/" in self.icon or self.icon.endswith((".svg", ".png", ".jpg", ".webp"))


class AppEnablement(models.Model):
    """An account uses a connected app, for every member or for members of chosen groups.
    Disabling deletes the row (the audit log keeps the history)."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Every member"
        GROUPS = "groups", "Members of chosen groups"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="app_enablements")
    app = models.ForeignKey(ConnectedApp, on_delete=models.CASCADE, related_name="enablements")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    groups = models.ManyToManyField(Group, blank=True, related_name="app_enablements")
    enabled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["app__name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "app"], name="app_enablement_account_app_unique")
        ]

    def __str__(self) -> str:
        return f"{self.app} for {self.account} ({self.audience})"


# Issue 11's models live in their own modules (one per part), registered here as this app's.
from accounts.models_security import *  # noqa: E402, F403
from accounts.models_sessions import *  # noqa: E402, F403
from accounts.models_sso import *  # noqa: E402, F403
