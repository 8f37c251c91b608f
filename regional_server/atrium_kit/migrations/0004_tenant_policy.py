# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# Its owner puts the part's operations here (`makemigrations tenants --dry-run -v 3` prints them).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_tenant_entitlements")]

    operations = []
