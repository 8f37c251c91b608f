"""Writes about regions: their OIDC clients at Atrium's identity provider."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from allauth.idp.oidc.models import Client
from django.contrib.auth.hashers import make_password
from django.core.management.utils import get_random_secret_key
from django.db import transaction

from regions.models import Region

REGION_LOGIN_SCOPES = ["openid", "email", "profile"]


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
    client.set_scopes(REGION_LOGIN_SCOPES)
    client.set_default_scopes(REGION_LOGIN_SCOPES)
    client.grant_types = "\n".join([Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN])
    client.response_types = "code"
    client.set_redirect_uris([region.oidc_redirect_uri])
    client.set_post_logout_redirect_uris([region.people_url.rstrip("/") + "/"])
    rotate = _save_with_secret(client, secret_file, mint=created or not secret_file.exists())
    return RegisteredClient(region.code, client.id, secret_file, rotate)


PROVISIONER_SCOPES = ["scim", "tenant", "logout"]


def provisioner_secret_file(*, secrets_dir: Path) -> Path:
    return secrets_dir / "atrium-provisioner.json"


@transaction.atomic
def provisioner_client_register(*, client_id: str, secrets_dir: Path) -> RegisteredClient:
    """The worker's client-credentials client. It alone may ask for the regions' machine URLs
    as token audience (RFC 8707 `resource`); the list follows the configured regions."""
    secret_file = provisioner_secret_file(secrets_dir=secrets_dir)
    client, created = Client.objects.get_or_create(id=client_id, defaults={"name": "Atrium provisioner"})
    client.type = Client.Type.CONFIDENTIAL
    client.grant_types = Client.GrantType.CLIENT_CREDENTIALS
    client.set_scopes(PROVISIONER_SCOPES)
    client.set_default_scopes(["scim"])
    client.set_redirect_uris([])
    client.data = {
        **(client.data or {}),
        "allowed_resources": [r.machine_url.rstrip("/") for r in Region.objects.order_by("code")],
    }
    rotate = _save_with_secret(client, secret_file, mint=created or not secret_file.exists())
    return RegisteredClient("*", client.id, secret_file, rotate)


def _save_with_secret(client: Client, secret_file: Path, *, mint: bool) -> bool:
    """Save the client; mint a secret first when asked (only its hash is stored, so a secret
    whose file is gone cannot be recovered)."""
    if mint:
        secret = get_random_secret_key()
        client.secret = make_password(secret)
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
