from django import forms

from accounts.models import User


class ProfileNameForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(max_length=254, label="New email address")


class IdentityDeleteForm(forms.Form):
    """The person types their own email: deleting an identity cannot be undone."""

    confirm_email = forms.CharField(max_length=254, label="Type your email address to confirm")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm_email(self) -> str:
        typed = self.cleaned_data["confirm_email"].strip()
        if typed.lower() != self.user.email.lower():
            raise forms.ValidationError("Type your email address exactly as shown to confirm.")
        return typed
