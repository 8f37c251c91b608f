"""Who may start free trials in an account, and members' trial requests.

- The account's trial policy (AccountTrialPolicy; no row = the default "admins"): "admins" lets
  only owners and admins start trials (others are told to ask an admin); "members_request" lets
  members and billing people request one (product, regions, an optional note). Owners and admins
  change it ("members.manage"), audited.
- A request mails the account's owners and admins; one of them approves it (trials.trial_start
  for the requested regions, as the approving admin) or declines it with a reason (the requester
  is mailed). One pending request per account × product (a partial unique constraint), and none
  for a product the account already has or had (one trial per product, as in trials.py).
- Requests are kept after the decision: sales read pending and declined ones
  (trial_requests_for_sales, and the Django admin).
- Read-only members change nothing: they see the requests like admins but neither request nor
  decide. Owners and admins do not request: they start the trial themselves.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Prefetch, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership
from products import emails, trials
from products.models import AccountTrialPolicy, Entitlement, Product, ProductRegion, TrialRequest
from regions.models import Region

Policy = AccountTrialPolicy.Policy
Status = TrialRequest.Status
Role = Membership.Role

POLICY_RIGHT = "members.manage"
DECIDE_RIGHT = "members.manage"
VIEW_ALL_RIGHT = "members.view_admin"  # owners, admins, read-only see every request
REQUESTERS = frozenset({Role.MEMBER, Role.BILLING})
MAX_TEXT = 1000


def trial_policy_of(*, account: Account) -> str:
    row = AccountTrialPolicy.objects.filter(account=account).only("policy").first()
    return row.policy if row is not None else Policy.ADMINS


def _fresh_actor(actor: Membership) -> Membership:
    """Lock the account (lock order: Account first), then re-read the actor so a role changed or
    a membership suspended since the page loaded counts, not the stale copy."""
    account = account_lock(actor.account_id)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    fresh = Membership.objects.select_related("account", "user").filter(pk=actor.pk).first()
    if fresh is None or not fresh.is_active:
        raise PermissionDenied("Your membership is not active.")
    return fresh


@transaction.atomic
def trial_policy_set(*, actor: Membership, policy: str) -> AccountTrialPolicy:
    """Set who may start trials in the actor's account (owners and admins)."""
    actor = _fresh_actor(actor)
    permissions.require(actor, POLICY_RIGHT)
    if policy not in Policy.values:
        raise ValidationError({"policy": f"Unknown trial policy “{policy}”."}, code="policy")
    row = AccountTrialPolicy.objects.select_for_update().filter(account=actor.account).first()
    before = row.policy if row is not None else Policy.ADMINS
    if row is None:
        row = AccountTrialPolicy(account=actor.account)
    elif before == policy:
        return row  # a double submit changes and logs nothing
    row.policy = policy
    row.updated_by = actor.user
    row.save()
    if before != policy:
        audit_record(
            action="trial_policy.set", account=actor.account, actor=actor.user, target_type="account",
            target_id=actor.account_id, target_label=actor.account.slug,
            before={"policy": before}, after={"policy": policy},
        )  # fmt: skip
    return row


def _check_requestable(account: Account, product: Product, regions: list[Region]) -> list[Region]:
    """The regions, deduplicated and sorted, or the ValidationError trial_start would raise for
    the product itself (so a request that could never be approved is refused up front)."""
    if product.coming_soon:
        raise ValidationError(f"{product.name} is not available yet (coming soon).", code="coming_soon")
    if not product.trial_days:
        raise ValidationError(f"{product.name} has no free trial.", code="no_trial")
    regions = sorted({region.pk: region for region in regions}.values(), key=lambda r: r.code)
    if not regions:
        raise ValidationError({"regions": "Choose at least one region."}, code="no_region")
    offered = set(ProductRegion.objects.filter(product=product).values_list("region_id", flat=True))
    unavailable = [region.name for region in regions if region.pk not in offered]
    if unavailable:
        raise ValidationError(
            {"regions": f"{product.name} is not offered in {', '.join(unavailable)}."}, code="unavailable"
        )
    if Entitlement.objects.filter(account=account, product=product).exists():
        raise ValidationError(
            f"{account.name} already has or had {product.name}: there is nothing to request "
            "(one free trial per product).",
            code="owned",
        )
    return regions


def _clean_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ValidationError({field: f"At most {MAX_TEXT} characters."}, code="too_long")
    return value


@transaction.atomic
def trial_request_create(
    *, actor: Membership, product: Product, regions: list[Region], note: str = ""
) -> TrialRequest:
    """A member asks the account's owners and admins for a free trial of the product."""
    actor = _fresh_actor(actor)
    account = actor.account
    if actor.role in permissions.ADMINS:
        raise ValidationError(
            "Owners and admins start the trial themselves: use “Start free trial”.", code="start_directly"
        )
    if actor.role not in REQUESTERS:
        raise PermissionDenied(f"Your role ({actor.get_role_display().lower()}) cannot request trials.")
    if trial_policy_of(account=account) != Policy.MEMBERS_REQUEST:
        raise PermissionDenied(f"In {account.name} only owners and admins start trials: ask an admin.")
    note = _clean_text(note, "note")
    regions = _check_requestable(account, product, regions)
    pending = TrialRequest.objects.filter(account=account, product=product, status=Status.PENDING)
    if pending.exists():
        raise ValidationError(
            f"A request for {product.name} is already waiting for an admin of {account.name}.", code="pending"
        )
    try:
        with transaction.atomic():  # the constraint is the last word on a race the lock did not order
            trial_request = TrialRequest.objects.create(
                account=account, product=product, requested_by=actor.user, requester_email=actor.user.email,
                note=note,
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError(
            f"A request for {product.name} is already waiting for an admin of {account.name}.", code="pending"
        ) from exc
    trial_request.regions.set(regions)
    audit_record(
        action="trial_request.create", account=account, actor=actor.user, target_type="trial_request",
        target_id=trial_request.pk, target_label=trials._label(product, regions),
        after={"product": product.code, "regions": [r.code for r in regions], "note": note},
    )  # fmt: skip
    # robust: the request is committed; a mail server that is down is logged, not the member's 500.
    transaction.on_commit(lambda: emails.send_trial_request_created(trial_request=trial_request), robust=True)
    return trial_request


def _lock_pending(actor: Membership, trial_request: TrialRequest) -> tuple[Membership, TrialRequest]:
    actor = _fresh_actor(actor)
    if trial_request.account_id != actor.account_id:
        raise PermissionDenied("Not a request of your account.")
    permissions.require(actor, DECIDE_RIGHT)
    locked = (
        TrialRequest.objects.select_for_update(of=("self",))
        .select_related("account", "product", "requested_by")
        .filter(pk=trial_request.pk)
        .first()
    )
    if locked is None:
        raise Http404("No such trial request")
    if locked.status != Status.PENDING:
        raise ValidationError(
            f"This request was {locked.get_status_display().lower()} already.", code="decided"
        )
    return actor, locked


@transaction.atomic
def trial_request_approve(*, actor: Membership, trial_request: TrialRequest) -> list[Entitlement]:
    """An owner or admin approves: the trial starts in the requested regions, as them. Returns
    the trial's entitlements. A request that can no longer be met (the product was since
    started, or left a region) raises trial_start's ValidationError and stays pending."""
    actor, locked = _lock_pending(actor, trial_request)
    regions = list(locked.regions.order_by("code"))
    entitlements = trials.trial_start(
        account=locked.account, product=locked.product, regions=regions, actor=actor
    )
    locked.status = Status.APPROVED
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        action="trial_request.approve", account=locked.account, actor=actor.user, target_type="trial_request",
        target_id=locked.pk, target_label=trials._label(locked.product, regions),
        before={"status": Status.PENDING},
        after={"status": Status.APPROVED, "requester": locked.requester_email},
    )  # fmt: skip
    transaction.on_commit(lambda: emails.send_trial_request_approved(trial_request=locked), robust=True)
    return entitlements


@transaction.atomic
def trial_request_decline(*, actor: Membership, trial_request: TrialRequest, reason: str) -> TrialRequest:
    """An owner or admin declines, saying why; the requester is mailed the reason."""
    reason = _clean_text(reason, "reason")
    if not reason:
        raise ValidationError({"reason": "Say why, for the person who asked."}, code="reason_required")
    actor, locked = _lock_pending(actor, trial_request)
    locked.status = Status.DECLINED
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.decline_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
    audit_record(
        action="trial_request.decline", account=locked.account, actor=actor.user, target_type="trial_request",
        target_id=locked.pk, target_label=f"{locked.product.name} ({locked.requester_email})",
        before={"status": Status.PENDING}, after={"status": Status.DECLINED, "reason": reason},
    )  # fmt: skip
    transaction.on_commit(lambda: emails.send_trial_request_declined(trial_request=locked), robust=True)
    return locked


# Reads ---------------------------------------------------------------------------------------


def _with_details(queryset: QuerySet[TrialRequest]) -> QuerySet[TrialRequest]:
    return queryset.select_related("account", "product", "requested_by", "decided_by").prefetch_related(
        Prefetch("regions", queryset=Region.objects.order_by("code"))
    )


def trial_requests_visible(*, membership: Membership) -> QuerySet[TrialRequest]:
    """The account's requests this person sees: every one for owners, admins and read-only,
    their own for everyone else. Pending first, then newest. Two queries."""
    requests = TrialRequest.objects.filter(account_id=membership.account_id)
    if not permissions.can(membership, VIEW_ALL_RIGHT):
        requests = requests.filter(requested_by_id=membership.user_id)
    # Pending first: "pending" sorts after "approved" and "declined" by name.
    pending_first = Case(When(status=Status.PENDING, then=Value(0)), default=Value(1))
    return (
        _with_details(requests)
        .annotate(pending_first=pending_first)
        .order_by("pending_first", "-created_at", "-pk")
    )


def trial_request_of_account(*, membership: Membership, pk: int) -> TrialRequest:
    """One request the person may see (404 for another account's or, for a member, another
    person's: the same answer, so ids cannot be probed)."""
    found = trial_requests_visible(membership=membership).filter(pk=pk).first()
    if found is None:
        raise Http404("No such trial request")
    return found


def trial_request_pending(*, account: Account, product: Product) -> TrialRequest | None:
    return TrialRequest.objects.filter(account=account, product=product, status=Status.PENDING).first()


def trial_requests_pending_count(*, account: Account) -> int:
    return TrialRequest.objects.filter(account=account, status=Status.PENDING).count()


def trial_requests_for_sales() -> QuerySet[TrialRequest]:
    """Pending and declined requests of every account, newest first (approved ones became trials,
    which sales see as entitlements)."""
    requests = TrialRequest.objects.filter(status__in=[Status.PENDING, Status.DECLINED])
    return _with_details(requests).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class RequestOffer:
    """What the product page offers a person who may not start the trial themselves."""

    policy: str
    can_request: bool
    pending: TrialRequest | None


def trial_request_offer(
    *, membership: Membership | None, product: Product, trial_available: bool
) -> RequestOffer:
    if membership is None or not trial_available:
        return RequestOffer(policy=Policy.ADMINS, can_request=False, pending=None)
    policy = trial_policy_of(account=membership.account)
    pending = trial_request_pending(account=membership.account, product=product)
    can_request = (
        policy == Policy.MEMBERS_REQUEST
        and membership.is_active
        and membership.role in REQUESTERS
        and pending is None
    )
    return RequestOffer(policy=policy, can_request=can_request, pending=pending)
