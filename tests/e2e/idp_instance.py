"""A second Atrium portal acting as a customer's OpenID Connect IdP (tests/e2e/test_customer_sso.py).

Its own gunicorn process on its own port, its own PostgreSQL database (`<test db>_idp`), its own
signing key, secret key and issuer. It runs on `localhost` while the Atrium under test runs on
`127.0.0.1`: browsers keep cookies per host (not per port), and both portals name their cookies
alike, so two host names keep the two sessions apart exactly as two real domains would."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection

from tests.e2e.conftest import free_port, stop_process, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RP_CLIENT_ID = "atrium-under-test"
RP_CLIENT_SECRET = "idp-client-secret-0123456789abcdef"
IDP_PASSWORD = "idp-person-password-2026"

# Runs inside the IdP's own Django: its people and the client registered for the Atrium under test.
_SETUP = """
import sys
from allauth.idp.oidc.models import Client
from accounts.client_secrets import client_secret_hash
from accounts.services import user_create
redirect_uri, client_id, secret, password, *emails = sys.argv[1:]
for email in emails:
    user_create(email=email, password=password, first_name=email.split("@")[0].title(), email_verified=True)
client = Client(id=client_id, name="Atrium (relying party)", type=Client.Type.CONFIDENTIAL, skip_consent=True)
client.set_scopes(["openid", "email", "profile"])
client.set_default_scopes(["openid", "email", "profile"])
client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
client.response_types = "code"
client.set_redirect_uris([redirect_uri])
client.secret = client_secret_hash(secret)
client.save()
"""


@dataclass
class IdpInstance:
    url: str
    env: dict
    process: subprocess.Popen
    log_file: Path

    def log_tail(self) -> str:
        return self.log_file.read_text()[-4000:]


def _admin_dsn() -> tuple[str, str]:
    db = connection.settings_dict
    base = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']}"
    return base, f"{db['NAME']}_idp"


def _database_create() -> str:
    base, name = _admin_dsn()
    with psycopg.connect(f"{base} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _database_drop() -> None:
    base, name = _admin_dsn()
    with psycopg.connect(f"{base} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def idp_start(*, run_dir: Path, redirect_uri: str, people: list[str]) -> IdpInstance:
    """Create the IdP's database, migrate it, register `people` (password IDP_PASSWORD) and the
    client for the Atrium under test, and start it under gunicorn."""
    port = free_port()
    url = f"http://localhost:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = run_dir / "idp-signing.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    broker = run_dir / "broker"
    for folder in ("queue", "processed", "control", "staging"):
        (broker / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_create(),
        "ATRIUM_SECRET_KEY": "test-only-second-atrium-idp-secret-key-0123456789",
        "ATRIUM_ISSUER": url,
        "ATRIUM_OIDC_KEY_FILE": str(key_file),
        "ATRIUM_RUN_DIR": str(run_dir),
        # Its own cache (codes live there) and a broker nobody consumes: nothing it does may
        # reach the worker of the Atrium under test.
        "ATRIUM_CACHE_URL": "db://idp_cache",
        "CELERY_BROKER_URL": "filesystem://",
        "ATRIUM_BROKER_DIR": str(broker),
        "ATRIUM_DNS_RESOLVER": "",
    }
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "createcachetable")
    _manage(env, "shell", "-c", f"import sys; sys.argv = ['setup', *{[redirect_uri, RP_CLIENT_ID, RP_CLIENT_SECRET, IDP_PASSWORD, *people]!r}]\n{_SETUP}")  # fmt: skip
    log_file = run_dir / "idp.log"
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "4", "--no-control-socket", "--graceful-timeout", "1"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(log_file, "a"), stderr=subprocess.STDOUT,  # noqa: SIM115 - lives with the process
    )  # fmt: skip
    instance = IdpInstance(url, env, process, log_file)
    try:
        wait_until_up(lambda: httpx.get(f"{url}/.well-known/openid-configuration", timeout=2), process, 60)
    except RuntimeError as exc:
        stop_process(process)
        raise RuntimeError(f"the second Atrium did not start: {exc}\n{instance.log_tail()}") from exc
    return instance


def idp_stop(instance: IdpInstance) -> None:
    stop_process(instance.process)
    _database_drop()


@dataclass
class DnsProcess:
    address: str
    process: subprocess.Popen


def dns_start(*, records: dict[str, str], run_dir: Path) -> DnsProcess:
    """A local DNS server process (dnslib) serving TXT `records` on a free UDP port."""
    import dns.resolver

    from accounts.tests.sso_helpers import free_udp_port

    port = free_udp_port()
    args = [sys.executable, "-m", "accounts.tests.sso_helpers", str(port)]
    args += [f"{name}={value}" for name, value in records.items()]
    log = open(run_dir / "dns.log", "a")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(args, cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 0.5

    class _Up:
        status_code = 200

    def probe():
        try:
            resolver.resolve("probe.invalid", "TXT")
        except dns.resolver.NXDOMAIN:
            return _Up()  # it answered
        except dns.exception.DNSException:
            raise httpx.TransportError("not yet") from None
        return _Up()

    wait_until_up(probe, process, 20)
    return DnsProcess(f"127.0.0.1:{port}", process)
