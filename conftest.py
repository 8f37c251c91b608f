"""Shared fixtures: fixed personas (alice owns Acme, bob is on her team, carol owns Globex),
an in-memory OIDC signing key, and OIDC helpers. Real PostgreSQL and Redis under `make test`."""

import base64
import hashlib
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from accounts.models import Membership
from accounts.services import account_create, membership_add, user_create

PASSWORD = "correct-horse-battery-2026"


@pytest.fixture(scope="session", autouse=True)
def oidc_signing_key():
    """A fresh RS256 key per test session; never a file on disk."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    previous = settings.IDP_OIDC_PRIVATE_KEY
    settings.IDP_OIDC_PRIVATE_KEY = pem
    yield pem
    settings.IDP_OIDC_PRIVATE_KEY = previous


@pytest.fixture(autouse=True)
def _clear_cache():
    # Authorization codes and rate limits live in the shared cache (Redis under `make test`).
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def dead_broker():
    """Celery pointed at a port where no broker listens (enqueueing fails at once)."""
    from portal.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app._pool = None
    yield
    app.conf.broker_url = previous
    app._pool = None


def make_user(email: str, first_name: str = "", last_name: str = ""):
    return user_create(
        email=email, password=PASSWORD, first_name=first_name, last_name=last_name, email_verified=True
    )


@pytest.fixture
def alice(db):
    return make_user("alice@acme.test", "Alice", "Anders")


@pytest.fixture
def bob(db):
    return make_user("bob@acme.test", "Bob", "Brown")


@pytest.fixture
def carol(db):
    return make_user("carol@globex.test", "Carol", "Chen")


@pytest.fixture
def acme(alice, bob):
    account = account_create(name="Acme", slug="acme", owner=alice)
    membership_add(account=account, user=bob, role=Membership.Role.MEMBER)
    return account


@pytest.fixture
def owner(acme, alice):
    """Alice's membership of Acme (the owner)."""
    return Membership.objects.get(account=acme, user=alice)


@pytest.fixture
def bob_m(acme, bob):
    """Bob's membership of Acme (a member)."""
    return Membership.objects.get(account=acme, user=bob)


@pytest.fixture
def globex(carol):
    return account_create(name="Globex", slug="globex", owner=carol)


def make_region(code: str, people_port: int = 8102, machine_port: int = 9102):
    from regions.models import Region

    return Region.objects.create(
        code=code,
        name=code.upper(),
        people_url=f"http://127.0.0.1:{people_port}",
        machine_url=f"https://127.0.0.1:{machine_port}",
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge
