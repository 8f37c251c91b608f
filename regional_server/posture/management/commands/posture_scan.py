from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from atrium_kit.models import Tenant
from posture.services import posture_scan


class Command(BaseCommand):
    help = "Scan a tenant's Backup & Recovery data in this region now and update its alerts."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The account's slug (the region's tenant).")

    def handle(self, *args, tenant: str, **options):
        row = Tenant.objects.filter(slug=tenant).first()
        if row is None:
            raise CommandError(f"No tenant {tenant!r} in this region")
        scan = posture_scan(tenant=row, now=timezone.now())
        if scan.skipped:
            self.stdout.write(f"Nothing scanned: {scan.skipped}")
        else:
            self.stdout.write(
                f"Scanned {tenant}: {scan.findings} problem(s), {scan.opened} new, {scan.resolved} resolved."
            )
