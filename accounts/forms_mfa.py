"""Forms of /accounts/mfa/ (accounts/views_mfa.py): they only check the shape of what was typed;
accounts/mfa.py checks the code itself against the person's devices."""

from django import forms
from django.core.exceptions import ValidationError

from accounts import mfa


class CodeForm(forms.Form):
    """A TOTP code or a recovery code (login stage, step-up, removal without a password)."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
                "placeholder": "123456 or abcd-efgh",
            }  # fmt: skip
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        error_messages={"required": "Enter a code.", "max_length": "That is not a code."},
    )

    def clean_code(self) -> str:
        return mfa.code_normalize(self.cleaned_data["code"])


class EnrolConfirmForm(forms.Form):
    """The current code of the app being set up: proves it holds the secret."""

    code = forms.CharField(
        label="Code from your app",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "placeholder": "123456",
            }
        ),
        error_messages={
            "required": "Enter the 6-digit code your app shows.",
            "max_length": "That is not a code.",
        },
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise ValidationError("Enter the 6-digit code your app shows.", code="format")
        return code
