from django import forms

from accounts.models import Membership
from accounts.selectors import SORTS, MemberQuery
from regions.models import ProvisioningRecord

SORT_LABELS = {
    "email": ("Email A→Z", "Email Z→A"),
    "name": ("Name A→Z", "Name Z→A"),
    "role": ("Role, owners first", "Role, read-only first"),
    "status": ("Status, active first", "Status, removing first"),
    "joined": ("Joined, oldest first", "Joined, newest first"),
}
DIRECTORY_SORTS = ("email", "name", "role")


def _sort_choices(sorts) -> list[tuple[str, str]]:
    return [(f"{prefix}{sort}", SORT_LABELS[sort][i]) for sort in sorts for i, prefix in enumerate(("", "-"))]


class MemberFilterForm(forms.Form):
    """The members page's query string. A value it does not know is dropped (the page shows
    everything that filter would have narrowed, and says which value it ignored)."""

    q = forms.CharField(label="Search", max_length=200, required=False, strip=True)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role"), *Membership.Role.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Membership.Status.choices]
    )
    sync = forms.ChoiceField(
        label="Region sync",
        required=False,
        choices=[("", "Any sync state")]
        + [(state, f"{label} in a region") for state, label in ProvisioningRecord.State.choices],
    )
    group = forms.TypedChoiceField(label="Group", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label="Sort", required=False, choices=_sort_choices(SORTS))

    def __init__(self, data, *, groups: list[tuple[int, str]] = (), directory: bool = False):
        super().__init__(data)
        if directory:
            for name in ("status", "sync", "group"):
                del self.fields[name]
            self.fields["sort"].choices = _sort_choices(DIRECTORY_SORTS)
        else:
            self.fields["group"].choices = [("", "Any group"), *groups]
        for name in self.fields:
            self.fields[name].widget.attrs["id"] = f"filter-{name}"
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs["placeholder"] = "Name or email"

    def query(self) -> MemberQuery:
        self.is_valid()
        chosen = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and value not in ("", None)
        }
        return MemberQuery(**chosen)

    @property
    def ignored(self) -> list[str]:
        """The fields whose value was refused (and so ignored)."""
        return [self.fields[name].label for name in self.errors if name in self.fields]


class MemberRenameForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def __init__(self, *args, allow_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_owner:
            self.fields["role"].choices = [
                (value, label) for value, label in Membership.Role.choices if value != Membership.Role.OWNER
            ]


class MemberRegionsForm(forms.Form):
    all_regions = forms.BooleanField(
        required=False, label="Every region the account uses, also those it adds later"
    )
    regions = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Or only these regions"
    )

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = regions


BULK_ACTIONS = [
    ("suspend", "Suspend"),
    ("reactivate", "Reactivate"),
    ("remove", "Remove"),
    ("change_role", "Change role to…"),
    ("add_to_group", "Add to group…"),
]
BULK_MAX = 500


class MembershipIdsField(forms.Field):
    """Membership ids, as many `ids` parameters (the page's row checkboxes)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one member.",
        "invalid": "Those are not members of this account.",
        "too_many": f"Select at most {BULK_MAX} members at a time.",
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            ids = list(dict.fromkeys(int(item) for item in value))
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if any(pk <= 0 or pk > 2**62 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return ids


class MembersBulkForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS, error_messages={"required": "Choose what to do."})
    ids = MembershipIdsField()
    role = forms.ChoiceField(required=False, choices=[("", "New role…"), *Membership.Role.choices])
    group = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, groups: list[tuple[int, str]] = (), allow_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "Group…"), *groups]
        if not allow_owner:
            self.fields["role"].choices = [
                c for c in self.fields["role"].choices if c[0] != Membership.Role.OWNER
            ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "change_role" and not cleaned.get("role"):
            self.add_error("role", "Choose the new role.")
        if cleaned.get("action") == "add_to_group" and cleaned.get("group") is None:
            self.add_error("group", "Choose the group.")
        return cleaned
