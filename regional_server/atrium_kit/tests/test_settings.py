"""The region's settings as an operator meets them: secure defaults, loud failures with the fix.

Each case starts a fresh interpreter (settings are read once per process)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REGIONAL_SERVER_DIR = Path(__file__).resolve().parents[2]
PRINT = (
    "from django.conf import settings as s; print(s.DEBUG, sorted(s.REGION_TRUSTED_CLIENT_IDS), s.SECRET_KEY)"
)


def region_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGION_")}
    clean |= {"DJANGO_SETTINGS_MODULE": "region.settings", "REGION_RUN_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT}"],
        cwd=REGIONAL_SERVER_DIR, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_region_without_a_secret_key_refuses_to_start_and_says_how_to_fix_it(tmp_path):
    done = region_settings(tmp_path)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "REGION_SECRET_KEY" in done.stderr
    assert "REGION_SECRET_KEY_FILE" in done.stderr


def test_a_missing_key_file_is_named_in_the_error(tmp_path):
    done = region_settings(tmp_path, REGION_SECRET_KEY_FILE=str(tmp_path / "nope"))
    assert done.returncode != 0
    assert str(tmp_path / "nope") in done.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    (tmp_path / "key").write_text("a-key-from-a-file-0123456789\n")
    done = region_settings(tmp_path, REGION_SECRET_KEY_FILE=str(tmp_path / "key"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "a-key-from-a-file-0123456789"


@pytest.mark.parametrize(("flag", "debug"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_debug_is_off_unless_region_debug_turns_it_on(tmp_path, flag, debug):
    env = {"REGION_SECRET_KEY": "k" * 40} | ({"REGION_DEBUG": flag} if flag else {})
    done = region_settings(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == debug


def test_only_the_provisioner_is_trusted_by_default_and_the_list_is_configurable(tmp_path):
    default = region_settings(tmp_path, REGION_SECRET_KEY="k" * 40)
    configured = region_settings(
        tmp_path, REGION_SECRET_KEY="k" * 40, REGION_TRUSTED_CLIENT_IDS="atrium-provisioner, backup-sync"
    )
    assert "['atrium-provisioner']" in default.stdout
    assert "['atrium-provisioner', 'backup-sync']" in configured.stdout


DIRECTORY = (
    "from django.conf import settings as s; "
    "print(s.ATRIUM_MACHINE_URL, s.ATRIUM_TOKEN_ENDPOINT, s.REGION_TLS_CA_FILE, s.REGION_TLS_CLIENT_CERT, "
    "s.REGION_TLS_CLIENT_KEY, s.ATRIUM_DIRECTORY_TIMEOUT, s.ATRIUM_KIT_PRODUCTS)"
)


def directory_settings(tmp_path, **env) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REGION_", "ATRIUM_"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "region.settings", "REGION_RUN_DIR": str(tmp_path)}
    clean |= {"REGION_SECRET_KEY": "k" * 40, **env}
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {DIRECTORY}"],
        cwd=REGIONAL_SERVER_DIR, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split(maxsplit=6)


def test_the_directory_client_defaults_to_the_demo_machine_port_and_this_regions_client_files(tmp_path):
    machine, token, ca, cert, key, timeout, products = directory_settings(tmp_path, REGION_CODE="eu")
    pki = REGIONAL_SERVER_DIR.parent / ".run" / "pki"
    assert machine == "https://127.0.0.1:9000"
    assert token == "http://127.0.0.1:8000/identity/o/api/token"
    assert (ca, cert, key) == (
        str(pki / "ca.pem"),
        str(pki / "region-eu-client.pem"),
        str(pki / "region-eu-client.key"),
    )
    assert float(timeout) > 0
    assert products.strip() == "['backup', 'posture', 'archiver']"


def test_the_directory_client_reads_its_environment(tmp_path):
    machine, token, ca, cert, key, _, _ = directory_settings(
        tmp_path,
        ATRIUM_MACHINE_URL="https://atrium.example:9443/",
        ATRIUM_ISSUER="https://atrium.example",
        REGION_TLS_CA_FILE="/etc/atrium/ca.pem",
        REGION_TLS_CLIENT_CERT="/etc/atrium/region.pem",
        REGION_TLS_CLIENT_KEY="/etc/atrium/region.key",
    )
    assert machine == "https://atrium.example:9443"
    assert token == "https://atrium.example/identity/o/api/token"
    assert (ca, cert, key) == ("/etc/atrium/ca.pem", "/etc/atrium/region.pem", "/etc/atrium/region.key")
