"""Reads for the sales dashboard, its JSON endpoints and CSV exports, and the account 360.

Every table is one `Table` built by one function of (scope, now) registered in TABLES, so the page,
the JSON endpoint and the CSV of a table are the same rows. Each function costs a fixed number of
queries whatever the number of accounts (aggregated in SQL, no per-row queries): the dashboard's
query count is pinned by a test at 5 and at 50 accounts. The SQL is portable (PostgreSQL in tests
and production, SQLite in the demo): no ArrayAgg, grouping is finished in Python.

Scope: a rep's tables hold only the accounts they own (SalesOwner); a manager's hold all.
Money is never converted: MRR figures are per currency (the subscription's), each its own series.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Account, AuditEvent, Membership
from billing.models import (
    AccountActivity,
    Invoice,
    SalesOwner,
    Subscription,
    SubscriptionEvent,
    SubscriptionRegion,
)
from billing.sales import SalesScope
from products.models import Entitlement, Product, TrialRequest
from products.trial_requests import trial_requests_for_sales

LIVE = [Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]
Kind = SubscriptionEvent.Kind
TRIAL = Entitlement.Status.TRIAL
ZERO = Decimal("0.00")
# "Members active": signed in to the portal (User.last_login) within this window. The portal is
# the one place every member signs in (regions sign in through it), and we read no region data.
ACTIVE_WINDOW = timedelta(days=7)
# An account with a paid product and nobody signed in for this long is at risk.
IDLE_WINDOW = timedelta(days=14)
# Seats or MRR lost within this window flag the account as "seats falling".
FALLING_WINDOW = timedelta(days=30)
# Trials to call today: ending within CALL_DAYS days, or "very active" (at least VERY_ACTIVE_MIN
# members and at least half of the members active in ACTIVE_WINDOW).
CALL_DAYS = 3
# The members' counts come from the rollup (billing/sales_activity.py, refreshed every
# ACTIVITY_REFRESH_SECONDS from beat) while it is at most this old; else they are counted live.
ACTIVITY_FRESH = timedelta(minutes=15)
VERY_ACTIVE_MIN = 2
MOVEMENTS = [
    ("new", "New"),
    ("expansion_seats", "Expansion: seats"),
    ("expansion_regions", "Expansion: regions"),
    ("expansion_products", "Expansion: new products"),
    ("expansion_plan", "Expansion: plan / price"),
    ("contraction", "Contraction"),
    ("churn", "Churn"),
    ("reactivation", "Reactivation"),
]
# Rows shown on the page per table; the JSON endpoint and the CSV hold every row.
PAGE_ROWS = 50


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def page_rows(self) -> list[dict]:
        return self.rows[:PAGE_ROWS]

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [{"key": key, "label": label} for key, label in self.columns],
            "rows": self.rows,
        }

    @property
    def page_cells(self) -> list[dict]:
        """The page's rows as display strings, with the row's account slug (for the 360 link)."""
        keys = [key for key, _ in self.columns]
        return [
            {"slug": row.get("slug"), "cells": [_display(row.get(key)) for key in keys]}
            for row in self.page_rows
        ]

    def page_body_html(self) -> SafeString:
        """The page's table body rows, HTML-escaped: built here rather than in a template loop,
        which cost ~40 ms per dashboard for its ~500 rows (the markup is the template's was)."""
        account_url = reverse("sales:account", args=["-slug-"])
        rows = []
        for row in self.page_cells:
            slug, cells = row["slug"], [escape(cell) for cell in row["cells"]]
            if slug and cells:
                cells[0] = f'<a href="{escape(account_url.replace("-slug-", slug))}">{cells[0]}</a>'
            attribute = f' data-account="{escape(slug)}"' if slug else ""
            rows.append(f"<tr{attribute}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped

    def cells(self):
        """Rows as lists in column order (CSV, templates)."""
        keys = [key for key, _ in self.columns]
        return [[row.get(key) for key in keys] for row in self.rows]


def _display(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _scoped(scope: SalesScope, prefix: str = "account__") -> Q:
    """The scope as a filter on a model reaching Account through `prefix`."""
    if scope.is_manager:
        return Q()
    return Q(**{f"{prefix}sales_owner__rep": scope.user})


# MRR movements --------------------------------------------------------------------------------


def _change_bucket() -> Case:
    """Which movement a change that is not a START is, by its kind and the sign of its MRR change
    (a zero change is no movement). Plain column tests: no subquery per row (see mrr_movements)."""
    up, down = Q(mrr_after__gt=F("mrr_before")), Q(mrr_after__lt=F("mrr_before"))
    return Case(
        When(Q(kind=Kind.REACTIVATE) & up, then=Value("reactivation")),
        When(Q(kind=Kind.SEATS) & up, then=Value("expansion_seats")),
        When(Q(kind=Kind.REGIONS) & up, then=Value("expansion_regions")),
        When(Q(kind=Kind.CANCEL) & down, then=Value("churn")),
        When(down, then=Value("contraction")),
        default=Value("expansion_plan"),  # a plan upgrade, or a higher price locked at renewal
        output_field=CharField(),
    )


def _start_bucket(event: dict, subscriptions: list[tuple]) -> str:
    """A START is new business, a new product for an account already paying for another one, or a
    reactivation for an account that had churned (a subscription cancelled before it)."""
    at = event["effective_at"]
    others = [sub for sub in subscriptions if sub[0] != event["subscription_id"]]
    if any(started < at and (cancelled is None or cancelled > at) for _, started, cancelled in others):
        return "expansion_products"
    if any(cancelled is not None and cancelled <= at for _, _, cancelled in others):
        return "reactivation"
    return "new"


def _month_starts(now: datetime, months: int) -> list[datetime]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        starts.append(first)
    return starts[::-1]


def mrr_movements(*, scope: SalesScope, now: datetime, months: int = 12) -> Table:
    """Per month (the last `months`, oldest first) and currency: the MRR at the month's end and
    its movements. MRR is the sum of every event's change up to then (each subscription starts
    at 0), so the opening balance of the window is the sum of everything before it.

    Four queries: the changes grouped in SQL; the STARTs of accounts that only ever had one
    subscription (new business, grouped in SQL too); the STARTs of the others with their
    subscriptions, classified here. (One query with a correlated EXISTS per START was as exact,
    but PostgreSQL's cost estimate for it crossed jit_above_cost at a few thousand accounts and JIT
    compilation alone took 700 ms: these plain queries stay far below it.)"""
    events = SubscriptionEvent.objects.filter(_scoped(scope), effective_at__lte=now).exclude(
        mrr_after=F("mrr_before")
    )
    by_month = {"month": TruncMonth("effective_at")}
    sums = list(
        events.exclude(kind=Kind.START)
        .annotate(**by_month, bucket=_change_bucket())
        .values("month", "currency", "bucket")
        .annotate(amount=Sum(F("mrr_after") - F("mrr_before")))
        .order_by()
    )
    paying = Subscription.objects.filter(_scoped(scope)).exclude(status=Subscription.Status.TRIALING)
    several = paying.values("account_id").annotate(n=Count("id")).filter(n__gt=1).values("account_id")
    starts = events.filter(kind=Kind.START)
    sums += [
        row | {"bucket": "new"}
        for row in starts.exclude(account_id__in=several)
        .annotate(**by_month)
        .values("month", "currency")
        .annotate(amount=Sum(F("mrr_after") - F("mrr_before")))
        .order_by()
    ]
    subscriptions = defaultdict(list)
    for account_id, *sub in paying.filter(account_id__in=several).values_list(
        "account_id", "pk", "started_at", "cancelled_at"
    ):
        subscriptions[account_id].append(tuple(sub))
    for event in (
        starts.filter(account_id__in=several)
        .annotate(**by_month, amount=F("mrr_after") - F("mrr_before"))
        .values("subscription_id", "account_id", "effective_at", "month", "currency", "amount")
    ):
        sums.append(event | {"bucket": _start_bucket(event, subscriptions[event["account_id"]])})
    starts = _month_starts(now, months)
    keys = [start.strftime("%Y-%m") for start in starts]
    opening: dict[str, Decimal] = defaultdict(lambda: ZERO)
    moves: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in sums:
        key = row["month"].strftime("%Y-%m")
        if key < keys[0]:
            opening[row["currency"]] += row["amount"]
        else:
            moves[(key, row["currency"])][row["bucket"]] += row["amount"]
    currencies = sorted(set(opening) | {currency for _, currency in moves})
    table = Table(
        name="mrr", title="MRR and its movements by month",
        columns=[("month", "Month"), ("currency", "Currency"), ("mrr", "MRR at month end"),
                 *MOVEMENTS, ("net", "Net change")],
    )  # fmt: skip
    for currency in currencies:
        running = opening[currency]
        for key in keys:
            month = moves.get((key, currency), {})
            net = sum(month.values(), ZERO)
            running += net
            row = {"month": key, "currency": currency, "mrr": running, "net": net}
            row |= {bucket: month.get(bucket, ZERO) for bucket, _ in MOVEMENTS}
            table.rows.append(row)
    return table


# Trials ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberStats:
    members: int  # active members
    everywhere: int  # of whom with access to every region the account uses
    active_7d: int  # of whom signed in within ACTIVE_WINDOW
    active_idle: int  # of whom signed in within IDLE_WINDOW


def members_counted(members, now: datetime) -> dict[int, MemberStats]:
    """account id → the counts of `members` (active memberships), in ONE grouped scan of the
    memberships joined to their sign-in: the live figures, and what the rollup stores."""
    rows = (
        members.values("account_id")
        .annotate(
            members=Count("id"),
            everywhere=Count("id", filter=Q(all_regions=True)),
            active_7d=Count("id", filter=Q(user__last_login__gte=now - ACTIVE_WINDOW)),
            active_idle=Count("id", filter=Q(user__last_login__gte=now - IDLE_WINDOW)),
        )
        .values_list("account_id", "members", "everywhere", "active_7d", "active_idle")
        .order_by()
    )
    return {account_id: MemberStats(*counts) for account_id, *counts in rows}


def _member_stats(
    scope: SalesScope, now: datetime, memo: dict | None, account_ids=None
) -> dict[int, MemberStats]:
    """account id → its members' counts. From the rollup (AccountActivity, refreshed from beat)
    when it was computed within ACTIVITY_FRESH before `now`: reading 5,000 rows instead of
    scanning 200,000 memberships joined to their users was most of the dashboard's time. Else
    (no rollup yet, a stale one, a `now` in the past or future) the live grouped scan. The
    dashboard computes it once for every account in scope and its tables share it (`memo`); a
    single endpoint may restrict it to the accounts it shows. `memo["activity_as_of"]` says
    which: the rollup's time, or `now` for live figures."""
    if memo is not None and "members" in memo:
        return memo["members"]
    restrict = memo is None and account_ids is not None
    rolled = AccountActivity.objects.filter(_scoped(scope))
    if restrict:
        rolled = rolled.filter(account_id__in=account_ids)
    rows = list(
        rolled.values_list(
            "account_id", "members", "everywhere", "active_7d", "active_idle", "computed_at"
        ).order_by()
    )
    as_of = rows[0][-1] if rows else None
    if as_of is not None and timedelta(0) <= now - as_of <= ACTIVITY_FRESH:
        stats = {account_id: MemberStats(*counts) for account_id, *counts, _at in rows}
    else:
        members = Membership.objects.filter(_scoped(scope), status=Membership.Status.ACTIVE)
        if restrict:
            members = members.filter(account_id__in=account_ids)
        stats, as_of = members_counted(members, now), now
    if memo is not None:
        memo["members"] = stats
        memo["activity_as_of"] = as_of
    return stats


NO_MEMBERS = MemberStats(0, 0, 0, 0)


def _running_trials(scope: SalesScope, now: datetime, memo: dict | None) -> list[dict]:
    """One row per account × product in trial now (its regions together), soonest end first."""
    if memo is not None and "trials" in memo:
        return [dict(trial) for trial in memo["trials"]]
    rows = (
        Entitlement.objects.filter(_scoped(scope), status=Entitlement.Status.TRIAL, ends_at__gt=now)
        .values_list("account_id", "account__slug", "account__name", "product__code", "product__name",
                     "region__code", "starts_at", "ends_at")
        .order_by("ends_at", "account__name", "product__code", "region__code")
    )  # fmt: skip
    trials: dict[tuple[int, str], dict] = {}
    for account_id, slug, name, code, product, region, starts_at, ends_at in rows:
        trial = trials.get((account_id, code))
        if trial is None:
            trial = trials[(account_id, code)] = {
                "account_id": account_id, "account": name, "slug": slug, "product": product,
                "product_code": code, "regions": [], "started": starts_at, "ends_at": ends_at,
            }  # fmt: skip
        trial["regions"].append(region)
        trial["ends_at"] = min(trial["ends_at"], ends_at)
    activity = _member_stats(scope, now, memo, {trial["account_id"] for trial in trials.values()})
    out = []
    for trial in trials.values():
        stats = activity.get(trial.pop("account_id"), NO_MEMBERS)
        left = trial["ends_at"] - now
        trial |= {
            "regions": " ".join(code.upper() for code in trial["regions"]),
            "days_left": left.days + (1 if left.seconds or left.microseconds else 0),
            "members": stats.members,
            "active_7d": stats.active_7d,
        }
        out.append(trial)
    if memo is not None:
        memo["trials"] = out
    return [dict(trial) for trial in out]


TRIAL_COLUMNS = [
    ("account", "Account"), ("slug", "Slug"), ("product", "Product"), ("regions", "Regions"),
    ("started", "Started"), ("ends_at", "Ends"), ("days_left", "Days left"), ("members", "Members"),
    ("active_7d", "Active in 7 days"),
]  # fmt: skip


def active_trials(*, scope: SalesScope, now: datetime, memo: dict | None = None) -> Table:
    """Running trials with days left and activity. Two queries (shared with trials_to_call)."""
    return Table(
        name="trials", title="Active trials", columns=TRIAL_COLUMNS, rows=_running_trials(scope, now, memo)
    )


def _very_active(trial: dict) -> bool:
    return trial["active_7d"] >= VERY_ACTIVE_MIN and trial["active_7d"] * 2 >= trial["members"]


def trials_to_call(*, scope: SalesScope, now: datetime, memo: dict | None = None) -> Table:
    """Trials ending within CALL_DAYS days, or very active ones. Two queries (shared)."""
    rows = []
    for trial in _running_trials(scope, now, memo):
        reasons = []
        if trial["days_left"] <= CALL_DAYS:
            reasons.append(f"ends in {trial['days_left']} day{'s' if trial['days_left'] != 1 else ''}")
        if _very_active(trial):
            reasons.append(f"{trial['active_7d']} of {trial['members']} members active")
        if reasons:
            rows.append(trial | {"why": "; ".join(reasons)})
    return Table(name="call-today", title="Trials to call today", columns=[*TRIAL_COLUMNS, ("why", "Why")],
                 rows=rows)  # fmt: skip


def conversion_cohorts(*, scope: SalesScope, now: datetime, weeks: int = 12) -> Table:
    """Trial → paid by weekly cohort (the week the trial started, from the audit log's
    `trial.start`) and product; converted = a START of that product's subscription after the trial
    began (SubscriptionEvent). One row per week × product plus the week's total. Two queries."""
    since = (now - timedelta(days=now.weekday(), weeks=weeks - 1)).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0)  # fmt: skip
    converted = SubscriptionEvent.objects.filter(
        kind=Kind.START, account=OuterRef("account"), subscription__product__code=OuterRef("target_id"),
        effective_at__gte=OuterRef("created_at"),
    )  # fmt: skip
    cohorts = (
        AuditEvent.objects.filter(_scoped(scope), action="trial.start", created_at__gte=since,
                                  created_at__lte=now)
        .annotate(week=TruncWeek("created_at"), converted=Exists(converted))
        .values("week", "target_id")
        .annotate(trials=Count("id"), paid=Count("id", filter=Q(converted=True)))
        .order_by("week", "target_id")
    )  # fmt: skip
    names = dict(Product.objects.values_list("code", "name"))
    table = Table(
        name="conversion", title="Trial → paid by weekly cohort and product",
        columns=[("week", "Week of"), ("product", "Product"), ("trials", "Trials"),
                 ("converted", "Converted"), ("rate", "Conversion %")],
    )  # fmt: skip
    totals: dict[str, list[int]] = {}
    for row in cohorts:
        week = row["week"].date().isoformat()
        totals.setdefault(week, [0, 0])
        totals[week][0] += row["trials"]
        totals[week][1] += row["paid"]
        table.rows.append(
            _rate_row(week, names.get(row["target_id"], row["target_id"]), row["trials"], row["paid"])
        )
    for week, (trials, paid) in totals.items():
        table.rows.append(_rate_row(week, "All products", trials, paid))
    table.rows.sort(key=lambda r: (r["week"], r["product"] == "All products", r["product"]))
    return table


def _rate_row(week: str, product: str, trials: int, paid: int) -> dict:
    rate = (Decimal(paid * 100) / trials).quantize(Decimal("0.1")) if trials else Decimal("0.0")
    return {"week": week, "product": product, "trials": trials, "converted": paid, "rate": rate}


# Seats, coverage, risk ------------------------------------------------------------------------


def _granted(scope: SalesScope) -> dict[tuple[int, int], int]:
    """(account id, region id) → active members granted that region by name (the others have
    every region: MemberStats.everywhere). One grouped query."""
    granted = (
        Membership.regions.through.objects.filter(
            _scoped(scope, "membership__account__"), membership__status=Membership.Status.ACTIVE,
            membership__all_regions=False,
        )
        .values("membership__account_id", "region_id")
        .annotate(n=Count("id"))
        .order_by()
    )  # fmt: skip
    return {(row["membership__account_id"], row["region_id"]): row["n"] for row in granted}


def seats_by_product(*, scope: SalesScope, now: datetime, memo: dict | None = None) -> Table:
    """Seats purchased (live subscriptions) vs in use (active members with access to the
    subscription's region, capped at nothing: over-use shows above 100 %), per product. Three queries."""
    items = SubscriptionRegion.objects.filter(
        _scoped(scope, "subscription__account__"), subscription__status__in=LIVE
    ).values_list("subscription__account_id", "subscription__product__name", "region_id", "seats")
    stats, granted = _member_stats(scope, now, memo), _granted(scope)
    per_product: dict[str, dict] = {}
    for account_id, product, region_id, seats in items:
        row = per_product.setdefault(
            product, {"product": product, "accounts": set(), "purchased": 0, "used": 0}
        )
        row["accounts"].add(account_id)
        row["purchased"] += seats
        row["used"] += stats.get(account_id, NO_MEMBERS).everywhere + granted.get((account_id, region_id), 0)
    table = Table(
        name="seats", title="Seats used vs purchased",
        columns=[("product", "Product"), ("accounts", "Paying accounts"), ("purchased", "Seats purchased"),
                 ("used", "Seats in use"), ("utilisation", "In use %")],
    )  # fmt: skip
    for product in sorted(per_product):
        row = per_product[product]
        rate = Decimal(row["used"] * 100) / row["purchased"] if row["purchased"] else Decimal(0)
        table.rows.append(
            row | {"accounts": len(row["accounts"]), "utilisation": rate.quantize(Decimal("0.1"))}
        )
    return table


def accounts_by_region_product(*, scope: SalesScope, now: datetime) -> Table:
    """Accounts using each product in each region now: paid (active) and in trial. One query."""
    counts = (
        Entitlement.objects.filter(_scoped(scope), status__in=[Entitlement.Status.ACTIVE, TRIAL])
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .values("product__name", "region__code", "status")
        .annotate(n=Count("account_id", distinct=True))
        .order_by("product__name", "region__code")
    )  # fmt: skip
    table = Table(
        name="coverage", title="Accounts by region and product",
        columns=[("product", "Product"), ("region", "Region"), ("paid", "Paid accounts"),
                 ("trial", "Accounts in trial")],
    )  # fmt: skip
    cells: dict[tuple[str, str], dict] = {}
    for row in counts:
        key = (row["product__name"], row["region__code"])
        cell = cells.setdefault(key, {"product": key[0], "region": key[1].upper(), "paid": 0, "trial": 0})
        cell["paid" if row["status"] == Entitlement.Status.ACTIVE else "trial"] = row["n"]
    table.rows = list(cells.values())
    return table


def accounts_at_risk(*, scope: SalesScope, now: datetime, memo: dict | None = None) -> Table:
    """Paying accounts with seats or MRR falling (a decrease in the last 30 days, or one pending
    at period end), a past-due subscription, or nobody signed in for IDLE_WINDOW.

    Four plain queries and the members' counts (shared on the dashboard), combined here: a single
    query with one correlated EXISTS per account and flag was as exact but 0.8 s at 5,000 accounts
    (PostgreSQL's estimate for it triggered JIT compilation, and the sign-in check ran per account)."""
    live = dict(
        Subscription.objects.filter(_scoped(scope), status__in=LIVE, account__closed_at__isnull=True)
        .values("account_id")
        .annotate(past_due=Count("id", filter=Q(status=Subscription.Status.PAST_DUE)))
        .values_list("account_id", "past_due")
    )
    falling = set(
        SubscriptionEvent.objects.filter(
            _scoped(scope), effective_at__gte=now - FALLING_WINDOW, effective_at__lte=now,
            mrr_after__lt=F("mrr_before"),
        )
        .exclude(kind=Kind.CANCEL)
        .values_list("account_id", flat=True)
        .distinct()
    ) | set(
        SubscriptionRegion.objects.filter(
            _scoped(scope, "subscription__account__"), subscription__status__in=LIVE,
            pending_seats__isnull=False, pending_seats__lt=F("seats"),
        )
        .values_list("subscription__account_id", flat=True)
        .distinct()
    )  # fmt: skip
    stats = _member_stats(scope, now, memo, list(live))
    active = {account_id for account_id, counts in stats.items() if counts.active_idle}
    flags = {
        account_id: (bool(past_due), account_id in falling, account_id not in active)
        for account_id, past_due in live.items()
        if past_due or account_id in falling or account_id not in active
    }
    accounts = sorted(
        Account.objects.filter(pk__in=list(flags)).values_list(
            "pk", "name", "slug", "sales_owner__rep__email"
        ),
        key=lambda row: (not flags[row[0]][0], not flags[row[0]][1], row[1]),
    )
    table = Table(
        name="risk", title="Accounts at risk",
        columns=[("account", "Account"), ("slug", "Slug"), ("owner", "Sales owner"), ("why", "Why")],
    )  # fmt: skip
    reasons = ("past due", "seats falling", f"no sign-in for {IDLE_WINDOW.days} days")
    for pk, name, slug, owner in accounts:
        why = "; ".join(text for flag, text in zip(flags[pk], reasons, strict=True) if flag)
        table.rows.append({"account": name, "slug": slug, "owner": owner or "", "why": why})
    return table


def _owner_email(account: Account) -> str:
    try:
        return account.sales_owner.rep.email
    except SalesOwner.DoesNotExist:
        return ""


def pending_trial_requests(*, scope: SalesScope, now: datetime) -> Table:
    """Trial requests waiting for the account's admins (products.trial_requests). Two queries."""
    requests = trial_requests_for_sales().filter(_scoped(scope), status=TrialRequest.Status.PENDING)
    table = Table(
        name="trial-requests", title="Pending trial requests",
        columns=[("account", "Account"), ("slug", "Slug"), ("product", "Product"), ("regions", "Regions"),
                 ("requester", "Requested by"), ("requested", "Requested"), ("note", "Note")],
    )  # fmt: skip
    for request in requests:
        table.rows.append({
            "account": request.account.name, "slug": request.account.slug, "product": request.product.name,
            "regions": " ".join(region.code.upper() for region in request.regions.all()),
            "requester": request.requester_email, "requested": request.created_at, "note": request.note,
        })  # fmt: skip
    return table


TABLES: dict[str, Callable[..., Table]] = {
    "mrr": mrr_movements,
    "trials": active_trials,
    "call-today": trials_to_call,
    "conversion": conversion_cohorts,
    "seats": seats_by_product,
    "coverage": accounts_by_region_product,
    "risk": accounts_at_risk,
    "trial-requests": pending_trial_requests,
}


SHARING = {"trials", "call-today", "seats", "risk"}  # take `memo` (the members' counts, the trials)


def sales_table(*, name: str, scope: SalesScope, now: datetime) -> Table:
    if name not in TABLES:
        raise Http404("No such table")
    return TABLES[name](scope=scope, now=now)


def sales_dashboard(*, scope: SalesScope, now: datetime, memo: dict | None = None) -> dict[str, Table]:
    """Every table of the dashboard, for the page: a fixed number of queries, the members counted
    once for all tables. After it, `memo["activity_as_of"]` is when those counts were taken."""
    memo = {} if memo is None else memo
    return {
        name: build(scope=scope, now=now, memo=memo) if name in SHARING else build(scope=scope, now=now)
        for name, build in TABLES.items()
    }


# Account 360 ---------------------------------------------------------------------------------


def sales_account_of(*, scope: SalesScope, slug: str) -> Account:
    """The account, if this person's scope holds it; 404 otherwise (another rep's account and a
    slug that does not exist answer the same, so slugs cannot be probed)."""
    account = Account.objects.filter(_scoped(scope, ""), slug=slug).select_related("sales_owner__rep").first()
    if account is None:
        raise Http404("No such account")
    return account


def account_invoices(*, account: Account):
    """Every invoice of the account, latest first (the 360 shows the first 24, the CSV all)."""
    return Invoice.objects.filter(account=account).order_by("-period_start", "-pk")


def account_360(*, account: Account, recent: int = 20) -> dict:
    """Products, regions, subscriptions with seats, trial history, invoices, member counts and the
    latest audit events of one account: commercial and identity data only, nothing from the
    regions. A fixed number of queries."""
    entitlements = list(
        Entitlement.objects.filter(account=account)
        .select_related("product", "region")
        .order_by("product__name", "region__code")
    )
    subscriptions = list(
        Subscription.objects.filter(account=account)
        .select_related("product", "plan")
        .prefetch_related("items__region")
        .order_by("status", "product__code", "-started_at")
    )
    members = Membership.objects.filter(account=account).aggregate(
        total=Count("id"), active=Count("id", filter=Q(status=Membership.Status.ACTIVE))
    )
    events = AuditEvent.objects.filter(account=account)
    return {
        "account": account,
        "owner": _owner_email(account),
        "entitlements": entitlements,
        "regions": sorted({e.region.code.upper() for e in entitlements}),
        "subscriptions": subscriptions,
        "seats": sum(item.seats for sub in subscriptions if sub.status in LIVE for item in sub.items.all()),
        "trials": list(
            events.filter(Q(action__startswith="trial.") | Q(action__startswith="trial_request."))[:50]
        ),
        "invoices": list(account_invoices(account=account)[:24]),
        "members": members,
        "audit": list(events[:recent]),
    }
