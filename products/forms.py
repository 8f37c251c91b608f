from django import forms

from products.models import AccountTrialPolicy


class TrialStartForm(forms.Form):
    """The regions to try the product in, among those it is offered in."""

    account = forms.SlugField(max_length=50)
    regions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, error_messages={"required": "Choose at least one region."}
    )

    def __init__(self, *args, region_codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].choices = [(code, code.upper()) for code in region_codes]


class TrialPolicyForm(forms.Form):
    """Who may start free trials in the account (products.trial_requests)."""

    account = forms.SlugField(max_length=50)
    policy = forms.ChoiceField(widget=forms.RadioSelect, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = AccountTrialPolicy.Policy.choices


class TrialRequestForm(TrialStartForm):
    """A member's request: the regions (as for a trial) and an optional note for the admins."""

    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class TrialDeclineForm(forms.Form):
    account = forms.SlugField(max_length=50)
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why, for the person who asked."},
    )
