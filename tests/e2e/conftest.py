"""Real regional-server processes (gunicorn, own SQLite) logging people in against the portal
running as pytest-django's live server. Started once per session; portal rows they rely on
(regions, OIDC clients with fixed secrets) are recreated per test because transactional tests
truncate every table."""

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.contrib.auth.hashers import make_password

from regions.models import AccountRegion, Region
from regions.services import region_oidc_client_register

ROOT = Path(__file__).resolve().parents[2]
REGIONAL_SERVER_DIR = ROOT / "regional_server"
REGION_SPECS = [("us", "United States"), ("eu", "European Union")]


@dataclass
class RegionProcess:
    code: str
    name: str
    people_url: str
    secret: str
    env: dict
    process: subprocess.Popen

    def manage(self, *args: str) -> str:
        """Run the regional server's own management command against its database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REGIONAL_SERVER_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {deadline_s}s")


@pytest.fixture(scope="session")
def region_processes(live_server, tmp_path_factory):
    previous_issuer = settings.ATRIUM_ISSUER
    settings.ATRIUM_ISSUER = live_server.url
    started: dict[str, RegionProcess] = {}
    try:
        for code, name in REGION_SPECS:
            port = free_port()
            run_dir = tmp_path_factory.mktemp(f"region-{code}")
            secret = f"test-secret-{code}-0123456789"
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "region.settings",
                "REGION_CODE": code,
                "REGION_NAME": name,
                "REGION_PEOPLE_URL": f"http://127.0.0.1:{port}",
                "REGION_RUN_DIR": str(run_dir),
                "REGION_OIDC_CLIENT_ID": f"region-{code}",
                "REGION_OIDC_CLIENT_SECRET": secret,
                "ATRIUM_ISSUER": live_server.url,
            }
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=REGIONAL_SERVER_DIR, env=env, check=True, timeout=120,
            )  # fmt: skip
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "region.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--worker-class", "gthread", "--threads", "4", "--no-control-socket", "--graceful-timeout", "2"],
                cwd=REGIONAL_SERVER_DIR, env=env, start_new_session=True,
                stdout=open(run_dir / "server.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115 (lives with the process)
            )  # fmt: skip
            started[code] = RegionProcess(code, name, f"http://127.0.0.1:{port}", secret, env, process)
        for region in started.values():
            wait_until_up(region.people_url + "/healthz", region.process)
        yield started
    finally:
        for region in started.values():
            os.killpg(region.process.pid, 15)
        for region in started.values():
            region.process.wait(timeout=10)
        settings.ATRIUM_ISSUER = previous_issuer


@pytest.fixture
def regions(region_processes, transactional_db, tmp_path):
    """Portal-side Region rows and OIDC clients matching the running processes."""
    rows = {}
    for code, proc in region_processes.items():
        proc.manage("flush", "--noinput")  # each test starts with an empty region
        region = Region.objects.create(
            code=code, name=proc.name, people_url=proc.people_url, machine_url=f"https://127.0.0.1:9{code}"
        )
        region_oidc_client_register(region=region, secrets_dir=tmp_path)
        Client.objects.filter(id=region.oidc_client_id).update(secret=make_password(proc.secret))
        rows[code] = region
    return rows


def provision_into_region(region: RegionProcess, *, account, users) -> None:
    """Until SCIM provisioning lands, a region learns its users from its own command."""
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


def portal_login_via(browser: httpx.Client, start_url: str, email: str, password: str) -> httpx.Response:
    """Follow a region's redirect to Atrium's login form, sign in, and follow the code flow back."""
    page = browser.get(start_url)
    assert "/accounts/login/" in str(page.url), page.url
    token = CSRF_FIELD.search(page.text).group(1)
    return browser.post(
        str(page.url),
        data={"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Referer": str(page.url)},
    )
