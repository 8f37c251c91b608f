# Issue 11: one migration file per part, chained, so the parts' schema changes never conflict.
# Its owner puts the part's operations here (`makemigrations accounts --dry-run -v 3` prints them).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_user_sessions")]

    operations = []
