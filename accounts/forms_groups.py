from django import forms

from accounts.groups import DESCRIPTION_MAX, NAME_MAX
from accounts.models import Group, Membership

# A bound on one submission; adding a whole 10,000-member account to a group is a bulk action
# of the members page, not a picker.
MAX_PICKED = 500


class GroupForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = "A group needs a name."


class _MembershipsField(forms.ModelMultipleChoiceField):
    """Membership ids; any id outside the queryset (another account's member, one not in the
    group) is a form error. Rendered by hand from a search result: the widget never lists
    every member of the account."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset=queryset, widget=forms.MultipleHiddenInput, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "required": "Pick at least one member.",
            "invalid_choice": "Pick members of this account only (%(value)s is not one).",
            "invalid_pk_value": "“%(pk)s” is not a member id.",
        }

    def clean(self, value):
        if value and len(value) > MAX_PICKED:
            raise forms.ValidationError(f"Pick at most {MAX_PICKED} members at a time.")
        return super().clean(value)


class GroupMembersAddForm(forms.Form):
    members = _MembershipsField(queryset=Membership.objects.none())

    def __init__(self, *args, group: Group, addable, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group
        self.fields["members"].queryset = addable


class GroupMembersRemoveForm(forms.Form):
    members = _MembershipsField(queryset=Membership.objects.none())

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Membership.objects.filter(group_links__group=group)
        self.fields["members"].error_messages["invalid_choice"] = "%(value)s is not in this group."
