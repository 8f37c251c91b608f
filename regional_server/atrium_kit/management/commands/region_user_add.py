import uuid

from django.core.management.base import BaseCommand, CommandError

from atrium_kit.services import user_upsert_local


class Command(BaseCommand):
    help = "Create or update a user of a tenant in this region (operators; SCIM does this for Atrium)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Account slug")
        parser.add_argument("--external-id", required=True, help="Atrium public user UUID (OIDC sub)")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--inactive", action="store_true")

    def handle(self, *args, **o):
        try:
            external_id = str(uuid.UUID(o["external_id"]))
        except ValueError:
            raise CommandError("--external-id must be a UUID") from None
        user = user_upsert_local(
            tenant_slug=o["tenant"],
            external_id=external_id,
            email=o["email"],
            first_name=o["first_name"],
            last_name=o["last_name"],
            active=not o["inactive"],
        )
        self.stdout.write(f"{user.tenant.slug}: {user.email} ({external_id}) active={user.is_active}")
