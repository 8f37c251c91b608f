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
- login: password logins/s per core (GET the form, POST email + password; the user's password
  hasher dominates), or `n/a` when no demo user can sign in.
- region code exchange: one authorization-code grant by a region's login client (its secret read
  from `.run/secrets/region-<code>.json`), and a first visit to a region by someone already signed
  in at Atrium (region -> authorize -> callback -> code exchange -> region page), median times.

"Hash bound" is the rate at which one core could do nothing but the client-secret check: 1 / the
median time of `Client.check_secret(secret)` in this process on a client whose secret was set the
way Atrium sets secrets (`Client.set_secret`), with the demo's settings. The final line puts the
client_credentials rate per core as a percentage of it: near 100 % means the secret check is the
whole cost of a grant; a small figure means the rest of the request (JWT signing, database) is.
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
from urllib.parse import parse_qs, urlparse

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


def login_worker(_: int):
    def one() -> None:
        with httpx.Client(timeout=60) as http:
            sign_in(http)

    return one


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

    bound = hash_bound_per_second()
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
    try:
        login = run_phase("login", login_worker, seconds=args.seconds, concurrency=args.concurrency)
        login_text = f"{login / args.cores:.1f}"
    except RuntimeError as exc:
        if isinstance(exc, RateLimited):
            raise
        print(f"login: n/a ({exc})")
        login_text = "n/a"
    region_figures(region, args.samples)
    per_core = cc / args.cores
    print(
        f"idp: client_credentials {per_core:.1f}/s/core, refresh {refresh / args.cores:.1f}/s/core, "
        f"login {login_text}/s/core ({per_core / bound * 100:.2g}% of hash bound)"
    )


if __name__ == "__main__":
    main()
