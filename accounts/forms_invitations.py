from django import forms
from django.core.exceptions import ValidationError

from accounts.groups import groups_of_account
from accounts.models import Account, Group, Membership
from regions.models import Region
from regions.selectors import regions_of_account


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    region_access = forms.ChoiceField(
        choices=[
            ("all", "Every region of the account, also ones it adds later"),
            ("some", "Only these regions"),
        ],
        initial="all",
        widget=forms.RadioSelect,
    )
    regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, account: Account, can_invite_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this account's regions and groups are valid choices (another's id is a form error).
        self.fields["regions"].queryset = regions_of_account(account_id=account.pk)
        self.fields["groups"].queryset = groups_of_account(account=account)
        if not can_invite_owner:
            self.fields["role"].choices = [
                c for c in Membership.Role.choices if c[0] != Membership.Role.OWNER
            ]

    def clean(self):
        data = super().clean()
        if data.get("region_access") == "some" and not data.get("regions"):
            self.add_error("regions", "Choose at least one region, or every region.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "email": data["email"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "role": data["role"],
            "regions": None if data["region_access"] == "all" else list(data["regions"]),
            "groups": list(data["groups"]),
        }


class InvitationImportForm(forms.Form):
    file = forms.FileField(label="CSV file")


class InvitationStatusFilter(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("pending", "Pending"),
            ("expired", "Expired"),
            ("accepted", "Accepted"),
            ("revoked", "Revoked"),
            ("all", "All"),
        ],
        required=False,
    )
    q = forms.CharField(max_length=100, required=False, strip=True)

    @property
    def shown(self) -> str:
        return (self.cleaned_data.get("status") if self.is_valid() else "") or "pending"

    @property
    def search(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class InviteAcceptForm(forms.Form):
    """A new identity: names and a password (validated by the service, Django's validators)."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), label="Password"
    )
    password_again = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Password (again)",
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords differ.")
        return data


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form has
    it, else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)
