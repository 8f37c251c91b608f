"""Sales staff: who they are and which accounts they own.

Sales staff are Atrium employees in the Django groups "sales" (a rep) and "sales manager". The
groups are made by `sales_groups_ensure()` (load_demo calls it; tests call it): no data migration,
so billing's migrations stay the engine's alone. A rep sees only the accounts they own
(billing.models.SalesOwner); a manager sees every account and reassigns them with
`sales_owner_assign`, which is audited in the account's log.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Account, User
from billing.models import SalesOwner

REP_GROUP = "sales"
MANAGER_GROUP = "sales manager"
SALES_GROUPS = (REP_GROUP, MANAGER_GROUP)


@dataclass(frozen=True)
class SalesScope:
    """Who is looking: a rep (their own accounts) or a manager (every account)."""

    user: User
    is_manager: bool


def sales_groups_ensure() -> dict[str, Group]:
    """The two staff groups (idempotent)."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in SALES_GROUPS}


def sales_scope_of(user) -> SalesScope | None:
    """The user's sales scope, or None for anyone who is not sales staff (customers). One query.
    Sales staff are Atrium employees: is_staff AND in a sales group. The group alone is not enough,
    so a customer put in it by mistake (or by an admin edit) never sees every account's figures."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return None
    names = set(user.groups.filter(name__in=SALES_GROUPS).values_list("name", flat=True))
    if not names:
        return None
    return SalesScope(user=user, is_manager=MANAGER_GROUP in names)


def sales_reps_queryset():
    """Everyone an account can be assigned to: active staff in either sales group (sales_scope_of)."""
    return (
        User.objects.filter(is_active=True, is_staff=True, groups__name__in=SALES_GROUPS)
        .distinct()
        .order_by("email")
    )


def sales_reps() -> list[User]:
    return list(sales_reps_queryset())


@transaction.atomic
def sales_owner_assign(*, account: Account, rep: User | None, actor: User) -> SalesOwner | None:
    """A manager gives the account to a rep (or, with rep=None, unassigns it). Audited as
    `sales_owner.assign` in the account's log with the previous and new owner."""
    scope = sales_scope_of(actor)
    if scope is None or not scope.is_manager:
        raise PermissionDenied("Only a sales manager reassigns accounts.")
    if rep is not None and sales_scope_of(rep) is None:
        raise ValidationError({"rep": f"{rep.email} is not in sales."}, code="not_sales")
    # Lock the account first: with no owner row yet there is nothing else to lock, and two managers
    # assigning at once would both insert (the second failing on the one-owner constraint).
    Account.objects.select_for_update().filter(pk=account.pk).first()
    current = SalesOwner.objects.select_for_update().select_related("rep").filter(account=account).first()
    before = current.rep.email if current else None
    after = rep.email if rep else None
    if before == after:
        return current
    if rep is None:
        current.delete()
        owner = None
    elif current is None:
        owner = SalesOwner.objects.create(account=account, rep=rep)
    else:
        current.rep = rep
        current.assigned_at = timezone.now()
        current.save(update_fields=["rep", "assigned_at"])
        owner = current
    audit_record(
        action="sales_owner.assign", account=account, actor=actor, target_type="account",
        target_id=account.slug, target_label=account.name, before={"rep": before}, after={"rep": after},
    )  # fmt: skip
    return owner
