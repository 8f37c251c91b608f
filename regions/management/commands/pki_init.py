from django.conf import settings
from django.core.management.base import BaseCommand

from regions.models import Region
from regions.pki import PkiPaths, pki_ensure


class Command(BaseCommand):
    help = (
        "Create the development CA, a server and a client certificate per region, Atrium's client "
        "certificate and the server certificate of Atrium's machine port (ATRIUM_MACHINE_URL)."
    )

    def handle(self, *args, **options):
        paths = PkiPaths(settings.ATRIUM_PKI_DIR)
        regions = [(r.code, r.machine_url) for r in Region.objects.all()]
        written = pki_ensure(paths=paths, regions=regions, machine_url=settings.ATRIUM_MACHINE_URL)
        for path in written:
            self.stdout.write(f"wrote {path}")
        self.stdout.write(f"PKI ready in {paths.root} ({len(written)} new files)")
