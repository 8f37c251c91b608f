"""The account's own settings page: rename and close, permission-checked and audited around
accounts.services (which hold the ledger work)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import permissions, services
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership


def _actor_under_lock(actor: Membership) -> Membership:
    """Lock the account (lock order: Account first), then re-read the actor: a role changed
    or a membership suspended since the page loaded counts, not the stale copy."""
    account_lock(actor.account_id)
    fresh = Membership.objects.select_related("account", "user").filter(pk=actor.pk).first()
    if fresh is None or fresh.account.is_closed:
        raise ValidationError("This account is closed.", code="closed")
    return fresh


@transaction.atomic
def account_settings_rename(*, actor: Membership, name: str) -> Account:
    actor = _actor_under_lock(actor)
    permissions.require(actor, "account.rename")
    account = actor.account
    name = name.strip()
    if name == account.name:
        return account
    before = {"name": account.name}
    renamed = services.account_rename(account=account, name=name)
    audit_record(
        action="account.rename", account=renamed, actor=actor.user, target_type="account",
        target_id=renamed.pk, target_label=renamed.slug, before=before, after={"name": renamed.name},
    )  # fmt: skip
    return renamed


@transaction.atomic
def account_settings_close(*, actor: Membership) -> Account:
    """Close the account for good: every member leaves every region (accounts.services
    .account_close); the row, its slug and its audit log stay."""
    actor = _actor_under_lock(actor)
    permissions.require(actor, "account.close")
    members = Membership.objects.filter(account_id=actor.account_id).count()
    closed = services.account_close(account=actor.account)
    audit_record(
        action="account.close", account=closed, actor=actor.user, target_type="account",
        target_id=closed.pk, target_label=closed.slug, before={"closed_at": None},
        after={"closed_at": closed.closed_at.isoformat(), "members_deprovisioned": members},
    )  # fmt: skip
    return closed
