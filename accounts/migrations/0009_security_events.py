# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# Hardening: the person a personal security event concerns (accounts/security_events.py).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_customer_sso")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="subject",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["subject", "-created_at"], name="audit_subject_time_idx"),
        ),
    ]
