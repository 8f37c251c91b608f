"""One function per email; templates in templates/emails/<name>-subject.txt and -body.txt."""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account, Membership
from products.models import Product
from regions.models import Region


def _subject(name: str, context: dict) -> str:
    """The subject on one line: people's and companies' names are their own input, and a line
    break in a header is refused by Django's mail (a 500 for the request, a stuck sweep)."""
    return " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())


def trial_reminder_recipients(account: Account) -> list[str]:
    """The account's active owners and admins who can sign in."""
    memberships = Membership.objects.filter(
        account=account,
        status=Membership.Status.ACTIVE,
        role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        user__is_active=True,
    ).order_by("user__email")
    return list(memberships.values_list("user__email", flat=True))


def send_trial_reminder(
    *, account: Account, product: Product, regions: list[Region], ends_at: datetime, now: datetime
) -> int:
    """Tell the account's owners and admins that its trial of the product ends soon."""
    recipients = trial_reminder_recipients(account)
    if not recipients:
        return 0
    days_left = max(1, round((ends_at - now).total_seconds() / 86400))
    path = reverse("products:detail", args=[product.code])
    context = {
        "account": account,
        "product": product,
        "regions": regions,
        "ends_at": ends_at,
        "days_left": days_left,
        "product_url": f"{settings.ATRIUM_ISSUER}{path}?account={account.slug}",
    }
    subject = _subject("trial-reminder", context)
    body = render_to_string("emails/trial-reminder-body.txt", context)
    return send_mail(subject, body, None, recipients)


# Trial requests (products/trial_requests.py) -------------------------------------------------


def _person(user) -> str:
    return user.get_full_name() or user.email if user is not None else "An admin"


def _requests_url(account: Account) -> str:
    return f"{settings.ATRIUM_ISSUER}{reverse('products:trial_requests')}?account={account.slug}"


def _send(name: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    subject = _subject(name, context)
    body = render_to_string(f"emails/{name}-body.txt", context)
    return send_mail(subject, body, None, recipients)


def send_trial_request_created(*, trial_request) -> int:
    """Tell the account's owners and admins that a member asks for a trial."""
    account = trial_request.account
    context = {
        "account": account,
        "product": trial_request.product,
        "regions": list(trial_request.regions.order_by("code")),
        "requester": _person(trial_request.requested_by)
        if trial_request.requested_by
        else trial_request.requester_email,
        "note": trial_request.note,
        "requests_url": _requests_url(account),
    }
    return _send("trial-request-created", context, trial_reminder_recipients(account))


def send_trial_request_declined(*, trial_request) -> int:
    """Tell the requester that an admin declined, and why."""
    context = {
        "account": trial_request.account,
        "product": trial_request.product,
        "decided_by": _person(trial_request.decided_by),
        "reason": trial_request.decline_reason,
        "requests_url": _requests_url(trial_request.account),
    }
    return _send("trial-request-declined", context, [trial_request.requester_email])


def send_trial_request_approved(*, trial_request) -> int:
    """Tell the requester that their trial is running."""
    account = trial_request.account
    path = reverse("products:detail", args=[trial_request.product.code])
    context = {
        "account": account,
        "product": trial_request.product,
        "regions": list(trial_request.regions.order_by("code")),
        "decided_by": _person(trial_request.decided_by),
        "product_url": f"{settings.ATRIUM_ISSUER}{path}?account={account.slug}",
    }
    return _send("trial-request-approved", context, [trial_request.requester_email])
