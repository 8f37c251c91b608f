"""Demo data (idempotent): Acme in US/EU/AU with the group "Backup operators" (bob), Globex in
EU, password demo-pass-2026 for all."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.groups import group_create, group_members_add
from accounts.models import Account, Group, Membership, User
from accounts.services import account_create, account_region_add, membership_add, user_create
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
        self.stdout.write(f"Demo data ready (password for everyone: {DEMO_PASSWORD})")

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
