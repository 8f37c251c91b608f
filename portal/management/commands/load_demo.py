"""Demo data (idempotent): Acme in US/EU/AU with the group "Backup operators" (bob), Globex in
EU, password demo-pass-2026 for all."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.groups import group_create, group_members_add
from accounts.models import Account, Group, Membership, User
from accounts.services import account_create, account_region_add, membership_add, user_create
from products.models import CrossSellRule, Entitlement, Product
from products.services import entitlement_set, product_create
from regions.models import Region

DEMO_PASSWORD = "demo-pass-2026"

DEMO_REGIONS = [
    ("us", "United States", 8101, 9101),
    ("eu", "European Union", 8102, 9102),
    ("au", "Australia", 8103, 9103),
]

DEMO_ACCOUNTS = [
    {
        "name": "Acme",
        "slug": "acme",
        "regions": ["us", "eu", "au"],
        "people": [
            ("alice@acme.test", "Alice", "Anders", Membership.Role.OWNER),
            ("bob@acme.test", "Bob", "Brown", Membership.Role.MEMBER),
            ("dave@acme.test", "Dave", "Davis", Membership.Role.MEMBER),
        ],
        "groups": [("Backup operators", "Run and restore backups in every region", ["bob@acme.test"])],
    },
    {
        "name": "Globex",
        "slug": "globex",
        "regions": ["eu"],
        "people": [("carol@globex.test", "Carol", "Chen", Membership.Role.OWNER)],
    },
]

DEMO_PRODUCTS = [
    {
        "code": "backup", "name": "Backup & Recovery", "category": "Data protection", "icon": "💾",
        "tagline": "Back up and restore every workload, in its own region.", "trial_days": 30,
        "regions": ["us", "eu", "au"],
    },
    {
        "code": "posture", "name": "Security Posture", "category": "Security", "icon": "🛡️",
        "tagline": "Find and fix risky configuration before attackers do.", "trial_days": 14,
        "regions": ["us", "eu"],
    },
    {
        "code": "archiver", "name": "Archiver", "category": "Data protection", "icon": "🗄️",
        "tagline": "Keep what you must keep, for as long as you must.", "trial_days": 30,
        "regions": ["us", "eu", "au"],
    },
    {
        "code": "insights", "name": "Data Insights", "category": "Analytics", "icon": "📊",
        "tagline": "See what your data says, without it leaving its region.", "trial_days": 0,
        "regions": [], "coming_soon": True,
    },
]  # fmt: skip

# (account, product, region, status); a trial ends after the product's trial days.
DEMO_ENTITLEMENTS = [
    ("acme", "backup", "us", "active"),
    ("acme", "backup", "eu", "active"),
    ("acme", "backup", "au", "active"),
    ("acme", "posture", "eu", "trial"),
    ("globex", "backup", "eu", "active"),
]


class Command(BaseCommand):
    help = "Load demo regions, accounts and people; keeps what already exists."

    @transaction.atomic
    def handle(self, *args, **options):
        regions = {spec[0]: self._region(*spec) for spec in DEMO_REGIONS}
        for spec in DEMO_ACCOUNTS:
            users = [self._user(email, first, last) for email, first, last, _ in spec["people"]]
            account = Account.objects.filter(slug=spec["slug"]).first() or account_create(
                name=spec["name"], slug=spec["slug"], owner=users[0]
            )
            for user, (_, _, _, role) in zip(users, spec["people"], strict=True):
                if not Membership.objects.filter(account=account, user=user).exists():
                    membership_add(account=account, user=user, role=role)
            for code in spec["regions"]:
                account_region_add(account=account, region=regions[code])
            for name, description, emails in spec.get("groups", []):
                self._group(account, name, description, emails)
        if not User.objects.filter(email="admin@atrium.test").exists():
            User.objects.create_superuser(email="admin@atrium.test", password=DEMO_PASSWORD)
        self._catalog(regions)
        # Plans and Acme's paid Backup (billing/demo.py), made once.
        from billing.demo import demo_billing_ensure

        self.stdout.write(demo_billing_ensure())
        self._connected_app()
        # Sales staff: sam (a rep, owns Acme) and maya (a manager); see billing_demo_history.
        from billing.management.commands.billing_demo_history import sales_staff_ensure

        sales_staff_ensure()
        self.stdout.write(f"Demo data ready (password for everyone: {DEMO_PASSWORD})")

    def _connected_app(self) -> None:
        # A staff-registered app enabled for Acme, made once (accounts/connected_apps.py). No app
        # runs at its URL in the demo: it shows in Acme's launcher, and Atrium's authorize step
        # refuses it to Globex. Its client secret is not kept (rotate it in the admin to use it).
        from accounts.connected_apps import app_enable, connected_app_register
        from accounts.models import AppEnablement, ConnectedApp

        app = ConnectedApp.objects.filter(name="Team Chat").first()
        if app is None:
            app = connected_app_register(
                name="Team Chat", description="Chat for your teams", icon="💬",
                launch_url="http://127.0.0.1:8200/", redirect_uris=["http://127.0.0.1:8200/callback"],
            ).app  # fmt: skip
            acme = Account.objects.get(slug="acme")
            if not AppEnablement.objects.filter(account=acme, app=app).exists():
                app_enable(account=acme, app=app, actor=None)

    def _region(self, code: str, name: str, people_port: int, machine_port: int) -> Region:
        region, _ = Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "people_url": f"http://127.0.0.1:{people_port}",
                "machine_url": f"https://127.0.0.1:{machine_port}",
            },
        )
        return region

    def _group(self, account: Account, name: str, description: str, emails: list[str]) -> None:
        # Made once: a demo user may change the group afterwards, and a restart keeps that.
        if Group.objects.filter(account=account, name__iexact=name).exists():
            return
        group = group_create(account=account, actor=None, name=name, description=description)
        members = list(Membership.objects.filter(account=account, user__email__in=emails))
        group_members_add(group=group, actor=None, memberships=members)

    def _user(self, email: str, first: str, last: str) -> User:
        existing = User.objects.filter(email=email).first()
        if existing:
            return existing
        return user_create(
            email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, email_verified=True
        )

    def _catalog(self, regions: dict[str, Region]) -> None:
        # Each product and entitlement is made once: staff may change them afterwards in the
        # admin, and a restart keeps that.
        for spec in DEMO_PRODUCTS:
            if not Product.objects.filter(code=spec["code"]).exists():
                fields = {key: value for key, value in spec.items() if key != "regions"}
                product_create(**fields, regions=[regions[code] for code in spec["regions"]])
        for slug, code, region_code, status in DEMO_ENTITLEMENTS:
            account = Account.objects.get(slug=slug)
            product = Product.objects.get(code=code)
            region = regions[region_code]
            if Entitlement.objects.filter(account=account, product=product, region=region).exists():
                continue
            ends_at = timezone.now() + timedelta(days=product.trial_days) if status == "trial" else None
            try:
                entitlement_set(
                    account=account, product=product, region=region, status=status, ends_at=ends_at
                )
            except ValidationError as exc:  # staff changed the catalog or the account since
                self.stdout.write(f"Skipped {code} for {slug} in {region_code}: {' '.join(exc.messages)}")
        # A cross-sell rule (products/crosssell.py), made once like the rest: staff edit it in the admin.
        rule = {"when_product__code": "backup", "recommend_product__code": "posture"}
        products = {p.code: p for p in Product.objects.filter(code__in=["backup", "posture"])}
        if len(products) == 2 and not CrossSellRule.objects.filter(**rule).exists():
            CrossSellRule.objects.create(
                when_product=products["backup"], recommend_product=products["posture"], position=10,
                message="Accounts with Backup & Recovery often add Security Posture: it finds risks in them.",
            )  # fmt: skip
