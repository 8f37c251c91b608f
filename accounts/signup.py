"""Self-serve sign-up's last step (issue 9). allauth creates the identity and verifies its
email; a person who then belongs to no account names their company and picks a home region.
`account_signup_complete` does the whole step in one transaction: the Account (slug derived
from the name), the person as its owner, the home region through `account_region_add` (which
provisions them there) and one audit row. Either all of it exists afterwards or none of it."""

import itertools
import re
from collections.abc import Iterator

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.audit import audit_record
from accounts.locks import person_lock
from accounts.models import RESERVED_SLUGS, Account, Membership, User
from accounts.services import account_create, account_region_add
from regions.models import ProvisioningRecord, Region

SLUG_MAX = Account._meta.get_field("slug").max_length
NAME_MAX = Account._meta.get_field("name").max_length
# A name with no letters or digits in ASCII ("株式会社", "!!!") still needs a tenant name.
FALLBACK_SLUG = "company"
# Two sign-ups racing for the same free slug: the loser picks the next one. More attempts than
# this means something else is wrong, and the person gets a form error rather than a loop.
SLUG_ATTEMPTS = 5
SLUG_BATCH = 20


def signup_pending(*, user: User) -> bool:
    """True for a signed-in person who belongs to no account yet (onboarding is for them).
    A membership on its way out (`removing`) no longer counts."""
    return not Membership.objects.filter(user=user).exclude(status=Membership.Status.REMOVING).exists()


def slug_base(name: str) -> str:
    """The slug a company name asks for: ASCII letters, digits and single hyphens, at most
    SLUG_MAX long, never starting or ending with a hyphen."""
    slug = re.sub(r"[-_]+", "-", slugify(name)).strip("-")
    return slug[:SLUG_MAX].strip("-") or FALLBACK_SLUG


def _candidates(base: str) -> Iterator[str]:
    yield base
    n = 2
    while True:
        suffix = f"-{n}"
        yield f"{base[: SLUG_MAX - len(suffix)].rstrip('-')}{suffix}"
        n += 1


def _taken(slugs: list[str]) -> set[str]:
    """Which of `slugs` cannot be given: those of every account (closed ones keep theirs for
    ever) and tenant names the regions' ledger still knows (a region may still hold them)."""
    taken = set(Account.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    taken |= set(ProvisioningRecord.objects.filter(tenant__in=slugs).values_list("tenant", flat=True))
    return taken | (set(slugs) & RESERVED_SLUGS)


def slug_free(*, name: str) -> str:
    """The first slug derived from `name` that is neither reserved nor taken: `acme`, else
    `acme-2`, `acme-3`… (read in batches, two queries per batch)."""
    candidates = _candidates(slug_base(name))
    while True:
        batch = list(itertools.islice(candidates, SLUG_BATCH))
        taken = _taken(batch)
        free = [slug for slug in batch if slug not in taken]
        if free:
            return free[0]


def _account_create_with_free_slug(*, name: str, owner: User) -> Account:
    for _ in range(SLUG_ATTEMPTS):
        slug = slug_free(name=name)
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
                return account_create(name=name, slug=slug, owner=owner)
        except IntegrityError:
            continue  # another sign-up committed this slug after we read the free ones
        except ValidationError as exc:
            if "slug" not in getattr(exc, "error_dict", {}):
                raise
    raise ValidationError({"company_name": "Could not find a free name for this company; try again."})


def _clean_name(company_name: str) -> str:
    name = (company_name or "").strip()
    if not name:
        raise ValidationError({"company_name": "Your company needs a name."}, code="required")
    if len(name) > NAME_MAX:
        raise ValidationError(
            {"company_name": f"Use at most {NAME_MAX} characters (it has {len(name)})."}, code="max_length"
        )
    return name


@transaction.atomic
def account_signup_complete(*, user: User, company_name: str, region: Region) -> Account:
    """Create the person's company account with them as owner, using `region` as its home
    region. Refused (ValidationError) for a person who already belongs to an account — a
    double submit or a second tab finds the first one's account here — or whose email is not
    verified, for a blank or too long name and for a region that does not exist."""
    # The person's row first (the services' lock order): concurrent submits queue here, and
    # the second sees the first's membership once it commits.
    person = person_lock(user)
    if person is None:
        raise ValidationError("This identity no longer exists.", code="gone")
    existing = (
        Membership.objects.filter(user=person)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("account")
        .order_by("pk")
        .first()
    )
    if existing is not None:
        raise ValidationError(
            f"You already belong to {existing.account.name} ({existing.account.slug}).",
            code="already_onboarded",
            params={"slug": existing.account.slug},
        )
    if not EmailAddress.objects.filter(user=person, email__iexact=person.email, verified=True).exists():
        raise ValidationError("Confirm your email address first.", code="unverified")
    name = _clean_name(company_name)
    home = Region.objects.filter(pk=getattr(region, "pk", None)).first()
    if home is None:
        raise ValidationError({"region": "Choose one of the regions offered."}, code="invalid_choice")
    account = _account_create_with_free_slug(name=name, owner=person)
    account_region_add(account=account, region=home, audit_actor=person)
    audit_record(
        action="account.signup", account=account, actor=person, target_type="account",
        target_id=account.pk, target_label=account.slug,
        after={"name": account.name, "slug": account.slug, "home_region": home.code, "owner": person.email},
    )  # fmt: skip
    return account
