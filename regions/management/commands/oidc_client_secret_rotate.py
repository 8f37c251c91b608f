from pathlib import Path

from allauth.idp.oidc.models import Client
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.core.management.base import BaseCommand, CommandError

from regions.services import oidc_client_secret_rotate


class Command(BaseCommand):
    help = (
        "Give an OIDC client a new secret (stored as a keyed hash) and write it to its secret file "
        "(a region's login client: region-<code>.json, the provisioner: atrium-provisioner.json, "
        "else <client id>.json). The old secret stops working at once: restart what reads the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("client_ids", nargs="*", metavar="CLIENT_ID")
        parser.add_argument(
            "--legacy",
            action="store_true",
            help="Rotate every client whose secret is still stored with the password hasher.",
        )
        parser.add_argument("--secrets-dir", default=str(settings.ATRIUM_SECRETS_DIR))

    def handle(self, *args, client_ids: list[str], legacy: bool, secrets_dir: str, **options):
        ids = list(client_ids)
        if legacy:
            ids += [c.id for c in Client.objects.order_by("id") if _hashed_like_a_password(c.secret)]
        if not ids:
            raise CommandError("Name the client ids to rotate, or pass --legacy.")
        for client_id in dict.fromkeys(ids):
            try:
                result = oidc_client_secret_rotate(client_id=client_id, secrets_dir=Path(secrets_dir))
            except Client.DoesNotExist:
                raise CommandError(f"Unknown OIDC client {client_id!r}") from None
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{result.client_id}: new secret written to {result.secret_file}")


def _hashed_like_a_password(stored: str) -> bool:
    """Stored by a password hasher (before client secrets became keyed hashes)."""
    try:
        identify_hasher(stored)
    except ValueError:
        return False
    return True
