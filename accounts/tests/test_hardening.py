"""Hardening: allauth's rate limits on login, sign-up and password reset (on in production, off in
the test run unless a test turns them on), the Content-Security-Policy on every page, and the
production headers and cookies (HSTS, TLS redirect, secure cookies, nosniff, Referrer-Policy,
X-Frame-Options DENY) that an https issuer switches on."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = settings.ATRIUM_ACCOUNT_RATE_LIMITS
    return settings


# --- rate limits -------------------------------------------------------------------------------


def test_the_test_run_has_allauths_limits_off_and_settings_spell_them_out():
    assert django_settings.ACCOUNT_RATE_LIMITS is False  # ATRIUM_DISABLE_RATE_LIMITS=1 in the run
    limits = django_settings.ATRIUM_ACCOUNT_RATE_LIMITS
    assert limits["login"] == "30/m/ip" and limits["signup"] == "20/m/ip"
    assert limits["login_failed"] == "10/m/ip,5/5m/key" and limits["reset_password"] == "20/m/ip,5/m/key"


def test_signups_from_one_address_are_limited_with_a_429(client, production_limits):
    statuses = [
        client.post(
            "/accounts/signup/",
            {"email": f"new{n}@example.test", "password1": PASSWORD, "password2": PASSWORD},
            REMOTE_ADDR="203.0.113.5",
        ).status_code
        for n in range(21)
    ]
    assert 429 not in statuses[:20] and statuses[20] == 429
    # another address is not affected
    other = client.post(
        "/accounts/signup/",
        {"email": "other@example.test", "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR="203.0.113.6",
    )
    assert other.status_code != 429


def test_password_reset_requests_for_one_email_are_limited_with_a_429(client, alice, production_limits):
    statuses = [
        client.post("/accounts/password/reset/", {"email": "alice@acme.test"}).status_code for _ in range(6)
    ]
    assert statuses[:5] == [302] * 5 and statuses[5] == 429


def test_without_the_limits_a_client_can_sign_in_again_and_again(client, alice):
    for _ in range(35):
        response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD})
        assert response.status_code == 302
        client.logout()


# --- Content-Security-Policy -------------------------------------------------------------------


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/a/acme/", "/a/acme/members/", "/a/acme/audit/"])
def test_every_page_carries_a_strict_content_security_policy(client, alice, acme, path):
    if path.startswith("/a/"):
        client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 200
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]  # the MFA QR code may be a data: image
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\bhx-on", re.I), "htmx inline handler"),
]


def project_templates() -> list[Path]:
    skip = {".venv", "node_modules", "staticfiles", "regional_server", ".run"}
    return [
        path
        for path in ROOT.rglob("*.html")
        if not skip.intersection(path.relative_to(ROOT).parts) and "emails" not in path.parts
    ]


def test_no_template_has_inline_script_or_style_the_policy_would_block():
    templates = project_templates()
    assert len(templates) > 40  # the scan sees the project's templates
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []


# --- production settings -----------------------------------------------------------------------


def settings_loaded_with(env: dict[str, str]) -> dict:
    """Import portal.settings in a fresh interpreter with only `env` set (as a server would)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ATRIUM_", "DATABASE_URL", "CELERY_"))}
    clean.update({"ATRIUM_SECRET_KEY": "x" * 50, **env})
    names = [
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS", "SECURE_PROXY_SSL_HEADER", "ACCOUNT_RATE_LIMITS", "PASSWORD_HASHERS", "MIDDLEWARE",
    ]  # fmt: skip
    code = (
        f"import json, portal.settings as s; print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_https_issuer_turns_on_hsts_tls_redirect_secure_cookies_and_the_limits():
    loaded = settings_loaded_with({"ATRIUM_ISSUER": "https://atrium.example.com"})
    assert loaded["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert (
        loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"] and loaded["SESSION_COOKIE_HTTPONLY"]
    )
    assert loaded["SECURE_CONTENT_TYPE_NOSNIFF"] and loaded["SECURE_REFERRER_POLICY"] == "same-origin"
    assert loaded["X_FRAME_OPTIONS"] == "DENY"
    assert loaded["ACCOUNT_RATE_LIMITS"]["login"] == "30/m/ip"
    assert loaded["PASSWORD_HASHERS"][0] == "accounts.hashers.Argon2idPasswordHasher"
    assert "csp.middleware.CSPMiddleware" in loaded["MIDDLEWARE"]


def test_the_plain_http_demo_sends_no_hsts_and_no_tls_redirect():
    loaded = settings_loaded_with({"ATRIUM_ISSUER": "http://127.0.0.1:8000"})
    assert loaded["SECURE_HSTS_SECONDS"] == 0 and loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is False and loaded["SECURE_PROXY_SSL_HEADER"] is None
    assert loaded["X_FRAME_OPTIONS"] == "DENY"  # framing is refused everywhere
    assert loaded["ACCOUNT_RATE_LIMITS"]["signup"] == "20/m/ip"


@pytest.fixture
def production_headers(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_in_production_a_response_carries_hsts_nosniff_referrer_policy_and_frame_denial(
    client, alice, production_headers
):
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert response.cookies["atrium_csrftoken"]["secure"] is True
    signed_in = client.post(
        "/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert signed_in.cookies["atrium_sessionid"]["secure"] is True
    assert signed_in.cookies["atrium_sessionid"]["httponly"] is True


def test_in_production_plain_http_is_redirected_to_https_but_the_health_check_is_not(
    client, production_headers
):
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200


# --- the demo's shared cache -------------------------------------------------------------------


def test_the_demos_database_cache_keeps_thousands_of_live_codes():
    # Django's default (300 entries, then a third of the keys deleted by name) dropped fresh
    # authorization codes under a few dozen logins a second: invalid_grant at the token endpoint.
    from django.core.cache.backends.db import DatabaseCache

    from portal.env import env_cache

    config = env_cache("ATRIUM_TEST_UNSET_CACHE_URL", "db://atrium_cache")
    cache = DatabaseCache(config["LOCATION"], {"OPTIONS": config["OPTIONS"]})
    assert config["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache._max_entries >= 50_000
