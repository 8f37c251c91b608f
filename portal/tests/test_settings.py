"""The portal's settings as an operator meets them: DEBUG off by default, no built-in secret key,
a missing OIDC signing key stops the server (not `oidc_keygen`), broker files under .run/.

Each case starts a fresh interpreter: settings are read once per process."""

import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def run_portal(tmp_path, code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ATRIUM_", "DJANGO_"))}
    base |= {"DJANGO_SETTINGS_MODULE": "portal.settings", "ATRIUM_RUN_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


SHOW = "import django; django.setup(); from django.conf import settings as s; print({})"


def test_without_a_secret_key_the_portal_refuses_to_start_and_says_how_to_fix_it(tmp_path):
    done = run_portal(tmp_path, SHOW.format("s.SECRET_KEY"))
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "ATRIUM_SECRET_KEY" in done.stderr
    assert str(tmp_path / "secrets" / "portal-secret-key") in done.stderr
    assert "make demo" in done.stderr


def test_the_secret_key_is_read_from_the_installations_key_file(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "portal-secret-key").write_text("per-installation-key-0123456789\n")
    done = run_portal(tmp_path, SHOW.format("s.SECRET_KEY"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "per-installation-key-0123456789"


def test_the_secret_key_file_can_be_named_by_the_environment(tmp_path):
    (tmp_path / "elsewhere").write_text("key-from-elsewhere-0123456789")
    done = run_portal(
        tmp_path, SHOW.format("s.SECRET_KEY"), ATRIUM_SECRET_KEY_FILE=str(tmp_path / "elsewhere")
    )
    assert done.stdout.strip() == "key-from-elsewhere-0123456789", done.stderr


@pytest.mark.parametrize(("flag", "debug"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_debug_is_off_unless_atrium_debug_turns_it_on(tmp_path, flag, debug):
    env = {"ATRIUM_SECRET_KEY": "k" * 50} | ({"ATRIUM_DEBUG": flag} if flag else {})
    done = run_portal(tmp_path, SHOW.format("s.DEBUG"), **env)
    assert done.stdout.strip() == debug, done.stderr


def test_the_issuers_host_is_an_allowed_host_and_cookies_follow_its_scheme(tmp_path):
    code = SHOW.format("'atrium.example' in s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE")
    https = run_portal(tmp_path, code, ATRIUM_SECRET_KEY="k" * 50, ATRIUM_ISSUER="https://atrium.example")
    demo = run_portal(
        tmp_path, SHOW.format("s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE"), ATRIUM_SECRET_KEY="k" * 50
    )
    assert https.stdout.strip() == "True True", https.stderr
    assert demo.stdout.strip() == "['127.0.0.1', 'localhost', 'testserver'] False", demo.stderr


def test_the_filesystem_brokers_files_stay_under_the_run_folder(tmp_path):
    # given a process whose working directory is not the run folder (kombu's default is ./control)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    code = (
        "import django; django.setup(); from portal.celery import app; "
        "app.send_task('regions.tasks.sweep_due_pushes'); print('sent')"
    )
    env = {**os.environ, "ATRIUM_RUN_DIR": str(tmp_path / "run"), "ATRIUM_SECRET_KEY": "k" * 50}
    env |= {
        "CELERY_BROKER_URL": "filesystem://",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    # when it enqueues a task on the demo's filesystem broker
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    # then the message and the exchange table are under the run folder, nothing in the cwd
    assert done.stdout.strip() == "sent", done.stderr
    assert list(cwd.iterdir()) == []
    assert list((tmp_path / "run" / "broker" / "control").glob("*.exchange"))
    assert len(list((tmp_path / "run" / "broker" / "queue").iterdir())) == 1


def test_serving_without_an_oidc_signing_key_fails_and_names_the_fix(tmp_path):
    done = run_portal(tmp_path, "import portal.wsgi", ATRIUM_SECRET_KEY="k" * 50)
    assert done.returncode != 0
    assert "python manage.py oidc_keygen" in done.stderr
    assert str(tmp_path / "keys" / "oidc-signing.pem") in done.stderr


def test_oidc_keygen_runs_without_a_key_and_the_server_then_starts(tmp_path):
    # given no key yet: the command that makes it must not need it
    done = subprocess.run(
        [sys.executable, "manage.py", "oidc_keygen"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "ATRIUM_RUN_DIR": str(tmp_path), "ATRIUM_SECRET_KEY": "k" * 50},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = tmp_path / "keys" / "oidc-signing.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    # then the server loads
    served = run_portal(tmp_path, "import portal.wsgi; print('serving')", ATRIUM_SECRET_KEY="k" * 50)
    assert served.stdout.strip() == "serving", served.stderr
