"""Small helpers that read the environment and fail loudly on bad values.

Only `portal/settings.py` calls them (STYLE.md rule 6).
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_number(name: str, default, parse, kind: str):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str) -> str:
    value = os.environ.get(name, default).rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL, got {value!r}")
    return value


def env_database(name: str, default: str) -> dict:
    """Parse `sqlite:///path` or `postgres://user:pass@host:port/name` into DATABASES['default']."""
    raw = os.environ.get(name, default)
    parsed = urlparse(raw)
    if parsed.scheme == "sqlite":
        path = raw[len("sqlite:///") :] if raw.startswith("sqlite:///") else ""
        if not path:
            raise ImproperlyConfigured(f"{name}: use sqlite:///<path>, got {raw!r}")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # The demo's web processes and worker share one file: WAL and IMMEDIATE
            # transactions avoid "database is locked" under concurrent writers.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.path.lstrip("/"),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
        }
    raise ImproperlyConfigured(f"{name} must be a sqlite:/// or postgres:// URL, got {raw!r}")


def env_cache(name: str, default: str) -> dict:
    """`redis://host:port/db` or `db://table` into CACHES['default']."""
    raw = os.environ.get(name, default)
    if raw.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": raw}
    if raw.startswith("db://") and len(raw) > len("db://"):
        # Django culls a database cache past MAX_ENTRIES (300 by default) by deleting a third of
        # the keys in name order, live or not: a few dozen logins a second threw away fresh
        # authorization codes (invalid_grant). 50,000 holds minutes of codes and replay marks at
        # that rate; over it, expired rows go first. (Each write counts the rows: keep it bounded.)
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": raw[5:],
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    raise ImproperlyConfigured(f"{name} must be redis://… or db://<table>, got {raw!r}")


def env_secret(name: str, *, default_file: Path, fix: str) -> str:
    """A secret from `name`, else from the file `<name>_FILE` names (default `default_file`).

    There is no built-in fallback: a default secret shipped in the source is no secret, so a
    missing one stops the process with the way to fix it."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = Path(os.environ.get(f"{name}_FILE") or default_file)
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}: cannot read {path}: {exc}") from exc
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set and {path} does not exist or is empty. Set {name} to a long random "
            "value (`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or put one in "
            f"{path} (or the file {name}_FILE names); {fix}"
        )
    return value
