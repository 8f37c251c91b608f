"""One function per email; templates in templates/emails/<name>-subject.txt and -body.txt."""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account, Membership
from products.models import Product
from regions.models import Region


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
    subject = render_to_string("emails/trial-reminder-subject.txt", context).strip()
    body = render_to_string("emails/trial-reminder-body.txt", context)
    return send_mail(subject, body, None, recipients)
