"""The sales flag: a trial started by an account whose owner's (or starter's) verified email
domain is also the domain of a person in ANOTHER account that already had a trial of the same
product. It is a lead for sales ("two teams of one company are trying Backup"), never a refusal:
trials.trial_start records flags after the trial is written, inside a savepoint, and a failure
only logs.

Free-mail domains (gmail.com, outlook.com, ...) say nothing about a company and are never
flagged: `ATRIUM_FREE_MAIL_DOMAINS` in settings replaces the default list below.
"""

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet

from accounts.models import Account, AuditEvent, Membership, User
from products.models import Entitlement, Product, TrialSalesFlag

logger = logging.getLogger(__name__)

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
        "web.de", "mail.com", "yandex.com", "zoho.com",
    }
)  # fmt: skip


def free_mail_domains() -> frozenset[str]:
    return frozenset(
        d.strip().lower() for d in getattr(settings, "ATRIUM_FREE_MAIL_DOMAINS", FREE_MAIL_DOMAINS)
    )


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""


def _company_domains(account: Account, starter: User | None) -> set[str]:
    """Verified email domains of the account's active owners and of the starter, minus free-mail."""
    owners = Membership.objects.filter(
        account=account, role=Membership.Role.OWNER, status=Membership.Status.ACTIVE
    ).values("user_id")
    people = Q(user_id__in=owners) | (Q(user_id=starter.pk) if starter is not None else Q(pk__in=[]))
    emails = EmailAddress.objects.filter(people, verified=True).values_list("email", flat=True)
    return {email_domain(email) for email in emails} - free_mail_domains() - {""}


def _accounts_that_tried(product: Product, account: Account) -> QuerySet[Account]:
    """Other accounts that had a trial of the product: a trial running or run out, or a trial
    start in the audit log (a trial since bought shows up only there). A subquery, so a product
    tried by thousands of accounts is never loaded into Python."""
    statuses = [Entitlement.Status.TRIAL, Entitlement.Status.EXPIRED]
    running = Entitlement.objects.filter(product=product, status__in=statuses).values("account_id")
    started = AuditEvent.objects.filter(
        action="trial.start", target_type="product", target_id=product.code, account__isnull=False
    ).values("account_id")
    tried = Account.objects.filter(Q(pk__in=running) | Q(pk__in=started)).exclude(pk=account.pk)
    return tried.values("pk")


def _flags_for(account: Account, product: Product, starter: User | None) -> list[TrialSalesFlag]:
    domains = _company_domains(account, starter)
    if not domains:
        return []
    others = _accounts_that_tried(product, account)
    same_domain = Q(pk__in=[])
    for domain in sorted(domains):
        same_domain |= Q(email__iendswith=f"@{domain}")
    emails = dict(
        EmailAddress.objects.filter(same_domain, verified=True)
        .filter(user__memberships__account_id__in=others)
        .values_list("user_id", "email")
        .distinct()
    )
    if not emails:
        return []
    members = Membership.objects.filter(user_id__in=list(emails), account_id__in=others)
    pairs = {
        (other_id, email_domain(emails[user_id]))
        for user_id, other_id in members.values_list("user_id", "account_id")
    }
    return [
        TrialSalesFlag(account=account, product=product, email_domain=domain, other_account_id=other)
        for other, domain in sorted(pairs)
    ]


def trial_sales_flags_record(*, account: Account, product: Product, starter: User | None) -> int:
    """Record the sales flags a trial start raises (called by trials.trial_start inside its
    transaction). Never raises: a failure is logged and the trial goes on. Returns how many."""
    try:
        with transaction.atomic():  # a savepoint: a failed insert must not poison the trial's transaction
            # Two accounts of one company starting this product at once would each miss the
            # other's uncommitted trial: the product's row lock (held to the commit; NO KEY, so
            # entitlement writes referencing it go on) makes the later one read after the first.
            Product.objects.select_for_update(no_key=True).filter(pk=product.pk).first()
            flags = _flags_for(account, product, starter)
            created = TrialSalesFlag.objects.bulk_create(flags, ignore_conflicts=True)
    except DatabaseError:
        logger.exception("sales flags for %s / %s not recorded", account.slug, product.code)
        return 0
    if created:
        logger.info("trial of %s by %s flagged for sales (%d)", product.code, account.slug, len(created))
    return len(created)


# Reads ---------------------------------------------------------------------------------------


def trial_sales_flags_for_sales() -> QuerySet[TrialSalesFlag]:
    """Every flag, newest first, with what a sales list shows (one query)."""
    return TrialSalesFlag.objects.select_related("account", "product", "other_account").order_by(
        "-created_at", "-pk"
    )
