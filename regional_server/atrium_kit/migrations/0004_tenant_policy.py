# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# The policy part: the security policy document Atrium pushed for each tenant.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_tenant_entitlements")]

    operations = [
        migrations.CreateModel(
            name="TenantPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("document", models.JSONField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="policy",
                        to="tenants.tenant",
                    ),
                ),
            ],
        ),
    ]
