from django.conf import settings
from django.core.management.base import BaseCommand

from regions.models import Region
from regions.services import provisioner_client_register, region_oidc_client_register


class Command(BaseCommand):
    help = "Register (idempotently) the OIDC login client of every configured region; write secrets."

    def handle(self, *args, **options):
        regions = list(Region.objects.all())
        if not regions:
            self.stdout.write("No regions configured: add them in Django admin or run load_demo.")
        for region in regions:
            result = region_oidc_client_register(region=region, secrets_dir=settings.ATRIUM_SECRETS_DIR)
            what = "new secret written to" if result.secret_rotated else "secret kept in"
            self.stdout.write(f"{region.code}: client {result.client_id}, {what} {result.secret_file}")
        result = provisioner_client_register(
            client_id=settings.ATRIUM_M2M_CLIENT_ID, secrets_dir=settings.ATRIUM_SECRETS_DIR
        )
        what = "new secret written to" if result.secret_rotated else "secret kept in"
        self.stdout.write(f"provisioner: client {result.client_id}, {what} {result.secret_file}")
