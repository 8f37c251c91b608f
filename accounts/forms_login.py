"""Atrium's login form (ACCOUNT_FORMS["login"]): email first.

An email of a domain verified by an account with an enabled SSO connection goes to that
account's IdP (with `login_hint`); anyone else signs in with their password. Both fields are on
the one page (the password is simply left empty to continue with SSO), so a POST of email and
password — a password manager, a script, the existing tests — still works, and the refusal of
passwords for SSO-only domains holds however the form is reached."""

from allauth.account.forms import LoginForm
from django import forms

from accounts import sso


class EmailFirstLoginForm(LoginForm):
    sso_connection = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields["password"]
        password.required = False
        password.help_text = "Leave it empty if your company signs you in with single sign-on."
        self.fields["login"].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = forms.Form.clean(self)
        if self._errors:
            return cleaned
        email = cleaned["login"]
        if not cleaned.get("password"):
            self.sso_connection = sso.connection_for_email(email=email)
            if self.sso_connection is None:
                self.add_error("password", "Enter your password.")
            return cleaned
        refusing = sso.password_login_refused(email=email)
        if refusing is not None:
            raise forms.ValidationError(
                f"{refusing.name} signs you in with single sign-on only: "
                "leave the password empty and continue to your company's sign-in.",
                code="sso_only",
            )
        return super().clean()

    def login(self, request, redirect_url=None):
        if self.sso_connection is not None:
            return sso.sso_login_redirect(
                request,
                connection=self.sso_connection,
                email=self.cleaned_data["login"],
                next_url=redirect_url,
            )
        return super().login(request, redirect_url=redirect_url)
