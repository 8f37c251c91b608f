"""How fast the members page answers for an account of 10,000 members in 3 regions.

    .venv/bin/python bench/pages.py [-n 50] [--members 10000]

Uses the demo's settings and database (set the same environment as the demo, e.g.
ATRIUM_RUN_DIR). First builds, once, the account "initech" with that many members in the
demo's three regions: users, memberships, groups and ledger rows are bulk-created directly —
a benchmark fixture, not a change, so nothing is pushed; its unsynced ledger rows are parked
(next attempt in 2100) so a running demo's sweeper never sends them. Running it again reuses
what exists. Then it requests the members page in this process with Django's test client,
signed in as the account's owner: N times the first page and N times a filtered search, and
reports the server time of each request (middleware, views, queries, templates; no network)
and the number of queries per request.

The last line is exactly: `pages: members p95 <x> ms <q> queries`.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, Group, GroupMember, Membership, User  # noqa: E402
from accounts.provisioning import member_scim_resource  # noqa: E402
from accounts.services import account_create, account_region_add, user_create  # noqa: E402
from portal.management.commands.load_demo import DEMO_PASSWORD, DEMO_REGIONS  # noqa: E402
from regions.models import AccountRegion, ProvisioningRecord, Region  # noqa: E402

SLUG = "initech"
OWNER = "bill@initech.test"
DOMAIN = "initech.test"
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Eva",
    "Femi",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Nakamura", "Okafor", "Silva", "Kowalski", "Dubois",
        "Novak", "Larsen", "Haddad", "Singh", "Walsh", "Ivanova", "Chen"]  # fmt: skip
PARKED = datetime(2100, 1, 1, tzinfo=UTC)
State = ProvisioningRecord.State


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def build(size: int) -> Account:
    """The bench account, its regions, groups and `size` members with ledger rows (idempotent)."""
    regions = []
    for code, name, people_port, machine_port in DEMO_REGIONS:
        region, _ = Region.objects.get_or_create(
            code=code,
            defaults={"name": name, "people_url": f"http://127.0.0.1:{people_port}",
                      "machine_url": f"https://127.0.0.1:{machine_port}"},
        )  # fmt: skip
        regions.append(region)
    account = Account.objects.filter(slug=SLUG).first()
    if account is None:
        owner = User.objects.filter(email=OWNER).first() or user_create(
            email=OWNER, password=DEMO_PASSWORD, first_name="Bill", last_name="Lumbergh", email_verified=True
        )
        account = account_create(name="Initech", slug=SLUG, owner=owner)
    for region in regions:
        if not AccountRegion.objects.filter(account=account, region=region).exists():
            account_region_add(account=account, region=region)
    groups = [
        Group.objects.get_or_create(account=account, name=name)[0]
        for name in ("Backup operators", "Engineering", "Sales")
    ]
    have = Membership.objects.filter(account=account).exclude(user__email=OWNER).count()
    if have < size:
        started = time.perf_counter()
        _add_members(account, regions, groups, range(have, size))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics, as a live database keeps them
        print(
            f"built {size - have} members × {len(regions)} regions in {time.perf_counter() - started:.1f} s"
        )
    return account


@transaction.atomic
def _add_members(account: Account, regions: list[Region], groups: list[Group], numbers: range) -> None:
    password = make_password(None)  # unusable: these people never sign in
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(email=f"person{n:05d}@{DOMAIN}", first_name=FIRST[n % len(FIRST)],
                 last_name=LAST[(n // len(FIRST)) % len(LAST)], password=password)
            for n in numbers
        ],
        batch_size=500,
    )  # fmt: skip
    memberships = Membership.objects.bulk_create(
        [
            Membership(account=account, user=user, role=_role(n), status=_status(n),
                       created_at=now - timedelta(minutes=len(numbers) - i))
            for i, (n, user) in enumerate(zip(numbers, users, strict=True))
        ],
        batch_size=500,
    )  # fmt: skip
    records = []
    for n, membership in zip(numbers, memberships, strict=True):
        desired = None if membership.is_removing else member_scim_resource(membership)
        for region in regions:
            records.append(_record(n, membership, region, desired, now))
    ProvisioningRecord.objects.bulk_create(records, batch_size=500, ignore_conflicts=True)
    links = [
        GroupMember(group=group, membership=membership)
        for n, membership in zip(numbers, memberships, strict=True)
        for k, group in enumerate(groups)
        if n % (3 + 4 * k) == 0
    ]
    GroupMember.objects.bulk_create(links, batch_size=500, ignore_conflicts=True)


def _role(n: int) -> str:
    for every, role in (
        (50, Membership.Role.ADMIN),
        (97, Membership.Role.BILLING),
        (89, Membership.Role.READ_ONLY),
    ):
        if n % every == 0:
            return role
    return Membership.Role.MEMBER


def _status(n: int) -> str:
    if n % 500 == 7:
        return Membership.Status.REMOVING
    return Membership.Status.SUSPENDED if n % 40 == 0 else Membership.Status.ACTIVE


def _record(n: int, membership: Membership, region: Region, desired, now) -> ProvisioningRecord:
    state, error = State.SYNCED, ""
    if desired is None or n % 1000 == 9:
        state = State.PENDING
    elif region.code == "au" and n % 200 == 3:
        state, error = State.FAILED, "HTTP 409: userName already taken in tenant initech"
    elif region.code == "eu" and n % 300 == 5:
        state, error = State.RETRYING, "region unreachable: connection refused"
    synced = state == State.SYNCED
    return ProvisioningRecord(
        kind=ProvisioningRecord.Kind.USER, tenant=SLUG, object_key=str(membership.user.public_id),
        region=region, desired=desired, desired_version=1, sent_version=1 if synced else 0,
        acked_version=1 if synced else 0, acked=desired if synced else None, state=state, last_error=error,
        acked_at=now if synced else None, next_attempt_at=None if synced else PARKED,
    )  # fmt: skip


def measure(client: Client, url: str, n: int) -> tuple[list[float], int, int]:
    """Server times (ms) of n requests, queries of one, and the page's size in bytes."""
    for _ in range(3):  # warm up: template and URL caches, the database's page cache
        client.get(url)
    queries = []
    # Counted at the cursor: the test client's request_started signal resets connection.queries.
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="requests per page")
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()

    account = build(args.members)
    owner = Membership.objects.select_related("user").get(account=account, role=Membership.Role.OWNER).user
    total = Membership.objects.filter(account=account).count()
    records = ProvisioningRecord.objects.filter(
        tenant=account.slug, kind=ProvisioningRecord.Kind.USER
    ).count()
    print(f"account {SLUG}: {total} members, {records} ledger rows, {connection.vendor}")
    client = Client()
    client.force_login(owner)
    pages = {
        "first page": f"/a/{SLUG}/members/",
        "filtered search": f"/a/{SLUG}/members/?q=smith&role=member&status=active&sort=name",
    }
    extra = {
        "sync filter": f"/a/{SLUG}/members/?sync=failed&sort=-joined",
        "last page": f"/a/{SLUG}/members/?page=9999",
    }
    timed, most_queries = [], 0
    for label, url in (pages | extra).items():
        times, queries, size = measure(client, url, args.n)
        print(
            f"{label:<16} p50 {percentile(times, 0.5):5.1f} ms  p95 {percentile(times, 0.95):5.1f} ms  "
            f"max {max(times):5.1f} ms  {queries} queries  {size / 1024:.0f} KB  {url}"
        )
        if label in pages:
            timed += times
            most_queries = max(most_queries, queries)
    print(f"{len(timed)} requests: mean {statistics.mean(timed):.1f} ms")
    print(f"pages: members p95 {percentile(timed, 0.95):.0f} ms {most_queries} queries")


if __name__ == "__main__":
    main()
