"""Helpers for the tests of OpenID Connect as the spec says (issue 11): a relying party with the
code and refresh grants, signing in through the real login form, codes and tokens."""

from urllib.parse import parse_qs, urlencode, urlparse

from allauth.idp.oidc.models import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.oidc_helpers import AUTHORIZE_URL, TOKEN_URL, basic_auth, confidential_client
from conftest import PASSWORD, pkce_pair

RP_ID = "rp-spec"
RP_SECRET = "rp-spec-secret-0123456789"
REDIRECT = "https://rp.test/callback"
USERINFO_URL = "/identity/o/api/userinfo"


def rp_client() -> Client:
    """Our relying party: a confidential client with the code (PKCE) and refresh grants."""
    return confidential_client(
        RP_ID, RP_SECRET,
        grant_types=[Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN],
        scopes=["openid", "email", "profile", "atrium:api"], redirect_uris=[REDIRECT],
    )  # fmt: skip


def password_login(client, email: str, password: str = PASSWORD) -> None:
    """Sign in through allauth's login form, as a person does (allauth records the password)."""
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content[:500]
    assert "/accounts/login/" not in response["Location"]


def authorize_params(challenge: str, **extra) -> dict:
    return {
        "response_type": "code", "client_id": RP_ID, "redirect_uri": REDIRECT, "scope": "openid email profile",
        "state": "st-1", "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256", **extra,
    }  # fmt: skip


def authorize_url(challenge: str, **extra) -> str:
    return f"{AUTHORIZE_URL}?{urlencode(authorize_params(challenge, **extra))}"


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def code_of(response) -> str:
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(REDIRECT), response["Location"]
    return query_of(response["Location"])["code"]


def exchange(client, code: str, verifier: str):
    return client.post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(RP_ID, RP_SECRET),
    )


def refresh(client, refresh_token: str):
    return client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic_auth(RP_ID, RP_SECRET),
    )


def code_flow(client, **extra) -> tuple[str, str]:
    """An authorize request of the signed-in session: (code, PKCE verifier)."""
    verifier, challenge = pkce_pair()
    return code_of(client.get(authorize_url(challenge, **extra))), verifier


def tokens(client, **extra) -> dict:
    code, verifier = code_flow(client, **extra)
    response = exchange(client, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def userinfo(client, access_token: str):
    return client.get(USERINFO_URL, HTTP_AUTHORIZATION=f"Bearer {access_token}")


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def mark_session_verified(client, device) -> None:
    """django-otp's own record of a session that passed MFA (what `django_otp.login` writes)."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def set_session(client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()
