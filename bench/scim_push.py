"""Benchmark: SCIM pushes from Atrium to one region over mutual TLS (what the worker does).

Needs the demo running (`make demo`). Usage: .venv/bin/python bench/scim_push.py [--region eu] [-n 200]
Creates users in a throwaway tenant, replaces them, lists them, deletes them; prints figures.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from regions import client  # noqa: E402
from regions.models import Region  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def summary(name: str, samples: list[float]) -> str:
    total = sum(samples)
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    return (
        f"{name}: {len(samples)} in {total:.2f} s ({len(samples) / total:.0f}/s), "
        f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", default="eu")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    region = Region.objects.get(code=args.region)
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    print(f"region {region.code} at {region.machine_url}, tenant {tenant}, {args.n} users")

    token_s = timed(lambda: client.m2m_token(audience=region.machine_url, fresh=True))
    print(f"m2m token (client credentials at Atrium): {token_s * 1000:.0f} ms")

    resources = [
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
         "externalId": str(uuid.uuid4()), "userName": f"u{i}@{tenant}.test", "name": {"givenName": f"U{i}"},
         "emails": [{"value": f"u{i}@{tenant}.test", "primary": True}], "active": True}
        for i in range(args.n)
    ]  # fmt: skip
    where = {"machine_url": region.machine_url, "tenant": tenant}
    remote_ids: dict[str, str] = {}

    def upsert(resource):
        remote = client.scim_user_upsert(
            **where, resource=resource, remote_id=remote_ids.get(resource["externalId"], "")
        )
        remote_ids[resource["externalId"]] = remote.remote_id

    def delete(resource):
        client.scim_user_delete(
            **where, external_id=resource["externalId"], remote_id=remote_ids[resource["externalId"]]
        )

    print(summary("create (lookup by externalId + POST)", [timed(lambda r=r: upsert(r)) for r in resources]))
    for resource in resources:
        resource["active"] = False
    print(summary("replace (PUT by remote id)", [timed(lambda r=r: upsert(r)) for r in resources]))
    listed: list = []
    list_s = timed(lambda: listed.extend(client.scim_users_list(**where)))
    print(f"list all {len(listed)} users (pages of 100): {list_s * 1000:.0f} ms")
    print(summary("delete", [timed(lambda r=r: delete(r)) for r in resources]))


if __name__ == "__main__":
    main()
