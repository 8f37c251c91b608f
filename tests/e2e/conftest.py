"""Real processes around the portal (pytest-django's live server, on the test PostgreSQL):

- per region a people listener and a machine listener (gunicorn, mutual TLS, own SQLite),
- a Celery worker and beat on Redis, on the same test database,
- Atrium's own machine listener (`atrium_machine`: gunicorn, ATRIUM_LISTENER=machine, mutual TLS,
  the directory API) on the same test database; every region is started knowing its URL
  (ATRIUM_MACHINE_URL) and its own client certificate (REGION_TLS_*), the listener itself only
  when a test asks for it.

Started once per session. Portal rows they rely on (regions, OIDC clients with fixed secrets)
are recreated per test because transactional tests truncate every table; each region's database
is flushed per test."""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.db import connection

from accounts.client_secrets import client_secret_hash
from accounts.services import account_region_add
from regions import client as region_client
from regions.models import ProvisioningRecord, Region
from regions.pki import PkiPaths, pki_ensure
from regions.services import provisioner_client_register, region_oidc_client_register

ROOT = Path(__file__).resolve().parents[2]
REGIONAL_SERVER_DIR = ROOT / "regional_server"
BIN = Path(sys.executable).parent
REGION_SPECS = [("us", "United States"), ("eu", "European Union")]
M2M_SECRET = "test-provisioner-secret-0123456789"


@dataclass
class RegionProcess:
    code: str
    name: str
    people_url: str
    machine_url: str
    secret: str
    env: dict
    run_dir: Path
    pki: PkiPaths
    processes: dict = field(default_factory=dict)

    def manage(self, *args: str) -> str:
        """Run the regional server's own management command against its database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REGIONAL_SERVER_DIR, env=self.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, listener: str) -> None:
        url = self.people_url if listener == "people" else self.machine_url
        args = [str(BIN / "gunicorn"), "region.wsgi", "--bind", url.split("://", 1)[1],
                "--worker-class", "gthread", "--threads", "4", "--no-control-socket", "--graceful-timeout", "1"]  # fmt: skip
        if listener == "machine":
            args += ["--certfile", str(self.pki.server_cert(self.code)), "--keyfile", str(self.pki.server_key(self.code)),
                     "--ca-certs", str(self.pki.ca_cert), "--cert-reqs", "2", "--do-handshake-on-connect"]  # fmt: skip
        log = open(self.run_dir / f"{listener}.log", "a")  # noqa: SIM115 - lives with the process
        self.processes[listener] = subprocess.Popen(
            args, cwd=REGIONAL_SERVER_DIR, env={**self.env, "REGION_LISTENER": listener},
            start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        if listener == "people":
            wait_until_up(lambda: httpx.get(url + "/healthz", timeout=1), self.processes[listener])
        else:
            wait_until_up(lambda: machine_http(self).get("/healthz"), self.processes[listener])

    def stop(self, listener: str) -> None:
        stop_process(self.processes.pop(listener))


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def machine_http(region: RegionProcess, **kwargs) -> httpx.Client:
    """An mTLS client like the worker's (Atrium's client certificate, our CA)."""
    return httpx.Client(base_url=region.machine_url, verify=region_client.tls_context(), timeout=5, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(probe, process: subprocess.Popen, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            if probe().status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not up within {deadline_s}s")


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return PkiPaths(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def atrium_machine_url():
    """Where Atrium's machine listener runs (fixed before any region starts: they are told)."""
    return f"https://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def region_processes(live_server, pki, tmp_path_factory, atrium_machine_url):
    overrides = {
        "ATRIUM_ISSUER": live_server.url,
        "ATRIUM_MACHINE_URL": atrium_machine_url,
        "ATRIUM_TLS_CA_FILE": pki.ca_cert,
        "ATRIUM_TLS_CLIENT_CERT": pki.client_cert,
        "ATRIUM_TLS_CLIENT_KEY": pki.client_key,
        "ATRIUM_M2M_CLIENT_SECRET": M2M_SECRET,
    }
    previous = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    started: dict[str, RegionProcess] = {}
    specs = [(code, name, free_port(), free_port()) for code, name in REGION_SPECS]
    pki_ensure(
        paths=pki,
        regions=[(code, f"https://127.0.0.1:{m}") for code, _, _, m in specs],
        machine_url=atrium_machine_url,
    )
    try:
        for code, name, people_port, machine_port in specs:
            run_dir = tmp_path_factory.mktemp(f"region-{code}")
            region = RegionProcess(
                code, name, f"http://127.0.0.1:{people_port}", f"https://127.0.0.1:{machine_port}",
                f"test-secret-{code}-0123456789", {}, run_dir, pki,
            )  # fmt: skip
            region.env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "region.settings",
                "REGION_CODE": code,
                "REGION_NAME": name,
                "REGION_PEOPLE_URL": region.people_url,
                "REGION_MACHINE_URL": region.machine_url,
                "REGION_RUN_DIR": str(run_dir),
                "REGION_OIDC_CLIENT_ID": f"region-{code}",
                "REGION_OIDC_CLIENT_SECRET": region.secret,
                "REGION_SECRET_KEY": f"test-only-region-{code}-secret-key-0123456789",
                "REGION_TRUSTED_CLIENT_IDS": settings.ATRIUM_M2M_CLIENT_ID,
                "ATRIUM_ISSUER": live_server.url,
                # Atrium's directory API (contract A): its URL and this region's own client certificate.
                "ATRIUM_MACHINE_URL": atrium_machine_url,
                "REGION_TLS_CA_FILE": str(pki.ca_cert),
                "REGION_TLS_CLIENT_CERT": str(pki.region_client_cert(code)),
                "REGION_TLS_CLIENT_KEY": str(pki.region_client_key(code)),
            }
            region.manage("migrate", "--noinput", "-v", "0")
            region.start("people")
            region.start("machine")
            started[code] = region
        yield started
    finally:
        for region in started.values():
            for process in region.processes.values():
                stop_process(process)
        region_client.http_clients_close()
        region_client.m2m_tokens_forget()
        for name, value in previous.items():
            setattr(settings, name, value)


def live_database_url() -> str:
    """The test database the live server uses, for the portal processes started beside it."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_processes(region_processes, live_server, pki, tmp_path_factory, django_db_setup, oidc_signing_key):
    """A real worker and beat on Redis, using the test database the live server uses, signing
    with the session's OIDC key (the worker mints back-channel logout tokens)."""
    run_dir = tmp_path_factory.mktemp("celery")
    key_file = run_dir / "oidc-signing.pem"
    key_file.write_text(oidc_signing_key)
    key_file.chmod(0o600)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": live_database_url(),
        "ATRIUM_ISSUER": live_server.url,
        "ATRIUM_TLS_CA_FILE": str(pki.ca_cert),
        "ATRIUM_TLS_CLIENT_CERT": str(pki.client_cert),
        "ATRIUM_TLS_CLIENT_KEY": str(pki.client_key),
        "ATRIUM_M2M_CLIENT_SECRET": M2M_SECRET,
        "ATRIUM_PUSH_BACKOFF_BASE": "0.5",
        "ATRIUM_PUSH_BACKOFF_CAP": "2",
        # Few attempts, the default (day-long) give-up time: a region down during a test must
        # leave rows retrying, never failed (tests/e2e/test_ledger_delivery.py).
        "ATRIUM_PUSH_MAX_ATTEMPTS": "3",
        "ATRIUM_SWEEP_INTERVAL": "1",
        "ATRIUM_REGION_TIMEOUT": "5",
        "ATRIUM_OIDC_KEY_FILE": str(key_file),
    }
    celery = str(BIN / "celery")
    worker = subprocess.Popen(
        [celery, "-A", "portal", "worker", "--concurrency", "2", "--without-mingle", "--without-gossip",
         "--loglevel", "INFO"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(run_dir / "worker.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    beat = subprocess.Popen(
        [celery, "-A", "portal", "beat", "--schedule", str(run_dir / "beat-schedule"), "--loglevel", "INFO"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(run_dir / "beat.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    try:
        yield {"worker": worker, "beat": beat, "log_dir": run_dir}
    finally:
        stop_process(beat)
        stop_process(worker)


@dataclass
class AtriumMachine:
    """Atrium's machine listener as a region reaches it (contract A)."""

    url: str
    pki: PkiPaths
    process: subprocess.Popen
    log_file: Path

    def http(self, region_code: str | None = None, **kwargs) -> httpx.Client:
        """An mTLS client presenting `region_code`'s client certificate (none: no certificate)."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        if region_code is not None:
            context.load_cert_chain(
                str(self.pki.region_client_cert(region_code)), str(self.pki.region_client_key(region_code))
            )
        return httpx.Client(base_url=self.url, verify=context, timeout=10, **kwargs)


@pytest.fixture(scope="session")
def atrium_machine(region_processes, live_server, pki, atrium_machine_url, oidc_signing_key, django_db_setup,
                   tmp_path_factory):  # fmt: skip
    """Atrium's machine listener: the portal under gunicorn with ATRIUM_LISTENER=machine, mutual
    TLS (`--cert-reqs 2`, our CA), on the test database the live server uses, verifying tokens
    with the session's signing key (the live server signs them)."""
    run_dir = tmp_path_factory.mktemp("atrium-machine")
    key_file = run_dir / "oidc-signing.pem"
    key_file.write_text(oidc_signing_key)
    key_file.chmod(0o600)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": live_database_url(),
        "ATRIUM_LISTENER": "machine",
        "ATRIUM_ISSUER": live_server.url,
        "ATRIUM_MACHINE_URL": atrium_machine_url,
        "ATRIUM_OIDC_KEY_FILE": str(key_file),
    }
    log_file = run_dir / "machine.log"
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "portal.wsgi", "--bind", atrium_machine_url.split("://", 1)[1],
         "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--no-control-socket",
         "--graceful-timeout", "1",
         "--certfile", str(pki.machine_cert), "--keyfile", str(pki.machine_key),
         "--ca-certs", str(pki.ca_cert), "--cert-reqs", "2", "--do-handshake-on-connect"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(log_file, "a"), stderr=subprocess.STDOUT,  # noqa: SIM115 - lives with the process
    )  # fmt: skip
    machine = AtriumMachine(atrium_machine_url, pki, process, log_file)
    try:
        first = next(iter(region_processes))

        def probe():
            with machine.http(first) as http:
                return http.get("/healthz")

        try:
            wait_until_up(probe, process)
        except RuntimeError as exc:
            raise RuntimeError(
                f"Atrium's machine listener did not start: {exc}\n{log_file.read_text()[-3000:]}"
            ) from exc
        yield machine
    finally:
        stop_process(process)


def directory_token(live_server_url: str, region_code: str, secret: str, *, scope: str = "directory:read",
                    resource: str | None = None) -> httpx.Response:  # fmt: skip
    """A region's own client-credentials token request for the directory (contract A)."""
    return httpx.post(
        f"{live_server_url}/identity/o/api/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "resource": resource or settings.ATRIUM_MACHINE_URL,
        },
        auth=(f"region-{region_code}", secret),
        timeout=10,
    )


@pytest.fixture
def regions(region_processes, transactional_db, tmp_path):
    """Portal-side Region rows and OIDC clients matching the running processes."""
    rows = {}
    for code, proc in region_processes.items():
        proc.manage("flush", "--noinput")  # each test starts with empty regions
        region = Region.objects.create(
            code=code, name=proc.name, people_url=proc.people_url, machine_url=proc.machine_url
        )
        region_oidc_client_register(region=region, secrets_dir=tmp_path)
        Client.objects.filter(id=region.oidc_client_id).update(secret=client_secret_hash(proc.secret))
        rows[code] = region
    provisioner_client_register(client_id=settings.ATRIUM_M2M_CLIENT_ID, secrets_dir=tmp_path)
    Client.objects.filter(id=settings.ATRIUM_M2M_CLIENT_ID).update(secret=client_secret_hash(M2M_SECRET))
    return rows


@pytest.fixture
def worker(celery_processes, regions):
    """The worker, with an empty queue and no push in flight when the test ends."""
    from portal.celery import app

    app.control.purge()
    yield celery_processes
    app.control.purge()
    wait_for(
        lambda: not ProvisioningRecord.objects.filter(lease_until__isnull=False).exists(),
        timeout=15,
        what="in-flight pushes to finish",
    )


def account_uses(account, regions_: list[Region]) -> None:
    for region in regions_:
        account_region_add(account=account, region=region)


def provision_into_region(region: RegionProcess, *, account, users) -> None:
    """Put users into a region with its own operator command (tests of login only)."""
    from regions.models import AccountRegion

    AccountRegion.objects.get_or_create(account=account, region=Region.objects.get(code=region.code))
    for user in users:
        region.manage(
            "region_user_add",
            f"--tenant={account.slug}",
            f"--external-id={user.public_id}",
            f"--email={user.email}",
            f"--first-name={user.first_name}",
            f"--last-name={user.last_name}",
        )


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    return CSRF_FIELD.search(html).group(1)


def portal_login_via(browser: httpx.Client, start_url: str, email: str, password: str) -> httpx.Response:
    """Follow a region's redirect to Atrium's login form, sign in, and follow the code flow back."""
    page = browser.get(start_url)
    assert "/accounts/login/" in str(page.url), page.url
    return browser.post(
        str(page.url),
        data={"csrfmiddlewaretoken": csrf_token_in(page.text), "login": email, "password": password},
        headers={"Referer": str(page.url)},
    )


# --- a real browser (Playwright + Debian's Chromium) ---------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the test
    # makes around it are still plain synchronous calls (Playwright's documented setting).
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    return browser.new_context().new_page()


def browser_sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in on Atrium's login page; lands on the person's account."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/a/**")
