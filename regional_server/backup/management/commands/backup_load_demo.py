from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from atrium_kit.directory import TENANT_SLUG
from backup.services import backup_demo_load


class Command(BaseCommand):
    help = "Seed a tenant's demo backups (idempotent): sources and two weeks of runs, with problems to find."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The account's slug (the region's tenant).")

    def handle(self, *args, tenant: str, **options):
        # Only a slug Atrium can push (the kit's tenant slug): a row for "Acme" or "acme_eu" would
        # never be adopted by SCIM or the entitlements receiver.
        if not TENANT_SLUG.match(tenant):
            raise CommandError(
                f"{tenant!r} is not an account slug (lowercase letters, digits and inner hyphens, at most 40)"
            )
        sources = backup_demo_load(tenant_slug=tenant, now=timezone.now())
        self.stdout.write(f"Seeded {len(sources)} backup sources for tenant {tenant}.")
