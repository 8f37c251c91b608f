"""Benchmark: Atrium's identity provider (token endpoint and password login) on a running demo.

Needs `make demo` running from this checkout at http://127.0.0.1:8000, started with rate limits off,
because the bench sends thousands of requests from one address and every limit would otherwise
answer 429 after its budget (the bench stops with that advice if it ever sees a 429):

    ATRIUM_DISABLE_RATE_LIMITS=1 make demo
    .venv/bin/python bench/idp.py [--seconds 8] [--concurrency 8] [--cores 2]

What it measures (each phase runs `--concurrency` threads for `--seconds`, so the portal's two
gunicorn workers keep both cores busy; rates are divided by `--cores`, the cores the portal had):

- client_credentials: grants/s per core for the provisioner (`.run/secrets/atrium-provisioner.json`),
  audience = the first region's machine URL, as the worker asks for it.
- refresh: refresh-token grants/s per core (rotation on: every grant writes a new refresh token).
  Region login clients get no refresh tokens, so the bench registers its own client `bench-idp`
  (authorization_code + refresh_token, a fresh secret each run) directly in the demo's database
  (same checkout, same settings), signs alice in once per thread and takes one code flow per thread.
- login: full password logins/s per core, as a region's first visit makes them for someone not yet
  signed in: authorize (-> login page) -> GET the form -> POST email + password -> authorize again
  (-> 302 with the code) -> code for tokens at the token endpoint with PKCE; a fresh client (no
  cookies, new connection) each time. alice's stored hash is Argon2id (accounts/hashers.py; a
  PBKDF2 hash from an older demo is upgraded by the warm-up login); `n/a` when she cannot sign in.
- region code exchange: one authorization-code grant by a region's login client (its secret read
  from `.run/secrets/region-<code>.json`), and a first visit to a region by someone already signed
  in at Atrium (region -> authorize -> callback -> code exchange -> region page), median times.

Two bounds are measured in this process with the demo's settings, printed before the phases:
- the client-secret bound: 1 / the median time of `Client.check_secret(secret)` on a client whose
  secret was set the way Atrium sets secrets (`Client.set_secret`, HMAC-SHA-256: microseconds);
- the "hash bound" of the final line: 1 / the median time of checking alice's password against
  an Argon2id hash made by the first of PASSWORD_HASHERS (7 MiB, t=5, p=1): the rate at which one
  core could do nothing but the password check. The final line puts the login rate per core as a
  percentage of it: near 100 % means the hash is the whole cost of a login; the rest is the five
  requests around it (sessions, CSRF, the code, signing the tokens). Targets (issue 11): logins
  >= 30/s/core and >= 50 % of the hash bound; client_credentials and refresh >= 240/s/core.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from allauth.idp.oidc.models import Client  # noqa: E402
from django.conf import settings  # noqa: E402

from regions.models import Region  # noqa: E402

PORTAL = settings.ATRIUM_ISSUER
TOKEN_URL = f"{PORTAL}/identity/o/api/token"
DEMO_EMAIL = "alice@acme.test"
DEMO_PASSWORD = "demo-pass-2026"
BENCH_CLIENT_ID = "bench-idp"
BENCH_REDIRECT_URI = f"{PORTAL}/bench-idp/callback"  # never followed: the code is read off the 302


class RateLimited(RuntimeError):
    pass


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def check(response: httpx.Response, expected: int = 200) -> httpx.Response:
    if response.status_code == 429:
        raise RateLimited("the portal answered 429: start the demo with ATRIUM_DISABLE_RATE_LIMITS=1")
    if response.status_code != expected:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url}: {response.status_code} {response.text[:300]}")
    return response


def run_phase(name: str, make_worker, *, seconds: float, concurrency: int) -> float:
    """Run `concurrency` threads, each calling its own worker function until the deadline;
    return completed operations per second (wall clock)."""
    counts = [0] * concurrency
    errors: list[BaseException] = []
    workers = [make_worker(i) for i in range(concurrency)]
    start = time.perf_counter()
    deadline = start + seconds

    def loop(i: int) -> None:
        try:
            while time.perf_counter() < deadline and not errors:
                workers[i]()
                counts[i] += 1
        except BaseException as exc:  # reported below; a bench must not hide a failing phase
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    rate = sum(counts) / elapsed
    print(f"{name}: {sum(counts)} in {elapsed:.1f} s = {rate:.1f}/s")
    return rate


def hash_bound_per_second(samples: int = 20) -> float:
    secret = secrets.token_urlsafe(32)
    client = Client(id="bench-hash-bound", name="bench")
    client.set_secret(secret)
    client.pk = None  # in memory only: an upgrade-on-use, if any, must not touch the database
    assert client.check_secret(secret)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        client.check_secret(secret)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"secret check in process: {median * 1e6:.1f} µs -> hash bound {1 / median:,.0f}/s on one core")
    return 1 / median


def password_hash_bound_per_second(samples: int = 20) -> float:
    """1 / the median Argon2id check of the demo password (the preferred hasher's parameters)."""
    from django.contrib.auth.hashers import check_password, get_hasher, make_password

    hasher = get_hasher("default")
    encoded = make_password(DEMO_PASSWORD, hasher=hasher.algorithm)
    assert check_password(DEMO_PASSWORD, encoded)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        check_password(DEMO_PASSWORD, encoded)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    summary = hasher.safe_summary(encoded)
    params = ", ".join(
        f"{k}={summary[k]}" for k in ("variety", "memory cost", "time cost", "parallelism") if k in summary
    )
    print(f"password check in process ({hasher.algorithm} {params}): {median * 1000:.1f} ms "
          f"-> hash bound {1 / median:,.1f}/s on one core")  # fmt: skip
    return 1 / median


def read_secret(name: str) -> dict:
    return json.loads((settings.ATRIUM_SECRETS_DIR / name).read_text())


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the login page")
    return match.group(1)


def sign_in(http: httpx.Client) -> None:
    page = check(http.get(f"{PORTAL}/accounts/login/"))
    done = http.post(
        f"{PORTAL}/accounts/login/",
        data={
            "csrfmiddlewaretoken": csrf_token_in(page.text),
            "login": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
        },
        headers={"Referer": f"{PORTAL}/accounts/login/"},
        follow_redirects=False,
    )
    check(done, 302)


def authorization_code(http: httpx.Client, client_id: str, redirect_uri: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response = http.get(
        f"{PORTAL}/identity/o/authorize",
        follow_redirects=False,
        params={"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                "scope": "openid email profile", "state": "s", "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge, "code_challenge_method": "S256"},
    )  # fmt: skip
    check(response, 302)
    return parse_qs(urlparse(response.headers["Location"]).query)["code"][0], verifier


def register_bench_client() -> str:
    """A confidential client that uses refresh tokens (region login clients do not)."""
    secret = secrets.token_urlsafe(32)
    client = Client.objects.filter(id=BENCH_CLIENT_ID).first() or Client(id=BENCH_CLIENT_ID)
    client.name = "Benchmark (bench/idp.py)"
    client.type = Client.Type.CONFIDENTIAL
    client.skip_consent = True
    client.set_scopes(["openid", "email", "profile"])
    client.set_default_scopes(["openid"])
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN])
    client.set_response_types(["code"])
    client.set_redirect_uris([BENCH_REDIRECT_URI])
    client.set_secret(secret)
    client.save()
    return secret


def client_credentials_worker(provisioner: dict, audience: str):
    http = httpx.Client(timeout=60)
    auth = basic(provisioner["client_id"], provisioner["client_secret"])
    data = {"grant_type": "client_credentials", "scope": "scim", "resource": audience}

    def one() -> None:
        check(http.post(TOKEN_URL, data=data, headers={"Authorization": auth}))

    return one


def refresh_worker(secret: str):
    http = httpx.Client(timeout=60)
    sign_in(http)
    code, verifier = authorization_code(http, BENCH_CLIENT_ID, BENCH_REDIRECT_URI)
    auth = basic(BENCH_CLIENT_ID, secret)
    tokens = check(
        http.post(
            TOKEN_URL,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": BENCH_REDIRECT_URI,
                  "code_verifier": verifier},
            headers={"Authorization": auth},
        )
    ).json()  # fmt: skip
    state = {"refresh_token": tokens["refresh_token"]}

    def one() -> None:
        data = {"grant_type": "refresh_token", "refresh_token": state["refresh_token"]}
        response = check(http.post(TOKEN_URL, data=data, headers={"Authorization": auth}))
        state["refresh_token"] = response.json()["refresh_token"]

    return one


def full_login(http: httpx.Client, secret: str) -> dict:
    """authorize -> login page -> password -> authorize -> code -> tokens (PKCE), as a browser
    that is not signed in yet and the relying party behind it do."""
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": BENCH_CLIENT_ID, "redirect_uri": BENCH_REDIRECT_URI,
              "scope": "openid email profile", "state": "s", "nonce": secrets.token_urlsafe(8),
              "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
    to_login = check(http.get(f"{PORTAL}/identity/o/authorize", params=params, follow_redirects=False), 302)
    login_url = urljoin(PORTAL, to_login.headers["Location"])
    if not urlparse(login_url).path.startswith("/accounts/login"):
        raise RuntimeError(f"authorize sent a signed-out visitor to {login_url}, not the login page")
    page = check(http.get(login_url))
    next_url = parse_qs(urlparse(login_url).query).get("next", [""])[0]
    signed_in = check(
        http.post(
            login_url,
            data={"csrfmiddlewaretoken": csrf_token_in(page.text), "login": DEMO_EMAIL,
                  "password": DEMO_PASSWORD, "next": next_url},
            headers={"Referer": login_url},
            follow_redirects=False,
        ),
        302,
    )  # fmt: skip
    back = urljoin(PORTAL, signed_in.headers["Location"])
    with_code = check(http.get(back, follow_redirects=False), 302)
    query = parse_qs(urlparse(with_code.headers["Location"]).query)
    if "code" not in query:
        raise RuntimeError(f"no code after the login: {with_code.headers['Location'][:200]}")
    tokens = check(
        http.post(
            TOKEN_URL,
            data={"grant_type": "authorization_code", "code": query["code"][0],
                  "redirect_uri": BENCH_REDIRECT_URI, "code_verifier": verifier},
            headers={"Authorization": basic(BENCH_CLIENT_ID, secret)},
        )
    ).json()  # fmt: skip
    if "id_token" not in tokens:
        raise RuntimeError(f"the token response has no id_token: {sorted(tokens)}")
    return tokens


def login_worker(secret: str):
    def one() -> None:
        with httpx.Client(timeout=60) as http:
            full_login(http, secret)

    return one


def demo_password_is_argon2id() -> str:
    """The algorithm of alice's stored hash, after a warm-up login (which upgrades PBKDF2)."""
    from accounts.models import User

    encoded = User.objects.get(email=DEMO_EMAIL).password
    return encoded.split("$", 2)[1] if encoded.startswith("argon2$") else encoded.split("$", 1)[0]


def region_figures(region: Region, samples: int) -> None:
    """The code exchange a region's login makes, and a whole first visit to the region."""
    secret = read_secret(f"region-{region.code}.json")["client_secret"]
    exchanges, visits = [], []
    for _ in range(samples):
        with httpx.Client(timeout=60) as http:
            sign_in(http)
            code, verifier = authorization_code(http, region.oidc_client_id, region.oidc_redirect_uri)
            start = time.perf_counter()
            check(
                http.post(
                    TOKEN_URL,
                    data={"grant_type": "authorization_code", "code": code,
                          "redirect_uri": region.oidc_redirect_uri, "code_verifier": verifier},
                    headers={"Authorization": basic(region.oidc_client_id, secret)},
                )
            )  # fmt: skip
            exchanges.append(time.perf_counter() - start)
        with httpx.Client(timeout=60, follow_redirects=True) as http:
            sign_in(http)
            start = time.perf_counter()
            landed = check(http.get(region.people_url.rstrip("/") + "/"))
            visits.append(time.perf_counter() - start)
            if str(landed.url).rstrip("/") != region.people_url.rstrip("/"):
                raise RuntimeError(f"the first visit ended at {landed.url}, not the region's home page")
    print(
        f"region {region.code}: code exchange {statistics.median(exchanges) * 1000:.0f} ms, "
        f"first visit signed in at Atrium {statistics.median(visits) * 1000:.0f} ms (median of {samples})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads per phase")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="cores the portal runs on")
    parser.add_argument("--region", default="us", help="region for the code exchange and first visit")
    parser.add_argument("--samples", type=int, default=5, help="region first visits to time")
    args = parser.parse_args()

    secret_bound = hash_bound_per_second()
    bound = password_hash_bound_per_second()
    provisioner = read_secret("atrium-provisioner.json")
    region = Region.objects.get(code=args.region)
    cc = run_phase(
        "client_credentials",
        lambda i: client_credentials_worker(provisioner, region.machine_url.rstrip("/")),
        seconds=args.seconds, concurrency=args.concurrency,
    )  # fmt: skip
    bench_secret = register_bench_client()
    refresh = run_phase(
        "refresh", lambda i: refresh_worker(bench_secret), seconds=args.seconds, concurrency=args.concurrency
    )
    login_per_core = None
    try:
        with httpx.Client(timeout=60) as http:
            full_login(http, bench_secret)  # warm-up: upgrades an older PBKDF2 hash to Argon2id
        print(f"login: alice's stored hash is {demo_password_is_argon2id()}")
        login = run_phase(
            "login", lambda i: login_worker(bench_secret), seconds=args.seconds, concurrency=args.concurrency
        )
        login_per_core = login / args.cores
        login_text = f"{login_per_core:.1f}"
    except RuntimeError as exc:
        if isinstance(exc, RateLimited):
            raise
        print(f"login: n/a ({exc})")
        login_text = "n/a"
    region_figures(region, args.samples)
    per_core = cc / args.cores
    share = f"{login_per_core / bound * 100:.2g}" if login_per_core is not None else "n/a"
    print(
        "targets: login >= 30/s/core and >= 50% of hash bound, client_credentials and refresh >= 240/s/core; "
        f"client_credentials at {per_core / secret_bound * 100:.2g}% of its secret-check bound"
    )
    print(
        f"idp: client_credentials {per_core:.1f}/s/core, refresh {refresh / args.cores:.1f}/s/core, "
        f"login {login_text}/s/core ({share}% of hash bound)"
    )


if __name__ == "__main__":
    main()
