"""The account security policy form (/a/<slug>/security/)."""

from django import forms
from django.core.exceptions import ValidationError

from accounts.models_security import PASSWORD_MIN_LENGTH_DEFAULT, SecurityPolicy
from accounts.security_policy import email_domains_parse

MINUTES_MIN = 5
MINUTES_MAX = 90 * 24 * 60  # 90 days


class SecurityPolicyForm(forms.Form):
    mfa_required = forms.BooleanField(required=False, label="Require two-factor authentication (TOTP)")
    mfa_grace_days = forms.IntegerField(
        min_value=0, max_value=365, initial=0, label="Grace period (days)",
        help_text="Members without MFA may keep signing in this long after the requirement is switched on.",
    )  # fmt: skip
    session_lifetime_minutes = forms.IntegerField(
        required=False, min_value=MINUTES_MIN, max_value=MINUTES_MAX, label="Session lifetime (minutes)",
        help_text="Sign people out this long after they signed in. Empty: the site's default.",
    )  # fmt: skip
    idle_timeout_minutes = forms.IntegerField(
        required=False, min_value=MINUTES_MIN, max_value=MINUTES_MAX, label="Idle timeout (minutes)",
        help_text="Sign people out after this long without activity. Empty: no idle timeout.",
    )  # fmt: skip
    password_min_length = forms.IntegerField(
        min_value=PASSWORD_MIN_LENGTH_DEFAULT, max_value=128, initial=PASSWORD_MIN_LENGTH_DEFAULT,
        label="Minimum password length",
    )  # fmt: skip
    password_check_common = forms.BooleanField(required=False, label="Refuse common passwords")
    password_check_similarity = forms.BooleanField(
        required=False, label="Refuse passwords similar to the person's name or email"
    )
    password_refuse_numeric = forms.BooleanField(required=False, label="Refuse all-numeric passwords")
    allowed_email_domains = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label="Allowed email domains for invitations",
        help_text="One per line or comma-separated. Empty: any domain.",
    )  # fmt: skip
    sso_only = forms.BooleanField(required=False, label="SSO only (no passwords for verified domains)")

    @classmethod
    def for_policy(cls, policy: SecurityPolicy, data=None) -> "SecurityPolicyForm":
        initial = {name: getattr(policy, name) for name in cls.base_fields}
        initial["allowed_email_domains"] = "\n".join(policy.allowed_email_domains or [])
        return cls(data, initial=initial)

    def clean_allowed_email_domains(self) -> list[str]:
        try:
            return email_domains_parse(self.cleaned_data.get("allowed_email_domains", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    def policy_settings(self) -> dict:
        return dict(self.cleaned_data)
