from django import forms


class AuditFilterForm(forms.Form):
    """Filters of the audit log page and its CSV export (the same query string)."""

    actor = forms.CharField(max_length=254, required=False, label="Actor email")
    action = forms.CharField(max_length=64, required=False, help_text="e.g. member.suspend, or member")
    target = forms.CharField(max_length=255, required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
