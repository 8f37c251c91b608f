"""Billing forms: a plan and seats per region. Bad input is a form error, never a 500."""

from django import forms

from billing.models import Plan
from billing.services import MAX_SEATS


class SeatsForm(forms.Form):
    """One number field per region (`seats_<code>`); blank means 0 (not bought / remove)."""

    def __init__(self, *args, regions, initial_seats=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = list(regions)
        for region in self.regions:
            self.fields[f"seats_{region.code}"] = forms.IntegerField(
                label=f"{region.name} ({region.code.upper()})",
                min_value=0,
                max_value=MAX_SEATS,
                required=False,
                initial=(initial_seats or {}).get(region.code, 0),
            )

    def seats(self) -> dict[str, int]:
        return {region.code: self.cleaned_data.get(f"seats_{region.code}") or 0 for region in self.regions}

    def seat_fields(self):
        return [self[f"seats_{region.code}"] for region in self.regions]


class SubscribeForm(SeatsForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), empty_label=None)

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["plan"].label_from_instance = lambda p: (
            f"{p.name} — {p.unit_price} {p.currency} per seat per {p.interval}"
        )
        self.order_fields(["plan"])

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(self.seats().values()):
            raise forms.ValidationError("Buy at least one seat in one region.")
        return cleaned


class PlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), empty_label=None)

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["plan"].label_from_instance = lambda p: (
            f"{p.name} — {p.unit_price} {p.currency} per seat per {p.interval}"
        )
