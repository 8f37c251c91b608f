"""One function per email; templates in templates/emails/<name>-subject.txt and -body.txt."""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Membership


def send_member_welcome(*, membership_id: int) -> None:
    """Tell a new person they were added and let them set a password (allauth's reset key)."""
    membership = Membership.objects.select_related("user", "account").filter(pk=membership_id).first()
    if membership is None:
        return
    user = membership.user
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    context = {
        "account": membership.account,
        "user": user,
        "set_password_url": f"{settings.ATRIUM_ISSUER}{path}",
        "login_url": f"{settings.ATRIUM_ISSUER}{reverse('account_login')}",
    }
    subject = render_to_string("emails/member-welcome-subject.txt", context).strip()
    body = render_to_string("emails/member-welcome-body.txt", context)
    send_mail(subject, body, None, [user.email])
