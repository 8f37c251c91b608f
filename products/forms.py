from django import forms


class TrialStartForm(forms.Form):
    """The regions to try the product in, among those it is offered in."""

    account = forms.SlugField(max_length=50)
    regions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, error_messages={"required": "Choose at least one region."}
    )

    def __init__(self, *args, region_codes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].choices = [(code, code.upper()) for code in region_codes]
