# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# Customer SSO (accounts/models_sso.py): claimed domains and each account's OIDC connection.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_sessions"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SSOConnection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("issuer", models.URLField(max_length=500)),
                ("client_id", models.CharField(max_length=191)),
                ("trust_idp_mfa", models.BooleanField(default=False)),
                (
                    "default_role",
                    models.CharField(
                        choices=[
                            ("owner", "Owner"),
                            ("admin", "Admin"),
                            ("member", "Member"),
                            ("billing", "Billing"),
                            ("read_only", "Read-only"),
                        ],
                        default="member",
                        max_length=20,
                    ),
                ),
                ("enabled", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sso_connection",
                        to="accounts.account",
                    ),
                ),
                (
                    "app",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="socialaccount.socialapp",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ClaimedDomain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("domain", models.CharField(max_length=253)),
                ("verification_token", models.CharField(max_length=64)),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("verified", "Verified")],
                        default="pending",
                        max_length=10,
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        blank=True,
                        choices=[("dns", "DNS TXT record"), ("staff", "Approved by Atrium staff")],
                        max_length=10,
                    ),
                ),
                ("verified_at", models.DateTimeField(blank=True, null=True)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_check_error", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="claimed_domains",
                        to="accounts.account",
                    ),
                ),
                (
                    "verified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["domain"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "domain"), name="claimed_domain_account_unique"
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status", "verified")),
                        fields=("domain",),
                        name="claimed_domain_verified_once",
                    ),
                ],
            },
        ),
    ]
