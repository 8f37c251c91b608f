"""Writes about regions: their OIDC clients at Atrium's identity provider."""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from allauth.idp.oidc.models import Client, Token
from django.conf import settings
from django.core.management.utils import get_random_secret_key
from django.db import transaction

from regions.models import Region

REGION_LOGIN_SCOPES = ["openid", "email", "profile"]
# The region's services read their tenants' users and groups from Atrium's machine port
# (accounts/directory.py) with a client-credentials token of the same client.
DIRECTORY_SCOPE = "directory:read"


@dataclass(frozen=True)
class RegisteredClient:
    region_code: str
    client_id: str
    secret_file: Path
    secret_rotated: bool


def region_client_secret_file(*, secrets_dir: Path, region: Region) -> Path:
    return secrets_dir / f"region-{region.code}.json"


@transaction.atomic
def region_oidc_client_register(*, region: Region, secrets_dir: Path) -> RegisteredClient:
    """Create or update the region's login client; idempotent.

    The secret is only stored hashed, so a new one is minted when the client is new or its
    secret file is gone; otherwise the existing secret stays valid.
    """
    secret_file = region_client_secret_file(secrets_dir=secrets_dir, region=region)
    client, created = Client.objects.get_or_create(
        id=region.oidc_client_id, defaults={"name": f"Region {region.name}"}
    )
    client.name = f"Region {region.name}"
    client.type = Client.Type.CONFIDENTIAL
    client.skip_consent = True
    client.set_scopes([*REGION_LOGIN_SCOPES, DIRECTORY_SCOPE])
    client.set_default_scopes(REGION_LOGIN_SCOPES)
    # No refresh_token grant: a region keeps its own session after login and never refreshes
    # (mozilla-django-oidc re-runs the code flow, prompt=none, when it wants a fresh check), so a
    # refresh token would only be a 30-day credential sitting in the region's session store.
    # Client credentials: the region's own M2M token for Atrium's directory API.
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.CLIENT_CREDENTIALS])
    # Its one audience: Atrium's machine URL, read when a token is asked for
    # (accounts.oidc.allowed_resources), and only by client credentials: a person's login
    # through this client never yields a token the machine port accepts.
    data = {**(client.data or {}), "atrium_machine_audience": True}
    data.pop("allowed_resources", None)
    data.pop("region_machine_audiences", None)
    client.data = data
    client.response_types = "code"
    client.set_redirect_uris([region.oidc_redirect_uri])
    client.set_post_logout_redirect_uris([region.people_url.rstrip("/") + "/"])
    rotate = _save_with_secret(client, secret_file, mint=created or not secret_file.exists())
    # Refresh tokens issued while login clients still had that grant can never be used again.
    Token.objects.filter(client=client, type=Token.Type.REFRESH_TOKEN).delete()
    return RegisteredClient(region.code, client.id, secret_file, rotate)


PROVISIONER_SCOPES = ["scim", "tenant", "logout"]


def provisioner_secret_file(*, secrets_dir: Path) -> Path:
    return secrets_dir / "atrium-provisioner.json"


@transaction.atomic
def provisioner_client_register(*, client_id: str, secrets_dir: Path) -> RegisteredClient:
    """The worker's client-credentials client. It alone may ask for the regions' machine URLs
    as token audience (RFC 8707 `resource`): whichever regions are configured when it asks
    (accounts.oidc.allowed_resources), so adding a region needs no re-registration."""
    secret_file = provisioner_secret_file(secrets_dir=secrets_dir)
    client, created = Client.objects.get_or_create(id=client_id, defaults={"name": "Atrium provisioner"})
    client.type = Client.Type.CONFIDENTIAL
    client.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    client.set_scopes(PROVISIONER_SCOPES)
    client.set_default_scopes(["scim"])
    client.set_redirect_uris([])
    data = {**(client.data or {}), "region_machine_audiences": True}
    data.pop("allowed_resources", None)  # the fixed list earlier versions wrote
    client.data = data
    rotate = _save_with_secret(client, secret_file, mint=created or not secret_file.exists())
    return RegisteredClient("*", client.id, secret_file, rotate)


def oidc_client_secret_file(*, secrets_dir: Path, client: Client) -> Path:
    """Where a client's secret is written: the file its consumer reads (a region's login client,
    the provisioner), else `<client id>.json`."""
    region = next((r for r in Region.objects.all() if r.oidc_client_id == client.id), None)
    if region is not None:
        return region_client_secret_file(secrets_dir=secrets_dir, region=region)
    if client.id == settings.ATRIUM_M2M_CLIENT_ID:
        return provisioner_secret_file(secrets_dir=secrets_dir)
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", client.id):
        raise ValueError(f"Client id {client.id!r} cannot name a secret file")
    return secrets_dir / f"{client.id}.json"


@transaction.atomic
def oidc_client_secret_rotate(*, client_id: str, secrets_dir: Path) -> RegisteredClient:
    """Mint a new secret for an existing client and write it where its consumer reads it; the old
    secret stops working at once. A region reads its secret file when it starts: restart it."""
    client = Client.objects.select_for_update().get(id=client_id)
    secret_file = oidc_client_secret_file(secrets_dir=secrets_dir, client=client)
    _save_with_secret(client, secret_file, mint=True)
    return RegisteredClient("*", client.id, secret_file, True)


def _save_with_secret(client: Client, secret_file: Path, *, mint: bool) -> bool:
    """Save the client; mint a secret first when asked (only its keyed hash is stored, through
    `Client.set_secret`, so a secret whose file is gone cannot be recovered)."""
    if mint:
        secret = get_random_secret_key()
        client.set_secret(secret)
        _write_secret_file(secret_file, {"client_id": client.id, "client_secret": secret})
    client.save()
    return mint


def _write_secret_file(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh)
    tmp.replace(path)
