"""Small helpers for tests of Atrium's OIDC provider (token and authorization endpoints)."""

import base64
import json
from urllib.parse import parse_qs, urlparse

import jwt
from allauth.idp.oidc.models import Client

from conftest import make_region, pkce_pair
from regions.services import provisioner_client_register, region_oidc_client_register

TOKEN_URL = "/identity/o/api/token"
AUTHORIZE_URL = "/identity/o/authorize"


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def region_with_login_client(code: str, tmp_path, people_port: int, machine_port: int):
    """A region and its login client (as `regions_register_clients` makes it), secret attached."""
    region = make_region(code, people_port=people_port, machine_port=machine_port)
    registered = region_oidc_client_register(region=region, secrets_dir=tmp_path)
    region.secret = json.loads(registered.secret_file.read_text())["client_secret"]
    return region


def provisioner(client_id: str, tmp_path) -> tuple[Client, str]:
    registered = provisioner_client_register(client_id=client_id, secrets_dir=tmp_path)
    return Client.objects.get(id=client_id), json.loads(registered.secret_file.read_text())["client_secret"]


def confidential_client(
    client_id: str,
    secret: str,
    *,
    grant_types: list[str],
    scopes: list[str],
    redirect_uris: list[str] = (),
    allowed_resources: list[str] | None = None,
) -> Client:
    client = Client(id=client_id, name=client_id, type=Client.Type.CONFIDENTIAL, skip_consent=True)
    client.set_secret(secret)
    client.set_grant_types(grant_types)
    client.set_scopes(scopes)
    client.set_redirect_uris(list(redirect_uris))
    if allowed_resources is not None:
        client.data = {"allowed_resources": allowed_resources}
    client.save()
    return client


def authorize(client, client_id: str, redirect_uri: str, *, challenge: str, scope="openid email", **extra):
    return client.get(
        AUTHORIZE_URL,
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "state-1",
            "nonce": "nonce-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        },
    )


def code_flow_tokens(client, user, oidc_client_id: str, secret: str, redirect_uri: str, **token_extra):
    """Sign `user` in, run an authorization-code flow for the client, return the token response."""
    client.force_login(user)
    verifier, challenge = pkce_pair()
    response = authorize(client, oidc_client_id, redirect_uri, challenge=challenge)
    assert response.status_code == 302, response.content[:300]
    code = query_of(response)["code"]
    return client.post(
        TOKEN_URL,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
         "code_verifier": verifier, **token_extra},
        HTTP_AUTHORIZATION=basic_auth(oidc_client_id, secret),
    )  # fmt: skip


def query_of(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}


def unverified_claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})
