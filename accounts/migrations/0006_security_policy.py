# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# The policy part: the account security policy and its immutable versions.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_connected_apps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SecurityPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField(default=0)),
                ("mfa_required", models.BooleanField(default=False)),
                ("mfa_grace_days", models.PositiveSmallIntegerField(default=0)),
                ("mfa_required_since", models.DateTimeField(blank=True, null=True)),
                ("session_lifetime_minutes", models.PositiveIntegerField(blank=True, null=True)),
                ("idle_timeout_minutes", models.PositiveIntegerField(blank=True, null=True)),
                ("password_min_length", models.PositiveSmallIntegerField(default=8)),
                ("password_check_common", models.BooleanField(default=True)),
                ("password_check_similarity", models.BooleanField(default=True)),
                ("password_refuse_numeric", models.BooleanField(default=True)),
                ("allowed_email_domains", models.JSONField(blank=True, default=list)),
                ("sso_only", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="security_policy",
                        to="accounts.account",
                    ),
                ),
            ],
            options={"verbose_name_plural": "security policies"},
        ),
        migrations.CreateModel(
            name="SecurityPolicyVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("document", models.JSONField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="security_policy_versions",
                        to="accounts.account",
                    ),
                ),
                (
                    "created_by",
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
                "ordering": ["-number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "number"), name="security_policy_version_unique"
                    )
                ],
            },
        ),
    ]
