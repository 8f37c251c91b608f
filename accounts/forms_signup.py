from django import forms

from accounts.signup import NAME_MAX
from regions.models import Region


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code.upper()})"


class SignupCompleteForm(forms.Form):
    """Onboarding: the company's name and its home region (by code, so a forged or stale
    choice is a form error, never a lookup of an arbitrary id)."""

    company_name = forms.CharField(
        max_length=NAME_MAX,
        label="Company name",
        error_messages={"required": "Your company needs a name."},
        # The browser stops at the limit too; the server check still answers a forged post.
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    region = RegionChoiceField(
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        label="Home region",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a home region.",
            "invalid_choice": "Choose one of the regions offered.",
        },
    )

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not name:
            raise forms.ValidationError("Your company needs a name.")
        return name
