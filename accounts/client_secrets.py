"""OIDC client secrets: stored as a keyed hash (HMAC-SHA-256), checked in constant time.

Client secrets are 256-bit random values minted by us, so a slow password hasher adds nothing but
CPU (about 0.24 s per token request with PBKDF2): nobody can guess such a secret, and a stolen
database row is useless without the server-side key. Stored form: `hmac-sha256$<64 hex>`.

The key is `settings.ATRIUM_CLIENT_SECRET_KEY`; unset, one is derived from SECRET_KEY under a salt
used for nothing else. Changing the key (or SECRET_KEY while the key is unset) invalidates every
client secret: rotate them with `manage.py oidc_client_secret_rotate`.

allauth.idp.oidc checks secrets through `Client.check_secret` and sets them through
`Client.set_secret` (admin, dynamic registration); it offers no adapter hook for either, so
`install()` (called once from `AccountsConfig.ready`) replaces those two model methods. Every
place that sets a secret (our services, the admin, tests) goes through `Client.set_secret`, which
stores `client_secret_hash(secret)`. Secrets still stored with a password hasher are upgraded the
first time they are presented correctly.
"""

import hmac

from allauth.idp.oidc.models import Client
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils.crypto import salted_hmac

PREFIX = "hmac-sha256$"
_KEY_SALT = "atrium.accounts.client_secrets"


def client_secret_hash(secret: str) -> str:
    key = settings.ATRIUM_CLIENT_SECRET_KEY or settings.SECRET_KEY
    return PREFIX + salted_hmac(_KEY_SALT, secret, secret=key, algorithm="sha256").hexdigest()


def client_secret_matches(secret: str, stored: str) -> bool:
    """Only for hashes in our own format (see `check_client_secret` for the legacy ones)."""
    return hmac.compare_digest(client_secret_hash(secret), stored)


def check_client_secret(client: Client, secret) -> bool:
    if not isinstance(secret, str) or not secret or not client.secret:
        return False
    if client.secret.startswith(PREFIX):
        return client_secret_matches(secret, client.secret)
    # Stored by the password hasher (before this module, or by allauth's own model default):
    # verify the slow way once, then store the keyed hash.
    if not check_password(secret, client.secret):
        return False
    legacy, client.secret = client.secret, client_secret_hash(secret)
    if client.pk:
        Client.objects.filter(pk=client.pk, secret=legacy).update(secret=client.secret)
    return True


def _set_secret(self: Client, secret: str) -> None:
    self.secret = client_secret_hash(secret)


def _check_secret(self: Client, secret: str) -> bool:
    return check_client_secret(self, secret)


def install() -> None:
    Client.set_secret = _set_secret
    Client.check_secret = _check_secret
