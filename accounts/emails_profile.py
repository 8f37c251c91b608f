"""Mails of a person's own profile (the email change); templates in
templates/emails/email-change-*.txt, one function per mail as in accounts/emails.py."""

import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User


def send_email_change_link(*, user: User, new_email: str, token: str, valid_hours: int) -> None:
    """To the new address only: whoever reads it proves they hold the address."""
    path = reverse("profile:email_confirm", kwargs={"token": token})
    context = {
        "user": user,
        "new_email": new_email,
        "confirm_url": f"{settings.ATRIUM_ISSUER}{path}",
        "hours": valid_hours,
    }
    subject = render_to_string("emails/email-change-confirm-subject.txt", context).strip()
    body = render_to_string("emails/email-change-confirm-body.txt", context)
    send_mail(subject, body, None, [new_email])


def send_email_changed_notice(*, old_email: str, public_id: uuid.UUID) -> None:
    """To the old address, once the change is done: a hijacked session is noticed."""
    user = User.objects.filter(public_id=public_id).first()
    if user is None:
        return
    context = {"user": user, "old_email": old_email, "profile_url": f"{settings.ATRIUM_ISSUER}/profile/"}
    subject = render_to_string("emails/email-change-notice-subject.txt", context).strip()
    body = render_to_string("emails/email-change-notice-body.txt", context)
    send_mail(subject, body, None, [old_email])
