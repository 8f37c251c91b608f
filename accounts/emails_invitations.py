"""The invitation mail (templates/emails/invitation-subject.txt and -body.txt).

It carries the link's secret, which is never stored (only its hash is), so the caller passes
the token in; services send it on commit, in the process that made it (never through the
broker, where the secret would sit in a queue)."""

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Invitation, User


def invitation_url(token: str) -> str:
    return f"{settings.ATRIUM_ISSUER}{reverse('invite:accept', kwargs={'token': token})}"


def send_invitation(*, invitation_id: int, token: str) -> None:
    """Mail one invitation's link; an invitation gone or no longer pending is skipped."""
    send_invitations(items=[(invitation_id, token)])


def send_invitations(*, items: list[tuple[int, str]]) -> None:
    """Mail many (invitation id, token) pairs over one connection and two queries (a CSV import)."""
    invitations = (
        Invitation.objects.select_related("account", "invited_by")
        .filter(status=Invitation.Status.PENDING)
        .in_bulk([invitation_id for invitation_id, _ in items])
    )
    if not invitations:
        return
    emails = {invitation.email.lower() for invitation in invitations.values()}
    with_login = set(
        User.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=emails)
        .values_list("lower_email", flat=True)
    )
    with get_connection() as connection:
        for invitation_id, token in items:
            invitation = invitations.get(invitation_id)
            if invitation is not None:
                _send(invitation, token, invitation.email.lower() in with_login, connection)


def _send(invitation: Invitation, token: str, has_login: bool, connection) -> None:
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "account": invitation.account,
        "inviter": inviter.display_name if inviter else f"An admin of {invitation.account.name}",
        "role": invitation.get_role_display(),
        "accept_url": invitation_url(token),
        "has_login": has_login,
        "resent": invitation.send_count > 1,
    }
    subject = render_to_string("emails/invitation-subject.txt", context).strip()
    body = render_to_string("emails/invitation-body.txt", context)
    send_mail(subject, body, None, [invitation.email], connection=connection)
