"""Settings of one regional server. One process set per region, configured by REGION_* variables.

Deliberately independent of the portal (no shared imports): its only contracts with Atrium are
HTTP — OIDC login on the people URL, SCIM and the tenant API on the machine URL.
"""

import json
import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = BASE_DIR.parent


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"{name} must be set for the regional server")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}")


REGION_CODE = _env("REGION_CODE", "us")
REGION_NAME = _env("REGION_NAME", REGION_CODE.upper())
REGION_PEOPLE_URL = _env("REGION_PEOPLE_URL", "http://127.0.0.1:8101").rstrip("/")
REGION_RUN_DIR = Path(_env("REGION_RUN_DIR", str(PROJECT_ROOT / ".run" / "regions" / REGION_CODE)))
# Machine URL: SCIM over mutual TLS; also the `aud` Atrium's machine tokens must carry.
REGION_MACHINE_URL = _env("REGION_MACHINE_URL", "https://127.0.0.1:9101").rstrip("/")
# Which listener this process serves: "people" (pages, OIDC login) or "machine" (SCIM; mTLS).
REGION_LISTENER = _env("REGION_LISTENER", "people")
if REGION_LISTENER not in {"people", "machine"}:
    raise ImproperlyConfigured("REGION_LISTENER must be 'people' or 'machine'")
ATRIUM_ISSUER = _env("ATRIUM_ISSUER", "http://127.0.0.1:8000").rstrip("/")
# Where people go back to when a region refuses them.
ATRIUM_PORTAL_URL = _env("ATRIUM_PORTAL_URL", ATRIUM_ISSUER).rstrip("/")


def _secret_key() -> str:
    """REGION_SECRET_KEY, or the file REGION_SECRET_KEY_FILE names; never a built-in default
    (a shared default key would let anyone forge this region's sessions)."""
    if os.environ.get("REGION_SECRET_KEY"):
        return os.environ["REGION_SECRET_KEY"]
    key_file = os.environ.get("REGION_SECRET_KEY_FILE")
    if key_file and Path(key_file).is_file() and Path(key_file).read_text().strip():
        return Path(key_file).read_text().strip()
    where = f" (REGION_SECRET_KEY_FILE={key_file} is missing or empty)" if key_file else ""
    raise ImproperlyConfigured(
        f"Region {REGION_CODE} has no secret key{where}. Set REGION_SECRET_KEY to a long random value, "
        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`, or point "
        "REGION_SECRET_KEY_FILE at a file holding one "
        "(`make demo` writes .run/secrets/region-<code>-secret-key)."
    )


# Off unless a developer asks for it: a debug page shows settings and source to anyone.
DEBUG = _env_bool("REGION_DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h
    for h in _env("REGION_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    + [urlparse(REGION_PEOPLE_URL).hostname or "", urlparse(REGION_MACHINE_URL).hostname or ""]
    if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mozilla_django_oidc",
    "django_scim",
    "atrium_kit",
    # Products built on the kit (business logic only); each also named in ATRIUM_KIT_PRODUCTS.
    "backup",
    "posture",
    "archiver",
]

# The products the kit serves: `<app>.urls` at <people URL>/p/<code>/ and, when the app has one,
# `<app>.urls_machine` at <machine URL>/tenant/v1/<tenant>/products/<code>/. App labels (code =
# label), or a dict code → app label. Adding a product = its INSTALLED_APPS entry + its name here.
ATRIUM_KIT_PRODUCTS = ["backup", "posture", "archiver"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "atrium_kit.middleware.CanonicalHostMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The tenant's pushed session lifetime and idle timeout (issue 11).
    "atrium_kit.policy.TenantPolicySessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "region.urls"
if REGION_LISTENER == "machine":
    # Machines only: no sessions, cookies or CSRF; every SCIM call carries Atrium's JWT.
    ROOT_URLCONF = "region.urls_machine"
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "atrium_kit.machine_auth.MachineTokenMiddleware",
        "atrium_kit.scim.ScimTenantMiddleware",
    ]
WSGI_APPLICATION = "region.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atrium_kit.context_processors.region",
                "atrium_kit.context_processors.kit",
                "atrium_kit.policy.tenant_policy",  # the policy version enforced (issue 11)
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _env("REGION_DB", str(REGION_RUN_DIR / "region.sqlite3")),
        "ATOMIC_REQUESTS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = ["atrium_kit.auth.AtriumOIDCBackend"]

# Server-side sessions, so a region can end a person's sessions itself (suspension, logout).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Cookies ignore ports: portal and regions on one host must not share cookie names.
SESSION_COOKIE_NAME = f"region_{REGION_CODE}_sessionid"
CSRF_COOKIE_NAME = f"region_{REGION_CODE}_csrftoken"
SESSION_COOKIE_AGE = 8 * 3600
# Secure cookies wherever people reach the region over TLS (production); the demo is plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = REGION_PEOPLE_URL.startswith("https://")

# Login with Atrium (mozilla-django-oidc): code flow + PKCE; ID token checked in atrium_kit.auth.
OIDC_RP_CLIENT_ID = _env("REGION_OIDC_CLIENT_ID", f"region-{REGION_CODE}")
_secret_file = os.environ.get("REGION_OIDC_SECRET_FILE")
if _secret_file:
    OIDC_RP_CLIENT_SECRET = json.loads(Path(_secret_file).read_text())["client_secret"]
else:
    OIDC_RP_CLIENT_SECRET = _env("REGION_OIDC_CLIENT_SECRET", "unset")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ATRIUM_ISSUER}/identity/o/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{ATRIUM_ISSUER}/identity/o/api/token"
OIDC_OP_USER_ENDPOINT = f"{ATRIUM_ISSUER}/identity/o/api/userinfo"
OIDC_OP_JWKS_ENDPOINT = f"{ATRIUM_ISSUER}/.well-known/jwks.json"
OIDC_CREATE_USER = False
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
OIDC_CALLBACK_CLASS = "atrium_kit.views.RegionCallbackView"
# Adds acr_values=urn:atrium:loa:2 when the tenant's policy asks for MFA (step-up, issue 11).
OIDC_AUTHENTICATE_CLASS = "atrium_kit.auth.StepUpAuthenticateView"
LOGIN_URL = "oidc_authentication_init"
LOGIN_REDIRECT_URL = "home"
LOGIN_REDIRECT_URL_FAILURE = "refused"
LOGOUT_REDIRECT_URL = "signed_out"
# OIDC Back-Channel Logout (atrium_kit/backchannel.py): a logout token older than this (by `iat`)
# is refused; Atrium mints a fresh one at every delivery attempt, so a late one is never needed.
REGION_LOGOUT_TOKEN_MAX_AGE = int(_env("REGION_LOGOUT_TOKEN_MAX_AGE", "300"))

# Machine tokens: validated locally against Atrium's JWKS (cached; refetched on an unknown kid).
ATRIUM_JWKS_URL = f"{ATRIUM_ISSUER}/.well-known/jwks.json"
# A key Atrium removes from its JWKS is refused once this many seconds have passed.
ATRIUM_JWKS_CACHE_SECONDS = float(_env("REGION_JWKS_CACHE_SECONDS", "600"))
# An unknown kid refetches the JWKS at most once per this many seconds (bogus kids cannot flood Atrium).
ATRIUM_JWKS_REFETCH_SECONDS = float(_env("REGION_JWKS_REFETCH_SECONDS", "10"))
# Machine tokens are accepted only from these Atrium clients (the `client_id` claim).
REGION_TRUSTED_CLIENT_IDS = frozenset(
    c.strip() for c in _env("REGION_TRUSTED_CLIENT_IDS", "atrium-provisioner").split(",") if c.strip()
)

# The directory client (atrium_kit.directory): this region reads its tenants' users, groups,
# products and regions from Atrium's machine port over mutual TLS, with its own M2M token
# (client credentials of REGION_OIDC_CLIENT_ID, scope directory:read, aud = ATRIUM_MACHINE_URL).
ATRIUM_MACHINE_URL = _env("ATRIUM_MACHINE_URL", "https://127.0.0.1:9000").rstrip("/")
ATRIUM_TOKEN_ENDPOINT = f"{ATRIUM_ISSUER}/identity/o/api/token"
_pki_dir = PROJECT_ROOT / ".run" / "pki"
REGION_TLS_CA_FILE = Path(_env("REGION_TLS_CA_FILE", str(_pki_dir / "ca.pem")))
REGION_TLS_CLIENT_CERT = Path(
    _env("REGION_TLS_CLIENT_CERT", str(_pki_dir / f"region-{REGION_CODE}-client.pem"))
)
REGION_TLS_CLIENT_KEY = Path(
    _env("REGION_TLS_CLIENT_KEY", str(_pki_dir / f"region-{REGION_CODE}-client.key"))
)
# Seconds per call (connect, read, ...): pages wait on the directory, so a slow Atrium costs little.
ATRIUM_DIRECTORY_TIMEOUT = float(_env("ATRIUM_DIRECTORY_TIMEOUT", "3"))
# The shared navigation caches the directory's answer per tenant this long, and an outage a
# shorter while (so a down machine port is not asked, and waited on, for every page).
ATRIUM_KIT_NAV_CACHE_SECONDS = float(_env("ATRIUM_KIT_NAV_CACHE_SECONDS", "60"))
ATRIUM_KIT_NAV_FAILURE_CACHE_SECONDS = float(_env("ATRIUM_KIT_NAV_FAILURE_CACHE_SECONDS", "10"))

# Per process (the navigation cache only; nothing shared between processes lives here).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atrium-kit"}}

SCIM_SERVICE_PROVIDER = {
    # Read by atrium_kit.scim_schemas (ServiceProviderConfig); django-scim2 supplies only the user
    # model mixin now, its views and adapters are not used (see tenants/scim.py).
    "NETLOC": REGION_MACHINE_URL.split("://", 1)[1],
    "SCHEME": REGION_MACHINE_URL.split("://", 1)[0],
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Client-credentials JWT from Atrium over mutual TLS: aud = this machine URL, "
            "scope scim.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": True,
        }
    ],
    "DOCUMENTATION_URI": os.environ.get("REGION_SCIM_DOCUMENTATION_URI", ""),
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [("vendor/pico", PROJECT_ROOT / "node_modules" / "@picocss" / "pico" / "css")]
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("REGION_LOG_LEVEL", "INFO")},
}
