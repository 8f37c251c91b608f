"""allauth social login for customer SSO (SOCIALACCOUNT_ADAPTER): an account's IdP signs people
in only with addresses of the domains that account verified, links to an existing Atrium
identity by email only then, and creates the identity and the membership just in time."""

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.db import transaction
from django.shortcuts import render

from accounts import sso
from accounts.models import User


def _refuse(request, reason: str):
    response = render(request, "socialaccount/sso_refused.html", {"reason": reason}, status=403)
    return ImmediateHttpResponse(response)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def _asserted_email(self, sociallogin) -> str:
        id_token, userinfo = sso.asserted_claims(sociallogin)
        return str(userinfo.get("email") or id_token.get("email") or "")

    def pre_social_login(self, request, sociallogin) -> None:
        connection = sso.connection_of_app(provider_id=sociallogin.account.provider)
        if (sociallogin.state or {}).get("process") == AuthProcess.CONNECT:
            # Linking is decided here by verified domain and email, never by who happens to
            # be signed in (allauth's "connect" would attach any IdP identity to them).
            raise _refuse(
                request, "Single sign-on identities are linked by their email address, not by hand."
            )
        try:
            email = sso.sso_login_check(connection=connection, email=self._asserted_email(sociallogin))
        except sso.SSORefused as exc:
            raise _refuse(request, exc.reason) from None
        if sociallogin.is_existing:
            user = sociallogin.user
            # The link stands only while the person's own address is still in a verified domain
            # of this account (they may have changed it since the first login).
            if user.email.lower() != email or not user.is_active:
                raise _refuse(request, "This identity is linked to another Atrium address; ask your admin.")
        else:
            user = User.objects.filter(email__iexact=email).first()
            if user is not None:
                if not user.is_active:
                    raise _refuse(request, "This Atrium identity is deactivated.")
                # Linking by email is safe only here: the domain is verified by this account.
                sociallogin.connect(request, user)
        if user is not None and user.pk:
            sso.sso_member_ensure(connection=connection, user=user)

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # pre_social_login admitted this person for a verified domain: no self-serve form.
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = self._asserted_email(sociallogin).strip().lower()
        return user

    @transaction.atomic
    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        # The account verified the domain and its IdP asserted the address: the `email` claim
        # Atrium issues needs a primary, verified EmailAddress (STACK.md).
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        connection = sso.connection_of_app(provider_id=sociallogin.account.provider)
        sso.sso_member_ensure(connection=connection, user=user)
        return user
