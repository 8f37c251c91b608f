"""`make demo`'s set-up on a fresh run folder: per-installation secret keys, and every database,
key and secret readable by its owner only (folders 700, files 600). Real commands: the Makefile
rule that makes the portal's key, then `rundemo --setup-only` (portal and region migrations)."""

import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def demo_run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("demo-run")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ATRIUM_", "DJANGO_", "CELERY_", "DATABASE_"))
    }
    env |= {"ATRIUM_RUN_DIR": str(run_dir), "PYTHON": sys.executable}
    key_file = run_dir / "secrets" / "portal-secret-key"
    make = subprocess.run(
        ["make", "--no-print-directory", str(key_file), f"ATRIUM_RUN_DIR={run_dir}", f"PYTHON={sys.executable}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert make.returncode == 0, make.stderr
    setup = subprocess.run(
        [sys.executable, "manage.py", "rundemo", "--setup-only"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr[-3000:]
    return run_dir


def test_the_demo_makes_its_own_secret_keys(demo_run_dir):
    secrets = demo_run_dir / "secrets"
    portal_key = (secrets / "portal-secret-key").read_text().strip()
    region_keys = {p.name: p.read_text().strip() for p in secrets.glob("region-*-secret-key")}
    assert len(portal_key) >= 50
    assert set(region_keys) == {"region-us-secret-key", "region-eu-secret-key", "region-au-secret-key"}
    assert len({portal_key, *region_keys.values()}) == 4  # one per installation and server


def test_every_folder_under_the_run_folder_is_the_owners_alone(demo_run_dir):
    folders = [demo_run_dir, *(p for p in demo_run_dir.rglob("*") if p.is_dir())]
    assert {str(p.relative_to(demo_run_dir)) for p in folders} >= {
        ".",
        "secrets",
        "keys",
        "pki",
        "regions/us",
    }
    assert {str(p): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}


def test_databases_keys_and_secrets_are_readable_by_their_owner_only(demo_run_dir):
    sensitive = [
        *demo_run_dir.glob("portal.sqlite3*"),
        demo_run_dir / "keys" / "oidc-signing.pem",
        demo_run_dir / "pki" / "ca.key",
        demo_run_dir / "pki" / "atrium-client.key",
        *demo_run_dir.glob("regions/*/region.sqlite3*"),
        *demo_run_dir.glob("pki/region-*.key"),
        *demo_run_dir.glob("secrets/*"),
    ]
    assert len(list(demo_run_dir.glob("regions/*/region.sqlite3"))) == 3
    assert {str(p): oct(mode(p)) for p in sensitive if mode(p) != 0o600} == {}
