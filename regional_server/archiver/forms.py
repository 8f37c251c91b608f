from django import forms

from archiver.models import Hold


class HoldForm(forms.Form):
    kind = forms.ChoiceField(choices=Hold.Kind.choices)
    target_id = forms.CharField(max_length=64)
    reason = forms.CharField(max_length=300, strip=True)
