"""How fast the sales dashboard answers over 5,000 accounts and 200,000 members, and how fast the
monthly invoice run bills 5,000 accounts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/atrium_bench_sales ATRIUM_SECRET_KEY=x \\
        .venv/bin/python bench/sales_dashboard.py [-n 30] [--accounts 5000] [--members 40]

Run it against a database of its own (it migrates it first): the data is a benchmark fixture,
bulk-created directly (regions, products, plans, accounts, members with their last sign-in,
regions used, entitlements, subscriptions with seats per region, twelve months of
SubscriptionEvents with MRR before/after, trial.start audit rows), keeping the models'
invariants but writing no ledger rows (no worker runs on this database, nothing is pushed).
Running it again reuses what exists. Then, signed in as a sales manager (who sees every
account), it requests the dashboard once without the members' rollup (counted live) for
comparison, refreshes the rollup as beat does every 5 minutes (billing/sales_activity.py), and
requests the dashboard page and each JSON endpoint in this process with Django's
test client, N times each, and reports the server time (middleware, views, queries, templates;
no network) and the number of queries. Last, it runs `billing.services.invoices_run(now=...)` at
the moment every subscription's period ends, inside a transaction it rolls back (so the bench
can be run again on the same data), and reports invoices per second.

The last line is exactly: `sales: dashboard p95 <x> ms <q> queries, invoice run <n> invoices/s`.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, AuditEvent, Membership, User  # noqa: E402
from billing import pricing  # noqa: E402
from billing import services as billing  # noqa: E402
from billing.models import (  # noqa: E402
    AccountActivity,  # noqa: E402
    Plan,
    SalesOwner,
    Subscription,
    SubscriptionEvent,
    SubscriptionRegion,
)
from billing.sales import MANAGER_GROUP, REP_GROUP, sales_groups_ensure  # noqa: E402
from billing.sales_activity import account_activity_refresh  # noqa: E402
from billing.sales_selectors import TABLES  # noqa: E402
from portal.management.commands.load_demo import DEMO_PASSWORD, DEMO_REGIONS  # noqa: E402
from products.models import Entitlement, Product, ProductRegion  # noqa: E402
from regions.models import AccountRegion, Region  # noqa: E402

PREFIX = "bench-"
MANAGER, REP = "manager@sales.bench", "rep@sales.bench"
PRODUCTS = [
    ("backup", "Backup & Recovery", 30),
    ("posture", "Security Posture", 14),
    ("archiver", "Archiver", 30),
]
CURRENCY = {"us": "USD", "eu": "EUR", "au": "AUD"}
PRICE = {"USD": Decimal("12.00"), "EUR": Decimal("11.00"), "AUD": Decimal("18.00")}
# Every subscription's current period: one start for all, so the run renews each exactly once.
PERIOD_DAYS_AGO = 20


class _Rollback(Exception):
    pass


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def catalog() -> tuple[list[Region], list[Product], dict]:
    regions = []
    for code, name, people_port, machine_port in DEMO_REGIONS:
        region, _ = Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "people_url": f"http://127.0.0.1:{people_port}",
                "machine_url": f"https://127.0.0.1:{machine_port}",
            },
        )
        regions.append(region)
    products = []
    for code, name, trial_days in PRODUCTS:
        product, created = Product.objects.get_or_create(
            code=code, defaults={"name": name, "trial_days": trial_days}
        )
        if created:
            ProductRegion.objects.bulk_create([ProductRegion(product=product, region=r) for r in regions])
        products.append(product)
    plans = {}
    for product in products:
        for currency, price in PRICE.items():
            plans[(product.code, currency)] = Plan.objects.get_or_create(
                product=product,
                code=f"bench-{currency.lower()}",
                defaults={
                    "name": f"Bench {currency}",
                    "interval": "month",
                    "currency": currency,
                    "unit_price": price,
                },
            )[0]
    return regions, products, plans


def staff() -> tuple[User, User]:
    groups = sales_groups_ensure()
    people = []
    for email, group in ((MANAGER, MANAGER_GROUP), (REP, REP_GROUP)):
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=DEMO_PASSWORD
        )
        if not user.is_staff:  # sales staff are staff AND in a sales group (billing.sales)
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(groups[group])
        people.append(user)
    return people[0], people[1]


def build(size: int, members: int, rep: User) -> None:
    """`size` accounts of `members` members each, with twelve months of commercial history."""
    regions, products, plans = catalog()
    have = Account.objects.filter(slug__startswith=PREFIX).count()
    if have >= size:
        return
    started = time.perf_counter()
    for first in range(have, size, 250):
        with transaction.atomic():
            _chunk(range(first, min(size, first + 250)), members, regions, products, plans, rep)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a live database keeps them
    print(f"built {size - have} accounts × {members} members in {time.perf_counter() - started:.1f} s")


def _chunk(numbers: range, members: int, regions, products, plans, rep: User) -> None:
    now = timezone.now()
    password = make_password(None)  # unusable: these people never sign in
    accounts = Account.objects.bulk_create(
        [
            Account(name=f"Bench {n:05d}", slug=f"{PREFIX}{n:05d}", created_at=now - timedelta(days=400))
            for n in numbers
        ]
    )
    rng = random.Random(numbers.start)  # noqa: S311 (a fixed seed: the same data every time)
    users = User.objects.bulk_create(
        [
            User(
                email=f"p{k:02d}@{a.slug}.test",
                password=password,
                last_login=now - timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.8 else None,
            )
            for a in accounts
            for k in range(members)
        ],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [
            Membership(
                account=accounts[i // members],
                user=user,
                role=Membership.Role.OWNER if i % members == 0 else Membership.Role.MEMBER,
                status=Membership.Status.SUSPENDED if i % 37 == 5 else Membership.Status.ACTIVE,
            )
            for i, user in enumerate(users)
        ],
        batch_size=2000,
    )
    used, entitlements, subs, owners, trials_audit = [], [], [], [], []
    start = (now - timedelta(days=PERIOD_DAYS_AGO)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = pricing.period_end(start, "month")
    history = []
    for n, account in zip(numbers, accounts, strict=True):
        home = regions[n % len(regions)]
        account_regions = [home] + ([regions[(n + 1) % len(regions)]] if n % 3 == 0 else [])
        used += [AccountRegion(account=account, region=r) for r in account_regions]
        product = products[n % len(products)]
        currency = CURRENCY[home.code]
        plan = plans[(product.code, currency)]
        status = Subscription.Status.PAST_DUE if n % 20 == 7 else Subscription.Status.ACTIVE
        sub = Subscription(
            account=account,
            product=product,
            plan=plan,
            status=status,
            unit_price=plan.unit_price,
            currency=currency,
            interval="month",
            current_period_start=start,
            current_period_end=end,
            started_at=now - timedelta(days=30 * (n % 12) + PERIOD_DAYS_AGO),
        )
        subs.append((sub, account_regions, n))
        entitlements += [
            Entitlement(account=account, product=product, region=r, status="active") for r in account_regions
        ]
        if n % 8 == 0:  # a trial of the next product, ending within 20 days
            other = products[(n + 1) % len(products)]
            ends = now + timedelta(days=1 + n % 20)
            entitlements.append(
                Entitlement(
                    account=account,
                    product=other,
                    region=home,
                    status="trial",
                    starts_at=ends - timedelta(days=other.trial_days),
                    ends_at=ends,
                )
            )
            trials_audit.append(
                AuditEvent(
                    account=account,
                    action="trial.start",
                    target_type="product",
                    target_id=other.code,
                    target_label=other.name,
                    created_at=ends - timedelta(days=other.trial_days),
                )
            )
        if n % 2 == 0:
            owners.append(SalesOwner(account=account, rep=rep))
    AccountRegion.objects.bulk_create(used, batch_size=2000)
    Entitlement.objects.bulk_create(entitlements, batch_size=2000)
    AuditEvent.objects.bulk_create(trials_audit, batch_size=2000)
    SalesOwner.objects.bulk_create(owners, batch_size=2000)
    Subscription.objects.bulk_create([s for s, _, _ in subs], batch_size=2000)
    items = []
    for sub, account_regions, n in subs:
        seats = 5 + n % 30
        items += [SubscriptionRegion(subscription=sub, region=r, seats=seats) for r in account_regions]
        history += _events(sub, seats * len(account_regions), n, now)
    SubscriptionRegion.objects.bulk_create(items, batch_size=2000)
    SubscriptionEvent.objects.bulk_create(history, batch_size=2000)


def _events(sub: Subscription, seats: int, n: int, now) -> list[SubscriptionEvent]:
    """START (a trial.start audit row before it), then monthly renewals and a seat change or two;
    each event's MRR follows the last one, so the history adds up to today's MRR."""
    price = sub.unit_price
    mrr = (price * seats).quantize(Decimal("0.01"))
    events, at = [], sub.started_at
    start_seats = max(1, seats - 2)
    before = Decimal("0.00")
    after = (price * start_seats).quantize(Decimal("0.01"))
    events.append(
        SubscriptionEvent(
            subscription=sub,
            account_id=sub.account_id,
            kind="start",
            effective_at=at,
            mrr_before=before,
            mrr_after=after,
            currency=sub.currency,
        )
    )
    while at + timedelta(days=30) < now - timedelta(days=PERIOD_DAYS_AGO):
        at += timedelta(days=30)
        kind = "seats" if (n + at.month) % 4 == 0 and after != mrr else "renew"
        new = mrr if kind == "seats" else after
        events.append(
            SubscriptionEvent(
                subscription=sub,
                account_id=sub.account_id,
                kind=kind,
                effective_at=at,
                mrr_before=after,
                mrr_after=new,
                currency=sub.currency,
            )
        )
        after = new
    if after != mrr:
        events.append(
            SubscriptionEvent(
                subscription=sub,
                account_id=sub.account_id,
                kind="seats",
                effective_at=now - timedelta(days=PERIOD_DAYS_AGO - 1),
                mrr_before=after,
                mrr_after=mrr,
                currency=sub.currency,
            )
        )
    return events


def measure(client: Client, url: str, n: int) -> tuple[list[float], int, int]:
    """Server times (ms) of n requests, queries of one, and the answer's size in bytes."""
    for _ in range(2):  # warm up: template and URL caches, the database's page cache
        client.get(url)
    queries = []
    # Counted at the cursor: the test client's request_started signal resets connection.queries.
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(queries), len(response.content)


def invoice_run() -> tuple[int, float]:
    """The run at the end of every bench subscription's period, rolled back afterwards."""
    ends = Subscription.objects.filter(account__slug__startswith=PREFIX).values_list(
        "current_period_end", flat=True
    )
    at = max(ends)
    created, seconds = 0, 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = billing.invoices_run(now=at)
            seconds = time.perf_counter() - started
            created = result.invoices_created
            raise _Rollback
    except _Rollback:
        pass
    return created, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="requests per URL")
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--members", type=int, default=40, help="members per account")
    args = parser.parse_args()

    call_command("migrate", interactive=False, verbosity=0)
    # Signing in reads the shared cache (the security policy, sessions): a db:// cache needs its table.
    call_command("createcachetable", verbosity=0)
    manager, rep = staff()
    build(args.accounts, args.members, rep)
    accounts = Account.objects.filter(slug__startswith=PREFIX).count()
    members = Membership.objects.filter(account__slug__startswith=PREFIX).count()
    events = SubscriptionEvent.objects.filter(account__slug__startswith=PREFIX).count()
    print(f"{accounts} accounts, {members} members, {events} subscription events, {connection.vendor}")
    client = Client()
    client.force_login(manager)
    # The members' counts as beat keeps them (billing/sales_activity.py), and for comparison the
    # page without that rollup (counted live on every request, as on a fresh installation).
    AccountActivity.objects.all().delete()
    times, queries, _ = measure(client, "/sales/", args.n)
    print(
        f"{'dashboard (live)':<20} p50 {percentile(times, 0.5):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  {queries} queries  (members counted on each request)"
    )
    started = time.perf_counter()
    rolled = account_activity_refresh()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"activity rollup: {rolled} accounts in {elapsed:.0f} ms (beat refreshes it every 5 minutes)")
    page_times, page_queries = [], 0
    urls = {"dashboard": "/sales/", **{f"api {name}": f"/sales/api/{name}/" for name in TABLES}}
    for label, url in urls.items():
        times, queries, size = measure(client, url, args.n)
        print(
            f"{label:<20} p50 {percentile(times, 0.5):6.1f} ms  p95 {percentile(times, 0.95):6.1f} ms  "
            f"max {max(times):6.1f} ms  {queries:2d} queries  {size / 1024:5.0f} KB  {url}"
        )
        if label == "dashboard":
            page_times, page_queries = times, queries
    client.force_login(rep)
    times, queries, _ = measure(client, "/sales/", args.n)
    print(
        f"{'dashboard (a rep)':<20} p50 {percentile(times, 0.5):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  {queries} queries"
    )
    created, seconds = invoice_run()
    rate = created / seconds if seconds else 0.0
    print(f"invoice run: {created} invoices in {seconds:.2f} s")
    print(
        f"sales: dashboard p95 {percentile(page_times, 0.95):.0f} ms {page_queries} queries, "
        f"invoice run {rate:.0f} invoices/s"
    )


if __name__ == "__main__":
    main()
