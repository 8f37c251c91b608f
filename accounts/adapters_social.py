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


def _refuse_staff(request, user) -> None:
    # A customer's admin controls their IdP and can assert any address of their domain: Atrium
    # staff (Django admin, operators) must never be signed in that way, even at that domain.
    if user.is_staff or user.is_superuser:
        raise _refuse(request, "Atrium staff sign in with their Atrium password, not single sign-on.")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def _asserted_email(self, sociallogin) -> str:
        return self._asserted(sociallogin)[0]

    def _asserted(self, sociallogin) -> tuple[str, object]:
        # The email and its `email_verified` from the same document (userinfo first).
        id_token, userinfo = sso.asserted_claims(sociallogin)
        source = userinfo if userinfo.get("email") else id_token
        return str(source.get("email") or ""), source.get("email_verified")

    def pre_social_login(self, request, sociallogin) -> None:
        connection = sso.connection_of_app(provider_id=sociallogin.account.provider)
        if (sociallogin.state or {}).get("process") == AuthProcess.CONNECT:
            # Linking is decided here by verified domain and email, never by who happens to
            # be signed in (allauth's "connect" would attach any IdP identity to them).
            raise _refuse(
                request, "Single sign-on identities are linked by their email address, not by hand."
            )
        asserted, email_verified = self._asserted(sociallogin)
        try:
            email = sso.sso_login_check(connection=connection, email=asserted, email_verified=email_verified)
        except sso.SSORefused as exc:
            raise _refuse(request, exc.reason) from None
        if sociallogin.is_existing:
            user = sociallogin.user
            # The link stands only while the person's own address is still in a verified domain
            # of this account (they may have changed it since the first login).
            if user.email.lower() != email or not user.is_active:
                raise _refuse(request, "This identity is linked to another Atrium address; ask your admin.")
            _refuse_staff(request, user)
        else:
            # The exact (lower-cased) address only: PostgreSQL's case-insensitive match folds
            # look-alikes together (upper("ı") is "I"), so "ivan@ınitech.test" of a domain this
            # account proved would otherwise reach ivan@initech.test of another account.
            user = next(
                (found for found in User.objects.filter(email__iexact=email) if found.email.lower() == email),
                None,
            )
            if user is None:
                # allauth's auto-signup reads the address from here; without it (an IdP that puts
                # the email only in the ID token) it would show its signup form instead, where
                # any address can be typed.
                sociallogin.email_addresses = [EmailAddress(email=email, verified=True, primary=True)]
                sociallogin.user.email = email
            if user is not None:
                if not user.is_active:
                    raise _refuse(request, "This Atrium identity is deactivated.")
                _refuse_staff(request, user)
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
        if form is not None:
            # allauth's social signup form lets the person type any address, which would then be
            # stored as verified below: SSO identities come only from what the IdP asserted.
            raise _refuse(request, "Single sign-on creates your Atrium identity from your company's sign-in.")
        user = super().save_user(request, sociallogin, form)
        # The account verified the domain and its IdP asserted the address: the `email` claim
        # Atrium issues needs a primary, verified EmailAddress (STACK.md).
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        connection = sso.connection_of_app(provider_id=sociallogin.account.provider)
        sso.sso_member_ensure(connection=connection, user=user)
        return user
