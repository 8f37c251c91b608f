"""`make demo`: prepare everything, then run portal + regions in one foreground process group.

Ctrl-C (SIGINT to the whole group) stops every process; so does the first one to die.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from regions.models import Region
from regions.pki import PkiPaths
from regions.services import region_client_secret_file

REGIONAL_SERVER_DIR = settings.BASE_DIR / "regional_server"
DEMO_BACKUP_DATA = {"eu": "acme"}  # region code → tenant whose backups the demo seeds there
DEMO_LOGINS = [
    ("alice@acme.test", "Acme owner (US, EU, AU)"),
    ("bob@acme.test", "Acme member"),
    ("dave@acme.test", "Acme member"),
    ("carol@globex.test", "Globex owner (EU only)"),
    ("admin@atrium.test", "Atrium staff (Django admin at /admin/)"),
    ("sam@atrium.test", "Sales rep (owns Acme and half the generated accounts; /sales/)"),
    ("maya@atrium.test", "Sales manager (every account; reassigns; /sales/)"),
]


class Command(BaseCommand):
    help = "Set up demo data, then run the portal and the three regional servers until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--setup-only", action="store_true", help="Prepare everything, start nothing.")

    def handle(self, *args, setup_only: bool = False, **options):
        # Everything the demo writes (databases, keys, secrets, broker files, logs), here and in
        # the processes it starts, is readable by its owner only.
        os.umask(0o077)
        self._prepare_portal()
        regions = list(Region.objects.order_by("code"))
        for region in regions:
            self._prepare_region(region)
        if setup_only:
            return
        processes = [
            self._start_portal(),
            self._start_portal_machine(),
            self._start_celery("worker"),
            self._start_celery("beat"),
        ]
        for region in regions:
            processes += [self._start_region(region), self._start_region_machine(region)]
        self._print_banner(regions)
        self._supervise(processes)

    # --- set-up -------------------------------------------------------------------------
    def _prepare_portal(self) -> None:
        settings.RUN_DIR.mkdir(parents=True, exist_ok=True)
        call_command("oidc_keygen")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable")
        call_command("load_demo")
        # Outside load_demo's one transaction: each generated account commits on its own, so the
        # mail its past would have sent is dropped (billing_demo_history) instead of printed.
        call_command("billing_demo_history")
        call_command("regions_register_clients")
        call_command("pki_init")
        # Installations made before the umask above get their permissions tightened too.
        _owner_only(settings.RUN_DIR)

    def _prepare_region(self, region: Region) -> None:
        env = self._region_env(region)
        # Its users arrive through the provisioning ledger (SCIM), not from here.
        self._region_manage(env, "migrate", "--noinput", "-v", "0")
        if region.code in DEMO_BACKUP_DATA:
            # Business data lives in the region only: Acme's EU backups, with problems for Security
            # Posture to find. Idempotent; the tenant row is adopted when Atrium provisions it.
            self._region_manage(env, "backup_load_demo", f"--tenant={DEMO_BACKUP_DATA[region.code]}")

    def _region_env(self, region: Region) -> dict[str, str]:
        pki = PkiPaths(settings.ATRIUM_PKI_DIR)
        run_dir = settings.RUN_DIR / "regions" / region.code
        run_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "region.settings",
            "REGION_CODE": region.code,
            "REGION_NAME": region.name,
            "REGION_PEOPLE_URL": region.people_url,
            "REGION_MACHINE_URL": region.machine_url,
            "REGION_RUN_DIR": str(run_dir),
            "REGION_OIDC_CLIENT_ID": region.oidc_client_id,
            "REGION_OIDC_SECRET_FILE": str(
                region_client_secret_file(secrets_dir=settings.ATRIUM_SECRETS_DIR, region=region)
            ),
            "REGION_SECRET_KEY_FILE": str(
                _secret_key_file(settings.ATRIUM_SECRETS_DIR / f"region-{region.code}-secret-key")
            ),
            "REGION_TRUSTED_CLIENT_IDS": settings.ATRIUM_M2M_CLIENT_ID,
            "ATRIUM_ISSUER": settings.ATRIUM_ISSUER,
            # Atrium's directory API: where it is, the CA that signed it, this region's own
            # client certificate (its M2M token uses the login client above).
            "ATRIUM_MACHINE_URL": settings.ATRIUM_MACHINE_URL,
            "REGION_TLS_CA_FILE": str(pki.ca_cert),
            "REGION_TLS_CLIENT_CERT": str(pki.region_client_cert(region.code)),
            "REGION_TLS_CLIENT_KEY": str(pki.region_client_key(region.code)),
        }

    def _region_manage(self, env: dict[str, str], *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=REGIONAL_SERVER_DIR, env=env, check=True)

    # --- processes ----------------------------------------------------------------------
    def _start_portal(self) -> subprocess.Popen:
        bind = settings.ATRIUM_ISSUER.split("://", 1)[1]
        return _spawn(
            [_gunicorn(), "portal.wsgi", "--bind", bind, "--workers", "2", "--threads", "4",
             "--worker-class", "gthread", "--no-control-socket", "--access-logfile", "-"],
            cwd=settings.BASE_DIR,
        )  # fmt: skip

    def _start_portal_machine(self) -> subprocess.Popen:
        """Atrium's machine port: the same portal, only the directory API (portal/urls_machine.py),
        behind mutual TLS: a caller without a client certificate from our CA fails the handshake."""
        pki = PkiPaths(settings.ATRIUM_PKI_DIR)
        bind = settings.ATRIUM_MACHINE_URL.split("://", 1)[1].rstrip("/")
        return _spawn(
            [_gunicorn(), "portal.wsgi", "--bind", bind, "--workers", "1", "--threads", "4",
             "--worker-class", "gthread", "--no-control-socket", "--access-logfile", "-",
             "--certfile", str(pki.machine_cert), "--keyfile", str(pki.machine_key),
             "--ca-certs", str(pki.ca_cert), "--cert-reqs", "2", "--do-handshake-on-connect"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "ATRIUM_LISTENER": "machine"},
        )  # fmt: skip

    def _start_region(self, region: Region) -> subprocess.Popen:
        bind = region.people_url.split("://", 1)[1].rstrip("/")
        return _spawn(
            [_gunicorn(), "region.wsgi", "--bind", bind, "--workers", "1", "--threads", "4",
             "--worker-class", "gthread", "--no-control-socket", "--access-logfile", "-"],
            cwd=REGIONAL_SERVER_DIR,
            env=self._region_env(region),
        )  # fmt: skip

    def _start_region_machine(self, region: Region) -> subprocess.Popen:
        pki = PkiPaths(settings.ATRIUM_PKI_DIR)
        bind = region.machine_url.split("://", 1)[1].rstrip("/")
        return _spawn(
            [_gunicorn(), "region.wsgi", "--bind", bind, "--workers", "1", "--threads", "8",
             "--worker-class", "gthread", "--no-control-socket", "--access-logfile", "-",
             "--certfile", str(pki.server_cert(region.code)), "--keyfile", str(pki.server_key(region.code)),
             "--ca-certs", str(pki.ca_cert), "--cert-reqs", "2", "--do-handshake-on-connect"],
            cwd=REGIONAL_SERVER_DIR,
            env={**self._region_env(region), "REGION_LISTENER": "machine"},
        )  # fmt: skip

    def _start_celery(self, role: str) -> subprocess.Popen:
        args = [str(Path(sys.executable).parent / "celery"), "-A", "portal", role, "--loglevel", "INFO"]
        if role == "worker":
            args += ["--concurrency", "2", "--without-mingle", "--without-gossip"]
        else:
            args += ["--schedule", str(settings.RUN_DIR / "celerybeat-schedule")]
        return _spawn(args, cwd=settings.BASE_DIR)

    def _print_banner(self, regions: list[Region]) -> None:
        lines = ["", "Atrium demo is starting (Ctrl-C stops everything):",
                 f"  portal            {settings.ATRIUM_ISSUER}/   (Django admin: /admin/)",
                 f"  atrium machine    {settings.ATRIUM_MACHINE_URL}/   (mTLS, directory API)"]  # fmt: skip
        lines += [f"  region {r.code:<10} {r.people_url}/   machine (mTLS): {r.machine_url}" for r in regions]
        lines += ["  celery worker + beat (broker filesystem:// in .run/broker)"]
        lines += ["", "Demo logins (password demo-pass-2026):"]
        lines += [f"  {email:<20} {what}" for email, what in DEMO_LOGINS]
        lines += [
            "  Sign up a new company at /accounts/signup/; mail (verification links, invitations,",
            "  password resets) is printed on this console.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _supervise(self, processes: list[subprocess.Popen]) -> None:
        # `kill <pid>`, Ctrl-C and a closed terminal must stop the children too, not orphan them.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _raise_keyboard_interrupt)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            self.stderr.write("A demo process exited; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo…")
        finally:
            for p in processes:
                _signal_group(p, signal.SIGTERM)
            for p in processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=10)
            # A gunicorn worker can outlive its master; each child leads its own process group,
            # so this sweeps whatever is left of it.
            for p in processes:
                _signal_group(p, signal.SIGKILL)


def _spawn(args: list[str], **kwargs) -> subprocess.Popen:
    # Its own process group: the supervisor alone decides how children stop (one SIGTERM),
    # instead of Ctrl-C reaching every process at once in the middle of that.
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _secret_key_file(path: Path) -> Path:
    """A per-installation secret key in a file only its owner may read; created once."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50) + "\n")
    return path


def _owner_only(run_dir: Path) -> None:
    """Folders 700, files 600 under .run/ (databases, keys, secrets, broker messages)."""
    run_dir.chmod(0o700)
    for folder, subfolders, files in os.walk(run_dir):
        # The test services' PostgreSQL data belongs to the postgres user: not ours to change.
        subfolders[:] = [d for d in subfolders if d != "test-services"]
        for name in subfolders:
            if not (Path(folder) / name).is_symlink():
                (Path(folder) / name).chmod(0o700)
        for name in files:
            if not (Path(folder) / name).is_symlink():
                (Path(folder) / name).chmod(0o600)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _gunicorn() -> str:
    return str(Path(sys.executable).parent / "gunicorn")
