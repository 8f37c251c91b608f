from django.core.management.base import BaseCommand, CommandError

from regions import client
from regions.models import Region


class Command(BaseCommand):
    help = "Print a machine token for a region (client credentials; aud = its machine URL)."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="Region code, e.g. eu")
        parser.add_argument("--scope", default="scim", help="scim, tenant or logout")

    def handle(self, *args, region: str, scope: str, **options):
        target = Region.objects.filter(code=region).first()
        if target is None:
            known = ", ".join(Region.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"Unknown region {region!r} (known: {known})")
        try:
            token = client.m2m_token(audience=target.machine_url, scope=scope, fresh=True)
        except client.RegionError as exc:
            raise CommandError(exc.detail) from exc
        self.stderr.write(f"aud={target.machine_url} scope={scope}")
        self.stdout.write(token)
