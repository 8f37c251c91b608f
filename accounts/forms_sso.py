from django import forms
from django.core.exceptions import ValidationError

from accounts import sso
from accounts.models import Membership


class DomainClaimForm(forms.Form):
    domain = forms.CharField(max_length=260, label="Email domain", help_text="For example example.com")

    def clean_domain(self) -> str:
        try:
            return sso.domain_normalize(self.cleaned_data["domain"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


JIT_ROLE_CHOICES = [(value, label) for value, label in Membership.Role.choices if value in sso.JIT_ROLES]


class ConnectionForm(forms.Form):
    issuer = forms.URLField(max_length=500, label="Issuer URL", assume_scheme="https")
    client_id = forms.CharField(max_length=191, label="Client id")
    # Write-only: never rendered back (render_value=False); empty on an update keeps the stored one.
    secret = forms.CharField(
        max_length=191, required=False, label="Client secret", widget=forms.PasswordInput(render_value=False)
    )
    default_role = forms.ChoiceField(
        choices=JIT_ROLE_CHOICES, label="Role of people who sign in the first time"
    )
    trust_idp_mfa = forms.BooleanField(
        required=False, label="Trust the IdP's MFA (its amr claim) instead of asking for Atrium's code"
    )
    enabled = forms.BooleanField(
        required=False, initial=True, label="Send people of verified domains to this IdP"
    )

    def __init__(self, *args, has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret
        if has_secret:
            self.fields["secret"].help_text = "A secret is stored. Leave empty to keep it."

    def clean_client_id(self) -> str:
        value = self.cleaned_data["client_id"].strip()
        if not value or any(ch.isspace() for ch in value):
            raise forms.ValidationError("Enter the client id exactly as the IdP shows it (no spaces).")
        return value

    def clean(self):
        cleaned = super().clean()
        if not self.has_secret and not cleaned.get("secret"):
            self.add_error("secret", "Enter the client secret the IdP gave you.")
        return cleaned
