from django import forms

from accounts import connected_apps
from accounts.models import AppEnablement, ConnectedApp, Group


class _GroupsField(forms.ModelMultipleChoiceField):
    """Groups of this account only; another account's group id is a form error, never a lookup."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset=queryset, widget=forms.CheckboxSelectMultiple, required=False, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid_choice": "Choose groups of this account only (%(value)s is not one).",
            "invalid_pk_value": "“%(pk)s” is not a group id.",
        }


class AppAudienceForm(forms.Form):
    """Who may open an app: every member, or members of the chosen groups."""

    audience = forms.ChoiceField(
        choices=AppEnablement.Audience.choices,
        initial=AppEnablement.Audience.EVERYONE,
        widget=forms.RadioSelect,
    )
    groups = _GroupsField(queryset=Group.objects.none())

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = Group.objects.filter(account=account).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("audience") == AppEnablement.Audience.GROUPS and not cleaned.get("groups"):
            self.add_error("groups", "Choose at least one group, or let every member open the app.")
        if cleaned.get("audience") == AppEnablement.Audience.EVERYONE:
            cleaned["groups"] = []
        return cleaned


class ConnectedAppAdminForm(forms.ModelForm):
    """Staff's fields for a connected app (Django admin): the app's own fields plus its OIDC
    client's redirect URIs. The admin saves through the services, which validate again."""

    launch_url = forms.URLField(
        max_length=500, assume_scheme="https", help_text="Where the launcher's “Open” goes."
    )
    redirect_uris = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The app's OIDC redirect (callback) URLs, one per line.",
    )

    class Meta:
        model = ConnectedApp
        fields = ["name", "description", "icon", "launch_url"]
        help_texts = {"icon": "A short text or emoji, or a path under static/."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["redirect_uris"].initial = "\n".join(self.instance.client.get_redirect_uris())

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if connected_apps.connected_app_name_taken(name=name, exclude_pk=self.instance.pk):
            raise forms.ValidationError(f"An app named {name} is already registered.")
        return name

    def clean_redirect_uris(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()]
        try:
            return connected_apps.redirect_uris_clean(lines)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["redirect_uris"]) from exc
