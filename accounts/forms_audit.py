from django import forms

from accounts import selectors_audit


class AuditFilterForm(forms.Form):
    """Filters of the audit log page and its CSV export (the same query string)."""

    group = forms.ChoiceField(
        choices=[("", "All actions"), ("security", "Security events")], required=False, label="Show"
    )
    member = forms.EmailField(
        max_length=254, required=False, label="Member email",
        help_text="What a member did and what concerns them: sign-ins, failures, MFA, changes to them",
    )  # fmt: skip
    actor = forms.CharField(max_length=254, required=False, label="Actor email")
    action = forms.CharField(max_length=64, required=False, help_text="e.g. member.suspend, or member")
    target = forms.CharField(max_length=255, required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_member(self):
        email = self.cleaned_data["member"].strip()
        if not email:
            return None
        member = selectors_audit.current_member_by_email(account=self.account, email=email)
        if member is None:
            raise forms.ValidationError("No member of this account has that email.")
        return member

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
