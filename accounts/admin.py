"""Operators' admin. Every change a region must learn goes through accounts.services (and so
through the provisioning ledger); what has no service is read-only here."""

from allauth.idp.oidc.admin import ClientAdmin as AllauthClientAdmin
from allauth.idp.oidc.models import Client
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from accounts import connected_apps, services
from accounts.forms_apps import ConnectedAppAdminForm
from accounts.models import Account, AppEnablement, AuditEvent, ConnectedApp, Membership, User
from regions.models import AccountRegion


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name", "public_id"]
    readonly_fields = ["public_id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password", "public_id"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_readonly_fields(self, request, obj=None):
        # The email is the login, allauth's address and every region's userName: no service
        # changes it yet, so it is fixed here once the user exists.
        return [*self.readonly_fields, "email"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        services.user_lock_for_change(user=obj)  # the services' lock order, before any write
        stored = User.objects.get(pk=obj.pk)
        active, first_name, last_name = obj.is_active, obj.first_name, obj.last_name
        # Save what no region holds (staff flags, password) as the admin would, then hand
        # what regions hold to the services, which record it in the ledger.
        obj.is_active, obj.first_name, obj.last_name = stored.is_active, stored.first_name, stored.last_name
        super().save_model(request, obj, form, change)
        if (first_name, last_name) != (stored.first_name, stored.last_name):
            services.user_rename(
                user=obj, first_name=first_name, last_name=last_name, audit_actor=request.user
            )
        if active != stored.is_active:
            services.user_set_active(user=obj, active=active, audit_actor=request.user)
        obj.is_active, obj.first_name, obj.last_name = active, first_name, last_name
        return None

    def delete_model(self, request, obj):
        services.user_delete(user=obj, audit_actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_delete(user=user, audit_actor=request.user)


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_removing:
            # Waiting for regions to confirm the removal: nothing about it can change.
            for field in self.fields.values():
                field.disabled = True
        else:
            self.fields["status"].choices = [
                (value, label)
                for value, label in Membership.Status.choices
                if value in services.SETTABLE_STATUSES
            ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "user" in self.changed_data:
            raise ValidationError("A membership's person cannot change; remove it and add the other person.")
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0
    raw_id_fields = ["user"]

    # A closed account's memberships are only shown, until the regions confirm their removal.
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.is_closed)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_closed)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_closed)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Deleting an account closes it (account_close): members are removed from every region
    first and the row stays, so its slug is never given to another account."""

    list_display = ["name", "slug", "created_at", "closed_at"]
    list_filter = [("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    fields = ["name", "slug", "created_at", "closed_at"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug names the tenant in every region: fixed once the account exists.
        fixed = ["created_at", "closed_at"]
        if obj is not None:
            fixed = ["slug", *fixed]
            if obj.is_closed:
                fixed = ["name", *fixed]
        return fixed

    def save_model(self, request, obj, form, change):
        if change:
            services.account_rename(account=obj, name=obj.name)
            return
        created = services.account_create(name=obj.name, slug=obj.slug)
        obj.pk, obj.created_at = created.pk, created.created_at

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # commit=False fills new/changed/deleted_objects (the admin's change message) and writes
        # nothing; the services do the writes and record them in the ledger.
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(membership=membership, audit_actor=request.user)
        for membership, _changed in formset.changed_objects:
            services.membership_update(
                membership=membership,
                role=membership.role,
                status=membership.status,
                audit_actor=request.user,
            )
        for membership in formset.new_objects:
            added = services.membership_add(
                account=form.instance, user=membership.user, role=membership.role, status=membership.status,
                audit_actor=request.user,
            )  # fmt: skip
            membership.pk = added.pk
        return None

    def get_deleted_objects(self, objs, request):
        # Closing deletes nothing: the confirmation lists the accounts alone.
        return [f"{account} (closed: members removed from every region)" for account in objs], {}, set(), []

    def delete_model(self, request, obj):
        services.account_close(account=obj, audit_actor=request.user)
        messages.info(request, f"{obj} is closed; its members are being removed from every region.")

    def delete_queryset(self, request, queryset):
        for account in queryset:
            services.account_close(account=account, audit_actor=request.user)
        messages.info(
            request, "Closed accounts keep their slug; their members are being removed from every region."
        )


class AccountRegionForm(forms.ModelForm):
    class Meta:
        model = AccountRegion
        fields = ["account", "region"]

    def clean_account(self):
        account = self.cleaned_data["account"]
        if account.is_closed:
            raise ValidationError("This account is closed.")
        return account


@admin.register(AccountRegion)
class AccountRegionAdmin(admin.ModelAdmin):
    """Which regions an account uses. Adding one goes through the service, so every member is
    back-filled into the region; removing one records every member's deletion there first."""

    form = AccountRegionForm
    list_display = ["account", "region", "created_at"]
    list_filter = ["region"]
    raw_id_fields = ["account"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "region"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = services.account_region_add(account=obj.account, region=obj.region, audit_actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        removed = services.account_region_remove(account_region=obj, audit_actor=request.user)
        messages.info(
            request,
            f"Removing {removed} members from {obj.region}; its members page shows it until confirmed.",
        )

    def delete_queryset(self, request, queryset):
        removed = sum(
            services.account_region_remove(account_region=link, audit_actor=request.user) for link in queryset
        )
        messages.info(
            request, f"Removing {removed} memberships from their regions until each region confirms."
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log for operators: readable and searchable, never written here."""

    list_display = ["created_at", "account", "actor_email", "action", "target_label", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_email", "action", "target_label", "target_id", "account__slug"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConnectedApp)
class ConnectedAppAdmin(admin.ModelAdmin):
    """Third-party apps that sign people in with Atrium. Saving goes through
    accounts.connected_apps, which creates or updates the app's OIDC client; the client secret is
    shown once, here, and stored only as its keyed hash."""

    form = ConnectedAppAdminForm
    list_display = ["name", "client", "launch_url", "created_at"]
    search_fields = ["name", "client__id"]
    readonly_fields = ["client", "created_at"]
    list_select_related = ["client"]
    actions = ["rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = ["name", "description", "icon", "launch_url", "redirect_uris"]
        return [*fields, "client", "created_at"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        values = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data.get("description", ""),
            "icon": form.cleaned_data.get("icon", ""),
            "launch_url": form.cleaned_data["launch_url"],
            "redirect_uris": form.cleaned_data["redirect_uris"],
            "audit_actor": request.user,
        }
        if change:
            connected_apps.connected_app_update(app=obj, **values)
            return
        registered = connected_apps.connected_app_register(**values)
        obj.pk, obj.client_id = registered.app.pk, registered.app.client_id
        self._show_secret(request, registered.app, registered.client_secret)

    def _show_secret(self, request, app: ConnectedApp, secret: str) -> None:
        self.message_user(
            request,
            format_html(
                "Client ID <code>{}</code>. The client secret is shown only once: "
                '<input readonly size="{}" type="text" value="{}" data-client-secret>',
                app.client_id, len(secret), secret,
            ),
            level=messages.WARNING,
        )  # fmt: skip

    def delete_model(self, request, obj):
        connected_apps.connected_app_delete(app=obj, audit_actor=request.user)

    def delete_queryset(self, request, queryset):
        for app in queryset:
            connected_apps.connected_app_delete(app=app, audit_actor=request.user)

    @admin.action(description="Rotate the client secret (shown once)")
    def rotate_secret(self, request, queryset):
        for app in queryset:
            secret = connected_apps.connected_app_secret_rotate(app=app, audit_actor=request.user)
            self._show_secret(request, app, secret)


@admin.register(AppEnablement)
class AppEnablementAdmin(admin.ModelAdmin):
    """Which accounts use which apps: account admins decide it on their apps page (audited),
    so operators only read it here."""

    list_display = ["app", "account", "audience", "enabled_by", "created_at"]
    list_filter = ["app", "audience"]
    search_fields = ["account__slug", "account__name", "app__name"]
    list_select_related = ["app", "account", "enabled_by"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "app", "audience", "groups", "enabled_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # A deletion here is an operator disabling the app for that account: through the service,
    # so it leaves its `app.disable` audit row (deleting the row directly would leave none).
    def delete_model(self, request, obj):
        connected_apps.app_disable(enablement=obj, actor=None, audit_actor=request.user)

    def delete_queryset(self, request, queryset):
        for enablement in queryset:
            connected_apps.app_disable(enablement=enablement, actor=None, audit_actor=request.user)


class ManagedClientAdmin(AllauthClientAdmin):
    """allauth's OIDC client admin, but the clients Atrium registers itself — each region's
    (`region-<code>`), the provisioner and every connected app — are read-only here: they change
    through their services (`regions_register_clients`, `oidc_client_secret_rotate`, the connected-app
    admin), which keep grants, scopes and audiences to what each may have. An edit here (say, a
    device-code grant on an app) would walk around the authorize-step gate and the audit log."""

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _managed_client(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _managed_client(obj)


def _managed_client(client: Client | None) -> bool:
    if client is None:
        return False
    return (
        client.id.startswith("region-")
        or client.id == settings.ATRIUM_M2M_CLIENT_ID
        or ConnectedApp.objects.filter(client_id=client.pk).exists()
    )


admin.site.unregister(Client)
admin.site.register(Client, ManagedClientAdmin)


# --- customer SSO (accounts/sso.py): staff vouch for domain claims; connections are read-only
from accounts import sso as sso_services  # noqa: E402
from accounts.models_sso import ClaimedDomain, SSOConnection  # noqa: E402


@admin.register(ClaimedDomain)
class ClaimedDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "account", "status", "method", "verified_at", "verified_by"]
    list_filter = ["status", "method"]
    search_fields = ["domain", "account__slug", "account__name"]
    actions = ["approve_claims"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve the selected domain claims (staff verification, audited)")
    def approve_claims(self, request, queryset):
        approved = 0
        for claim in queryset:
            try:
                sso_services.domain_verify_by_staff(claim=claim, staff=request.user)
            except ValidationError as exc:
                messages.error(request, f"{claim.domain}: {' '.join(exc.messages)}")
            else:
                approved += 1
        messages.info(request, f"{approved} domain claim(s) verified.")


@admin.register(SSOConnection)
class SSOConnectionAdmin(admin.ModelAdmin):
    """Customers configure their IdP on /a/<slug>/sso/; here operators only look."""

    list_display = ["account", "issuer", "client_id", "enabled", "trust_idp_mfa", "default_role"]
    search_fields = ["account__slug", "issuer"]
    readonly_fields = ["account", "app", "issuer", "client_id", "enabled", "trust_idp_mfa", "default_role",
                       "created_at", "updated_at"]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
