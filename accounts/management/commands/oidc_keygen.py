import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create Atrium's RS256 OIDC signing key (kept if it exists; never committed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Replace an existing key.")

    def handle(self, *args, force: bool = False, **options):
        path = settings.OIDC_SIGNING_KEY_FILE
        if path.exists() and not force:
            path.chmod(0o600)  # a key written before keys were owner-only
            self.stdout.write(f"Signing key kept: {path}")
            return
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # The key signs every token Atrium issues: its folder and file are the owner's alone.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # O_CREAT's mode does not apply to a file replaced in place
            fh.write(pem)
        self.stdout.write(f"Signing key written: {path}")
