# Issue 11 (sessions): logout tokens already used, so a replayed one is refused.
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_tenant_policy")]

    operations = [
        migrations.CreateModel(
            name="LogoutTokenUse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("jti", models.CharField(max_length=255, unique=True)),
                ("used_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("keep_until", models.DateTimeField(db_index=True)),
            ],
        ),
    ]
