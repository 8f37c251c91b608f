"""Twelve months of commercial history for about 50 extra demo accounts, so the sales dashboard
shows something real: trials, conversions, seat and region changes, second products, churn,
reactivations, invoices (paid, and a few left open so dunning makes them past due).

    manage.py billing_demo_history [--accounts 50] [--seed 2026]

Deterministic (one random.Random per account, from the seed) and idempotent: an account whose
slug exists is left as it is, so a second run adds nothing. Everything goes through the real
services, at the time it happened (time-machine moves the clock; the billing services also take
`now`): accounts, members and regions (accounts.services), trials (products.trials.trial_start),
conversions and changes (billing.services), the invoice run a week at a time
(`invoices_run(now=...)`), payments (`invoice_mark_paid`) and dunning. Mail the past would have
sent (welcome mails, trial reminders, dunning) is not sent today: the history runs with Django's
dummy mail backend, and each account commits inside it (so run it outside any transaction, as
rundemo does). Direct writes, the initial data a loader sets: members' `last_login` (what
Django's own login signal writes; it gives the dashboard its "active in the last 7 days") and the
first SalesOwner rows (no manager acted yet; later changes go through `sales_owner_assign`).
Half of the accounts belong to sam@atrium.test (sales), the other half are unassigned
(maya@atrium.test, the manager, sees and reassigns all).

Generated people never sign in (no usable password); their accounts use the demo regions like
any other, so the worker provisions their members and entitlements there.
"""

import random
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import Account, Membership, User
from accounts.services import account_create, account_region_add, membership_add, user_create
from billing import services as billing
from billing.models import Invoice, Plan, SalesOwner, Subscription
from billing.sales import MANAGER_GROUP, REP_GROUP, sales_groups_ensure
from products.models import Entitlement, Product, ProductRegion
from products.trial_requests import trial_policy_set, trial_request_create
from products.trials import trial_start, trials_sweep
from regions.models import AccountRegion

DEMO_PASSWORD = "demo-pass-2026"
SALES_STAFF = [
    ("sam@atrium.test", "Sam", "Seller", REP_GROUP),
    ("maya@atrium.test", "Maya", "Manager", MANAGER_GROUP),
]
CURRENCY_OF_REGION = {"us": "USD", "eu": "EUR", "au": "AUD"}
FIRST = ["Blue", "North", "Bright", "Silver", "Red", "Swift", "Green", "Iron", "Clear", "Golden"]
SECOND = ["Harbor", "Peak", "Works", "Labs", "Systems", "Foods", "Logistics", "Health", "Media", "Energy"]
FIRST_NAMES = ["Ana", "Ben", "Chen", "Dana", "Eli", "Fay", "Gio", "Hugo", "Ines", "Jon", "Kim", "Lou"]


def sales_staff_ensure() -> dict[str, User]:
    """sam (a rep) and maya (a manager), staff so the navigation shows them "Sales"; Acme is sam's."""
    groups = sales_groups_ensure()
    people = {}
    for email, first, last, group in SALES_STAFF:
        user = User.objects.filter(email=email).first() or user_create(
            email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, email_verified=True
        )
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(groups[group])
        people[email] = user
    acme = Account.objects.filter(slug="acme").first()
    if acme is not None and not SalesOwner.objects.filter(account=acme).exists():
        SalesOwner.objects.create(account=acme, rep=people["sam@atrium.test"])
    return people


class Command(BaseCommand):
    help = "Generate 12 months of demo billing history for ~50 extra accounts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=50)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, accounts: int, seed: int, **options):
        import time_machine  # a dev dependency, which `make demo` installs: only this command needs it

        self._travel = time_machine.travel
        staff = sales_staff_ensure()
        self.now = timezone.now().replace(microsecond=0)
        self.start = (self.now - timedelta(days=365)).replace(hour=9, minute=0, second=0)
        self.products = self._sellable()
        if not self.products:
            self.stdout.write("No plans for any product with a trial: no billing history generated.")
            return
        made = 0
        # History is not news: reminders and dunning mails of the past are not sent today.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            for n in range(accounts):
                slug = f"{FIRST[n % 10].lower()}-{SECOND[(n // 10 + n) % 10].lower()}-{n:02d}"
                if Account.objects.filter(slug=slug).exists():
                    continue
                rep = staff["sam@atrium.test"] if n % 2 == 0 else None
                # A fixed seed on purpose: the same history on every machine, not secrets.
                self._account(n, slug, rep, random.Random(f"{seed}-{n}"))  # noqa: S311
                made += 1
            with transaction.atomic():
                billing.dunning_run(now=self.now)
        self.stdout.write(f"Billing history: {made} accounts generated ({accounts - made} already there).")

    def _sellable(self) -> dict[str, dict]:
        """Products with a trial and plans: their regions and monthly/yearly plans by currency."""
        out = {}
        for product in Product.objects.filter(coming_soon=False, trial_days__gt=0).order_by("code"):
            plans = {}
            for plan in Plan.objects.filter(product=product, active=True).order_by("position", "code"):
                plans.setdefault((plan.currency, plan.interval), plan)
            regions = list(ProductRegion.objects.filter(product=product).select_related("region"))
            if plans and regions:
                out[product.code] = {
                    "product": product,
                    "plans": plans,
                    "regions": [r.region for r in regions],
                }
        return out

    # One account's timeline ---------------------------------------------------------------------

    @transaction.atomic
    def _account(self, n: int, slug: str, rep: User | None, rng: random.Random) -> None:
        # A fifth of the accounts are recent, so trials are running today.
        recent = rng.random() < 0.2
        born = self.now - timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 8)) if recent else (
            self.start + timedelta(days=rng.randint(0, 330), hours=rng.randint(0, 8))
        )  # fmt: skip
        codes = sorted(self.products)
        first = self.products[codes[n % len(codes)]]
        home = rng.choice(first["regions"])
        with self._travel(born, tick=False):
            owner = self._person(f"owner@{slug}.test", rng)
            account = account_create(
                name=f"{FIRST[n % 10]} {SECOND[(n // 10 + n) % 10]}", slug=slug, owner=owner
            )
            for k in range(rng.randint(1, 7)):
                membership_add(
                    account=account, user=self._person(f"{FIRST_NAMES[k].lower()}@{slug}.test", rng)
                )
            account_region_add(account=account, region=home)
            if rep is not None:
                SalesOwner.objects.create(account=account, rep=rep)
        self._activity(account, rng)
        actor = Membership.objects.get(account=account, user=owner)
        unpaid = rng.random() < 0.12
        self.clock = born
        events = self._plan_events(born, first, home, rng)
        for when, action, args in sorted(events, key=lambda e: e[0]):
            if when >= self.now:
                break
            self._catch_up(account, when, unpaid)
            with self._travel(when, tick=False):
                try:
                    self._do(account, actor, action, args, when)
                except ValidationError:
                    continue  # e.g. a change to a subscription that has churned meanwhile
        self._catch_up(account, self.now, unpaid)
        if rng.random() < 0.15:
            self._trial_request(account, actor, rng)

    def _plan_events(self, born, first, home, rng) -> list[tuple[datetime, str, dict]]:
        """What happens to the account, and when (some of it may lie in the future: never run)."""
        product = first["product"]
        trial_at = born + timedelta(hours=1)
        events = [(trial_at, "trial", {"spec": first, "region": home})]
        if rng.random() > 0.7:
            return events  # tries and leaves (or is still trying)
        paid_at = trial_at + timedelta(days=rng.randint(2, max(2, product.trial_days - 1)), hours=2)
        events.append((paid_at, "convert", {"spec": first, "seats": {home.code: rng.randint(3, 15)}}))
        moment = paid_at
        for _ in range(rng.randint(1, 5)):
            moment += timedelta(days=rng.randint(12, 70), hours=rng.randint(0, 6))
            roll = rng.random()
            if roll < 0.45:
                events.append((moment, "seats", {"spec": first, "delta": rng.choice([1, 2, 3, 5, -1, -2])}))
            elif roll < 0.6:
                events.append((moment, "region", {"spec": first}))
            elif roll < 0.8:
                other = [s for code, s in sorted(self.products.items()) if code != product.code]
                if other:
                    spec = rng.choice(other)
                    events.append((moment, "trial", {"spec": spec, "region": None}))
                    if rng.random() < 0.6:
                        events.append((moment + timedelta(days=rng.randint(2, 9)), "convert",
                                       {"spec": spec, "seats": None, "n": rng.randint(2, 8)}))  # fmt: skip
            elif roll < 0.9:
                events.append((moment, "cancel", {"spec": first}))
                if rng.random() < 0.5:
                    back = moment + timedelta(days=rng.randint(45, 100))
                    events.append((back, "convert", {"spec": first, "seats": None, "n": rng.randint(2, 10)}))
                break
        return events

    def _do(self, account: Account, actor: Membership, action: str, args: dict, when: datetime) -> None:
        spec = args["spec"]
        product = spec["product"]
        if action == "trial":
            regions = [args["region"]] if args["region"] else self._regions_usable(account, spec)[:1]
            if regions:
                trial_start(account=account, product=product, regions=regions, actor=actor)
        elif action == "convert":
            seats = args["seats"] or {r.code: args["n"] for r in self._regions_usable(account, spec)[:1]}
            if seats:
                currency = CURRENCY_OF_REGION.get(next(iter(seats)), "USD")
                plan = spec["plans"].get((currency, "month")) or next(iter(spec["plans"].values()))
                billing.subscription_convert_trial(
                    account=account, product=product, plan=plan, seats_by_region=seats, actor=None, now=when
                )
        else:
            subscription = (
                Subscription.objects.filter(account=account, product=product)
                .exclude(status=Subscription.Status.CANCELLED)
                .first()
            )
            if subscription is None:
                return
            seats = {item.region.code: item.seats for item in subscription.items.select_related("region")}
            if action == "seats":
                code = sorted(seats)[0]
                seats[code] = max(1, seats[code] + args["delta"])
                billing.subscription_seats_change(
                    subscription=subscription, seats_by_region=seats, actor=None, now=when
                )
            elif action == "region":
                extra = [r for r in spec["regions"] if r.code not in seats]
                if extra:
                    account_region_add(account=account, region=extra[0])
                    seats[extra[0].code] = max(1, sum(seats.values()) // 2)
                    billing.subscription_seats_change(
                        subscription=subscription, seats_by_region=seats, actor=None, now=when
                    )
            elif action == "cancel":
                billing.subscription_cancel(subscription=subscription, actor=None, now=when)

    def _regions_usable(self, account: Account, spec: dict):
        used = set(AccountRegion.objects.filter(account=account).values_list("region_id", flat=True))
        return [region for region in spec["regions"] if region.pk in used]

    def _catch_up(self, account: Account, when: datetime, unpaid: bool) -> None:
        """Up to `when`, a week at a time (as the beat would, only coarser): trials end, periods
        renew with their invoices, and each invoice is paid two days after it was issued (a bad
        payer leaves the last six weeks' open, so dunning finds them)."""
        while self.clock < when:
            self.clock = min(when, self.clock + timedelta(days=7))
            with self._travel(self.clock, tick=False):
                trials_sweep(now=self.clock)
                billing.invoices_run(now=self.clock)
                self._pay(account, unpaid)

    def _pay(self, account: Account, unpaid: bool) -> None:
        due = Invoice.objects.filter(
            account=account, status=Invoice.Status.OPEN, issued_at__lte=self.clock - timedelta(days=2)
        ).order_by("issued_at")
        for invoice in due:
            if unpaid and invoice.issued_at > self.now - timedelta(days=42):
                continue
            billing.invoice_mark_paid(invoice=invoice, actor=None, now=invoice.issued_at + timedelta(days=2))

    def _trial_request(self, account: Account, owner: Membership, rng: random.Random) -> None:
        """A member asks for a product the account never had: pending, for sales to see."""
        had = set(Entitlement.objects.filter(account=account).values_list("product__code", flat=True))
        wanted = [spec for code, spec in sorted(self.products.items()) if code not in had]
        member = (
            Membership.objects.filter(account=account, role=Membership.Role.MEMBER).order_by("pk").first()
        )
        regions = wanted and self._regions_usable(account, wanted[0])
        if not (wanted and member and regions):
            return
        trial_policy_set(actor=owner, policy="members_request")
        trial_request_create(
            actor=member, product=wanted[0]["product"], regions=regions[:1], note=rng.choice(
                ["Our auditors ask for this.", "Could we try it before the renewal?", ""]
            ),
        )  # fmt: skip

    def _person(self, email: str, rng: random.Random) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(email=email, first_name=email.split("@")[0].title(), email_verified=True)
        return user

    def _activity(self, account: Account, rng: random.Random) -> None:
        """Portal sign-ins: most members in the last days, some long ago, some never."""
        for user_id in Membership.objects.filter(account=account).values_list("user_id", flat=True):
            roll = rng.random()
            if roll < 0.15:
                continue
            days = rng.uniform(0, 6) if roll < 0.7 else rng.uniform(8, 60)
            User.objects.filter(pk=user_id).update(last_login=self.now - timedelta(days=days))
