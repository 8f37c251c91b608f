"""Atrium portal settings: one flat file; the environment is read only here, through portal/env.py."""

from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from portal.env import (
    env_bool,
    env_cache,
    env_database,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = Path(env_str("ATRIUM_RUN_DIR", str(BASE_DIR / ".run")))

# Off unless a developer asks for it (ATRIUM_DEBUG=1): a debug page shows settings and source.
DEBUG = env_bool("ATRIUM_DEBUG", False)
# Per installation: `make demo` writes .run/secrets/portal-secret-key (mode 600) on first run.
SECRET_KEY = env_secret(
    "ATRIUM_SECRET_KEY",
    default_file=RUN_DIR / "secrets" / "portal-secret-key",
    fix="`make demo` creates that file for a demo installation.",
)

# The OIDC issuer is configured, never derived from the Host header: regions compare `iss`
# byte for byte, and localhost vs 127.0.0.1 would otherwise mint two different issuers.
ATRIUM_ISSUER = env_url("ATRIUM_ISSUER", "http://127.0.0.1:8000")
# Atrium's own machine port (mutual TLS; the directory API regions read): also the `aud` of the
# regions' directory tokens, so it is configured, like the issuer, never derived from a request.
ATRIUM_MACHINE_URL = env_url("ATRIUM_MACHINE_URL", "https://127.0.0.1:9000")
# Which listener this process serves: "people" (the portal: pages, API, identity provider) or
# "machine" (portal/urls_machine.py only: healthz and the directory API, no sessions or CSRF).
ATRIUM_LISTENER = env_str("ATRIUM_LISTENER", "people")
if ATRIUM_LISTENER not in {"people", "machine"}:
    raise ImproperlyConfigured(f"ATRIUM_LISTENER must be people or machine, got {ATRIUM_LISTENER!r}")
ALLOWED_HOSTS = env_list(
    "ATRIUM_ALLOWED_HOSTS",
    sorted(
        {
            "127.0.0.1",
            "localhost",
            "testserver",
            urlparse(ATRIUM_ISSUER).hostname,
            urlparse(ATRIUM_MACHINE_URL).hostname,
        }
    ),
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.idp.oidc",
    # Customer SSO: one OpenID Connect app per account, from the database (accounts/sso.py).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    # MFA: TOTP devices and single-use recovery codes (accounts/mfa.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    # Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp",
    "accounts",
    "regions",
    "products",
    "billing",
    # Last: the composition root (dashboard, demo commands) that may import every app.
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy header on every portal response (settings below).
    "csp.middleware.CSPMiddleware",
    # Early: a throttled or malformed token request costs no session or user lookup.
    "accounts.middleware.TokenEndpointGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.middleware.RejectNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the MFA step.
    "django_otp.middleware.OTPMiddleware",
    # Client address and user agent for audit rows written during the request.
    "accounts.audit.AuditContextMiddleware",
    "accounts.middleware_sessions.SessionActivityMiddleware",  # last seen on /profile/sessions/
    # After it: a `token.client_credentials` audit row (with IP and user agent) per M2M grant.
    "accounts.security_events.TokenGrantAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # OIDC authorize step (issue 11): max_age, acr_values, prompt; the login context of each code.
    "accounts.oidc_authorize.OIDCAuthorizeMiddleware",
    # The account security policy (issue 11): session lifetime/idle, MFA enrolment, authorize step.
    "accounts.middleware_security.SecurityPolicyMiddleware",
    "accounts.middleware.OIDCErrorStatusMiddleware",
]

ROOT_URLCONF = "portal.urls"
# Machine clients send a Bearer token, never a cookie: no sessions, CSRF or messages there, and
# only the machine URLs exist (every other portal path is a JSON 404). allauth refuses to start
# without its middleware; there it only sets allauth's request context (no login pages exist).
MACHINE_ROOT_URLCONF = "portal.urls_machine"
MACHINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy header on every portal response (settings below).
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
if ATRIUM_LISTENER == "machine":
    ROOT_URLCONF = MACHINE_ROOT_URLCONF
    MIDDLEWARE = MACHINE_MIDDLEWARE
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # accounts/templates second: its account/ and socialaccount/ overrides (the login page)
        # must win over allauth's, which the app loader would find first.
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "accounts" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "portal.context_processors_accounts.account_switcher",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{RUN_DIR / 'portal.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authorization codes, rate limits and OTP replay checks live here: every portal process must
# share it (STACK.md), so there is no per-process default.
CACHES = {"default": env_cache("ATRIUM_CACHE_URL", "db://atrium_cache")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id at 7 MiB, t=5, p=1 (accounts/hashers.py); PBKDF2 after it so older hashes still
# verify and are rehashed with Argon2id at the person's next login. Tests set a fast hasher.
PASSWORD_HASHERS = env_list(
    "ATRIUM_PASSWORD_HASHERS",
    [
        "accounts.hashers.Argon2idPasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)

SESSION_COOKIE_NAME = "atrium_sessionid"
CSRF_COOKIE_NAME = "atrium_csrftoken"
SESSION_COOKIE_AGE = env_int("ATRIUM_SESSION_COOKIE_AGE", 12 * 3600)
# Secure cookies whenever Atrium is served over TLS; the demo is plain HTTP on loopback.
SESSION_COOKIE_SECURE = env_bool("ATRIUM_SECURE_COOKIES", ATRIUM_ISSUER.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Hardening (issue 11): security headers. Production is an https issuer; the demo (plain HTTP
# on loopback) must not send HSTS or redirect to TLS, or browsers would pin 127.0.0.1 to https.
ATRIUM_PRODUCTION = ATRIUM_ISSUER.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("ATRIUM_HSTS_SECONDS", 365 * 24 * 3600 if ATRIUM_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ATRIUM_HSTS_INCLUDE_SUBDOMAINS", ATRIUM_PRODUCTION)
SECURE_HSTS_PRELOAD = False  # preloading is a decision for the domain's owner, not a default
# TLS ends at the load balancer in production; it tells Django so in this header (set it there,
# and strip it from what clients send), so redirects and `is_secure()` see https.
SECURE_SSL_REDIRECT = env_bool("ATRIUM_SSL_REDIRECT", ATRIUM_PRODUCTION)
if env_bool("ATRIUM_BEHIND_TLS_PROXY", ATRIUM_PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is probed over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Content Security Policy (django-csp): every script and style is a static file served by
# whitenoise (no inline script, style element or style attribute in our templates); images may
# be data: URLs (the MFA QR code). form-action is left open on purpose: sign-in forms redirect to
# regions and customer IdPs, which Chromium checks against form-action.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# allauth: email is the login; there is no username.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Self-serve sign-up: confirming the email in the browser that signed up signs the person in
# (allauth only does so for the session holding that pending login) and onboarding follows.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True

# Customer SSO (accounts/sso.py): email-first login; one allauth OpenID Connect app per account,
# from the database; the adapter admits only addresses of the account's verified domains, links
# by email only then, and signs people up without a form (the IdP vouched for the address).
ACCOUNT_FORMS = {"login": "accounts.forms_login.EmailFirstLoginForm"}
SOCIALACCOUNT_ADAPTER = "accounts.adapters_social.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# DNS TXT proof of claimed domains: "host:port" of the resolver to ask, empty for the system's.
ATRIUM_DNS_RESOLVER = env_str("ATRIUM_DNS_RESOLVER", "")
if ATRIUM_DNS_RESOLVER and not ATRIUM_DNS_RESOLVER.rpartition(":")[2].isdigit():
    raise ImproperlyConfigured(f"ATRIUM_DNS_RESOLVER must be host:port, got {ATRIUM_DNS_RESOLVER!r}")
# IdP issuers must be https:// unless this is on (tests and the demo run IdPs on plain loopback).
ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = env_bool("ATRIUM_SSO_ALLOW_INSECURE_ISSUERS", False)

# allauth.idp.oidc: Atrium is the OpenID Connect provider every region trusts.
IDP_OIDC_ADAPTER = "accounts.oidc.AtriumOIDCAdapter"
OIDC_SIGNING_KEY_FILE = Path(env_str("ATRIUM_OIDC_KEY_FILE", str(RUN_DIR / "keys" / "oidc-signing.pem")))
IDP_OIDC_PRIVATE_KEY = OIDC_SIGNING_KEY_FILE.read_text() if OIDC_SIGNING_KEY_FILE.exists() else ""
IDP_OIDC_ACCESS_TOKEN_FORMAT = "jwt"
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = env_int("ATRIUM_ACCESS_TOKEN_EXPIRES_IN", 3600)
IDP_OIDC_ID_TOKEN_EXPIRES_IN = env_int("ATRIUM_ID_TOKEN_EXPIRES_IN", 300)
# Only clients with the refresh_token grant get one (accounts/refresh_tokens.py); rotated on use.
IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = env_int("ATRIUM_REFRESH_TOKEN_EXPIRES_IN", 30 * 24 * 3600)
IDP_OIDC_ROTATE_REFRESH_TOKEN = True
# Client secrets are stored as HMAC-SHA-256 under this key (accounts/client_secrets.py); unset,
# a key is derived from SECRET_KEY with a salt of its own. Changing it invalidates every secret.
ATRIUM_CLIENT_SECRET_KEY = env_str("ATRIUM_CLIENT_SECRET_KEY", "")
ATRIUM_RATE_LIMITS_ENABLED = not env_bool("ATRIUM_DISABLE_RATE_LIMITS", False)
# allauth's limits, spelled out (its defaults, with login failures per email and per address):
# over one, a 429 page (or "too many failed login attempts"), and an `auth.lockout` audit row
# (accounts/security_events.py). "m" is a minute; "ip" the client address, "key" the email.
ATRIUM_ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}
ACCOUNT_RATE_LIMITS = ATRIUM_ACCOUNT_RATE_LIMITS
if not ATRIUM_RATE_LIMITS_ENABLED:
    # Tests log in many times from one address; production keeps allauth's limits.
    ACCOUNT_RATE_LIMITS = False
    IDP_OIDC_RATE_LIMITS = False
# Token endpoint limits (accounts/ratelimits.py), fixed windows in the shared cache: requests per
# client (those that authenticate) and per IP; a failed client authentication costs the IP more.
ATRIUM_TOKEN_RATE_WINDOW = env_int("ATRIUM_TOKEN_RATE_WINDOW", 60)
ATRIUM_TOKEN_RATE_PER_CLIENT = env_int("ATRIUM_TOKEN_RATE_PER_CLIENT", 1200)
ATRIUM_TOKEN_RATE_PER_IP = env_int("ATRIUM_TOKEN_RATE_PER_IP", 2400)
ATRIUM_TOKEN_RATE_FAILED_AUTH_COST = env_int("ATRIUM_TOKEN_RATE_FAILED_AUTH_COST", 20)
# Where `regions_register_clients` writes each region's OIDC client secret (git-ignored).
ATRIUM_SECRETS_DIR = Path(env_str("ATRIUM_SECRETS_DIR", str(RUN_DIR / "secrets")))

# Mutual TLS towards the regions' machine ports (dev CA from `manage.py pki_init`).
ATRIUM_PKI_DIR = Path(env_str("ATRIUM_PKI_DIR", str(RUN_DIR / "pki")))
ATRIUM_TLS_CA_FILE = Path(env_str("ATRIUM_TLS_CA_FILE", str(ATRIUM_PKI_DIR / "ca.pem")))
ATRIUM_TLS_CLIENT_CERT = Path(env_str("ATRIUM_TLS_CLIENT_CERT", str(ATRIUM_PKI_DIR / "atrium-client.pem")))
ATRIUM_TLS_CLIENT_KEY = Path(env_str("ATRIUM_TLS_CLIENT_KEY", str(ATRIUM_PKI_DIR / "atrium-client.key")))
# The provisioner's client-credentials login at our own token endpoint.
ATRIUM_M2M_CLIENT_ID = env_str("ATRIUM_M2M_CLIENT_ID", "atrium-provisioner")
ATRIUM_M2M_CLIENT_SECRET = env_str("ATRIUM_M2M_CLIENT_SECRET", "")  # else read from ATRIUM_SECRETS_DIR
ATRIUM_REGION_TIMEOUT = env_float("ATRIUM_REGION_TIMEOUT", 10.0)
# Provisioning ledger: retries with exponential backoff and jitter, then `failed`.
ATRIUM_PUSH_BACKOFF_BASE = env_float("ATRIUM_PUSH_BACKOFF_BASE", 5.0)
ATRIUM_PUSH_BACKOFF_CAP = env_float("ATRIUM_PUSH_BACKOFF_CAP", 900.0)
ATRIUM_PUSH_MAX_ATTEMPTS = env_int("ATRIUM_PUSH_MAX_ATTEMPTS", 12)
ATRIUM_PUSH_LEASE_SECONDS = env_int("ATRIUM_PUSH_LEASE_SECONDS", 120)
# A retryable error turns a row `failed` only after ATRIUM_PUSH_MAX_ATTEMPTS attempts *and* this
# long failing: a region down for hours only delays delivery.
ATRIUM_PUSH_GIVE_UP_AFTER = env_int("ATRIUM_PUSH_GIVE_UP_AFTER", 24 * 3600)
ATRIUM_SWEEP_INTERVAL = env_float("ATRIUM_SWEEP_INTERVAL", 10.0)

# Mail: printed on the console in the demo; in production point ATRIUM_EMAIL_BACKEND at
# django.core.mail.backends.smtp.EmailBackend and set the SMTP variables.
EMAIL_BACKEND = env_str("ATRIUM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("ATRIUM_FROM_EMAIL", "Atrium <no-reply@atrium.test>")
EMAIL_HOST = env_str("ATRIUM_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("ATRIUM_SMTP_PORT", 587)
EMAIL_HOST_USER = env_str("ATRIUM_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("ATRIUM_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ATRIUM_SMTP_STARTTLS", True)
EMAIL_TIMEOUT = env_int("ATRIUM_SMTP_TIMEOUT", 10)
# Invitations: how long a link stays valid (days).
ATRIUM_INVITATION_DAYS = env_int("ATRIUM_INVITATION_DAYS", 7)

# Celery: a broker without a server in the demo (filesystem), Redis in tests and production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_FOLDER = Path(env_str("ATRIUM_BROKER_DIR", str(RUN_DIR / "broker")))
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing must fail fast when the broker is down: the outbox row stays and the sweeper delivers.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_FOLDERS = []
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDERS = [
        CELERY_BROKER_FOLDER / "queue",
        CELERY_BROKER_FOLDER / "processed",
        CELERY_BROKER_FOLDER / "control",
        CELERY_BROKER_FOLDER / "staging",
    ]
    # kombu's filesystem transport with atomic writes (portal/broker.py): a worker polling the
    # queue folder never reads a message half written.
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "staging_folder": str(CELERY_BROKER_FOLDERS[3]),
        "data_folder_in": str(CELERY_BROKER_FOLDERS[0]),
        "data_folder_out": str(CELERY_BROKER_FOLDERS[0]),
        "processed_folder": str(CELERY_BROKER_FOLDERS[1]),
        # kombu writes its exchange tables to ./control by default: inside the checkout.
        "control_folder": str(CELERY_BROKER_FOLDERS[2]),
        # The filesystem transport polls its folder (1 s by default): a change would wait for
        # the worker's next look. 20 ms keeps propagation fast at a negligible idle cost.
        "polling_interval": env_float("ATRIUM_BROKER_POLL_SECONDS", 0.02),
    }
CELERY_BEAT_SCHEDULE = {
    "provisioning-sweep": {"task": "regions.tasks.sweep_due_pushes", "schedule": ATRIUM_SWEEP_INTERVAL},
    "removals-sweep": {"task": "accounts.tasks.finish_confirmed_removals", "schedule": 60.0},
    # Trials: expiry and the 7-day / 1-day reminder mails (idempotent: each sent once).
    "trials-sweep": {"task": "products.tasks.sweep_trials", "schedule": 300.0},
    # Billing: renew and invoice what ended, then dunning (idempotent; billing/tasks.py).
    "billing-invoices": {"task": "billing.tasks.run_invoices", "schedule": 300.0},
    # The sales dashboard's members' counts (billing/sales_activity.py; fresh for 15 minutes).
    "billing-activity": {"task": "billing.tasks.refresh_account_activity", "schedule": 300.0},
}
ATRIUM_BILLING_GRACE_DAYS = env_int("ATRIUM_BILLING_GRACE_DAYS", 14)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atrium API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Accounts, members, invitations, groups, the audit log; the catalog, entitlements "
    "and trials. Authenticate with the portal session "
    "or an Atrium OIDC access token granted the `atrium:api` scope.",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end assets come from npm (no CDN is reachable) and are served by whitenoise.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ATRIUM_LOG_LEVEL", "INFO")},
    # One line per region request is noise; failures are logged by the ledger.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
