from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Account, Membership, User
from accounts.services import account_region_add
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug names the tenant in every region: fixed once the account exists.
        return ["slug"] if obj is not None else []


@admin.register(AccountRegion)
class AccountRegionAdmin(admin.ModelAdmin):
    """Which regions an account uses. Adding one goes through the service, so every member is
    back-filled into the region by the provisioning ledger."""

    list_display = ["account", "region", "created_at"]
    list_filter = ["region"]
    raw_id_fields = ["account"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "region"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = account_region_add(account=obj.account, region=obj.region)
        obj.pk = saved.pk
