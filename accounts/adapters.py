from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    """Hook point for allauth's login flow: MFA stage (accounts/mfa.py), password rules of the
    person's accounts (accounts/security_policy.py)."""

    def get_login_stages(self) -> list[str]:
        from accounts import mfa

        # MFA last: it must see the person after every other stage admitted them.
        return [*super().get_login_stages(), *mfa.login_stages()]

    def pre_authenticate(self, request, **credentials) -> None:
        # allauth refuses a login over its login_failed limit here (a form error, not a 429).
        from django.core.exceptions import ValidationError

        from accounts import security_events

        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            login = credentials.get("email") or credentials.get("username") or ""
            security_events.lockout_record(request=request, limit="login_failed", login=str(login)[:254])
            raise

    def clean_password(self, password: str, user=None) -> str:
        from accounts import security_policy

        password = super().clean_password(password, user)
        security_policy.password_validate(password=password, user=user)
        return password

    def get_login_redirect_url(self, request):
        # A person with no account yet (just signed up, or left every account) would land on
        # an empty dashboard: onboarding lets them create one. An explicit `next` still wins;
        # staff (operators, sales) belong to no customer account and are not customers.
        from accounts.signup import signup_pending

        user = request.user
        if user.is_authenticated and not user.is_staff and signup_pending(user=user):
            return reverse("signup:welcome")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        # After sign-up (and the email confirmation that completes its login).
        if request.user.is_authenticated:
            return self.get_login_redirect_url(request)
        return super().get_signup_redirect_url(request)
