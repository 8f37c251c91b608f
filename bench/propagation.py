"""How fast one change reaches every region: run against a running `make demo`.

    .venv/bin/python bench/propagation.py [-n 200] [--account acme] [--member bob@acme.test]

Each of the N changes renames one demo member through the same service the members page calls
(so the ledger rows are written in the change's transaction and pushes are queued on commit,
exactly as in production), then times from the commit to the moment every region of the account
has acknowledged that version (the ledger rows read acked = desired). Changes are made one after
another. Uses the demo's settings and database; set the same environment as the demo (e.g.
CELERY_BROKER_URL for a Redis broker) when the demo runs with non-default settings.

The last line is exactly: `propagation: p50 <x> ms, p95 <y> ms, p99 <z> ms`.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.db.models import F  # noqa: E402

from accounts.models import Membership  # noqa: E402
from accounts.services import member_rename  # noqa: E402
from regions.models import ProvisioningRecord  # noqa: E402
from regions.selectors import regions_of_account  # noqa: E402

POLL_S = 0.002
TIMEOUT_S = 30.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="number of changes")
    parser.add_argument("--account", default="acme")
    parser.add_argument("--member", default="bob@acme.test", help="the member renamed each time")
    args = parser.parse_args()

    target = Membership.objects.select_related("user", "account").get(
        account__slug=args.account, user__email=args.member
    )
    actor = (
        Membership.objects.filter(account=target.account, role=Membership.Role.OWNER)
        .exclude(pk=target.pk)
        .first()
    )
    region_count = regions_of_account(account_id=target.account_id).count()
    rows = ProvisioningRecord.objects.filter(
        kind=ProvisioningRecord.Kind.USER, tenant=target.account.slug, object_key=str(target.user.public_id)
    )
    print(f"{args.n} renames of {args.member} in {args.account}, {region_count} regions")
    first_name, last_name = target.user.first_name, target.user.last_name
    latencies: list[float] = []
    try:
        for i in range(args.n):
            committed: list[float] = []
            with transaction.atomic():
                # Registered first, so it runs right at commit, before the pushes are queued.
                transaction.on_commit(lambda stamps=committed: stamps.append(time.perf_counter()))
                member_rename(actor=actor, membership=target, first_name=f"{first_name}{i % 2 or ''}",
                              last_name=last_name)  # fmt: skip
            deadline = committed[0] + TIMEOUT_S
            while True:
                if (
                    rows.filter(acked_version=F("desired_version")).count() == region_count
                    and rows.count() == region_count
                ):
                    latencies.append((time.perf_counter() - committed[0]) * 1000)
                    break
                if time.perf_counter() > deadline:
                    sys.exit(f"change {i} not acknowledged by every region within {TIMEOUT_S:.0f} s")
                time.sleep(POLL_S)
    finally:
        member_rename(actor=actor, membership=target, first_name=first_name, last_name=last_name)
    print(
        f"{len(latencies)} changes: mean {statistics.mean(latencies):.0f} ms, "
        f"min {min(latencies):.0f} ms, max {max(latencies):.0f} ms"
    )
    print(
        f"propagation: p50 {percentile(latencies, 0.50):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms"
    )


if __name__ == "__main__":
    main()
