"""A tiny standalone relying party ("Team Chat") for end-to-end tests of connected apps.

It imports nothing from Atrium: it reads Atrium's discovery document, runs the authorization
code flow with PKCE (S256) as a confidential client, validates the ID token against Atrium's
JWKS (signature, `iss`, `aud`, `nonce`) and shows the email it carries. Every request that
reaches its callback is recorded and listed at `/seen` (JSON), so a test can prove that a
refused sign-in never brought a code here.

Run by gunicorn (`app:application`, one process, threads) with RP_ISSUER, RP_CLIENT_ID,
RP_CLIENT_SECRET and RP_BASE_URL in the environment.
"""

import base64
import hashlib
import html
import json
import os
import secrets
import threading
from urllib.parse import parse_qs, urlencode

import httpx
import jwt

ISSUER = os.environ["RP_ISSUER"].rstrip("/")
CLIENT_ID = os.environ["RP_CLIENT_ID"]
CLIENT_SECRET = os.environ["RP_CLIENT_SECRET"]
BASE_URL = os.environ["RP_BASE_URL"].rstrip("/")
REDIRECT_URI = BASE_URL + "/callback"

_lock = threading.Lock()
_pending: dict[str, tuple[str, str]] = {}  # state -> (PKCE verifier, nonce)
_seen: list[dict] = []  # the query of every callback request, in order


def _discovery() -> dict:
    response = httpx.get(ISSUER + "/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def _page(start_response, status: str, body: str, headers=()):
    data = f"<!doctype html><title>Team Chat</title><body>{body}</body>".encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), *headers])
    return [data]


def _login(start_response):
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with _lock:
        _pending[state] = (verifier, nonce)
    query = urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    location = _discovery()["authorization_endpoint"] + "?" + query
    start_response("302 Found", [("Location", location)])
    return [b""]


def _callback(start_response, query: dict[str, str]):
    with _lock:
        _seen.append(query)
        pending = _pending.pop(query.get("state", ""), None)
    if "error" in query:
        return _page(start_response, "403 Forbidden", f'<p data-rp="error">{html.escape(query["error"])}</p>')
    if pending is None or "code" not in query:
        return _page(start_response, "400 Bad Request", '<p data-rp="error">unknown state</p>')
    verifier, nonce = pending
    config = _discovery()
    tokens = httpx.post(
        config["token_endpoint"],
        data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )  # fmt: skip
    if tokens.status_code != 200:
        body = f'<p data-rp="error">token endpoint said {tokens.status_code}: {html.escape(tokens.text)}</p>'
        return _page(start_response, "502 Bad Gateway", body)
    id_token = tokens.json()["id_token"]
    key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER)
    if claims.get("nonce") != nonce:
        return _page(start_response, "400 Bad Request", '<p data-rp="error">nonce mismatch</p>')
    email = html.escape(claims.get("email", ""))
    return _page(start_response, "200 OK", f'<p>Signed in to Team Chat as <b data-rp="email">{email}</b></p>')


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    if path == "/login":
        return _login(start_response)
    if path == "/callback":
        return _callback(start_response, query)
    if path == "/seen":
        with _lock:
            data = json.dumps(_seen).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]
    if path == "/":
        return _page(start_response, "200 OK", '<a href="/login">Sign in with Atrium</a>')
    return _page(start_response, "404 Not Found", "not found")
