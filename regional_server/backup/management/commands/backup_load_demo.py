from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.utils import timezone

from backup.services import backup_demo_load


class Command(BaseCommand):
    help = "Seed a tenant's demo backups (idempotent): sources and two weeks of runs, with problems to find."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The account's slug (the region's tenant).")

    def handle(self, *args, tenant: str, **options):
        try:
            validate_slug(tenant)
        except ValidationError:
            raise CommandError(f"{tenant!r} is not an account slug") from None
        if len(tenant) > 40:
            raise CommandError("An account slug has at most 40 characters")
        sources = backup_demo_load(tenant_slug=tenant, now=timezone.now())
        self.stdout.write(f"Seeded {len(sources)} backup sources for tenant {tenant}.")
