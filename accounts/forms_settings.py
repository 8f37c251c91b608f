from django import forms

from accounts.models import Account


class AccountRenameForm(forms.Form):
    name = forms.CharField(max_length=Account._meta.get_field("name").max_length, label="Account name")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("The account needs a name.")
        return name


class AccountCloseForm(forms.Form):
    """The owner types the account's slug: closing deprovisions everyone, everywhere."""

    confirm_slug = forms.CharField(max_length=40, label="Type the account's slug to confirm")

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_confirm_slug(self) -> str:
        typed = self.cleaned_data["confirm_slug"].strip()
        if typed != self.account.slug:
            raise forms.ValidationError(f"Type {self.account.slug} exactly to confirm.")
        return typed
