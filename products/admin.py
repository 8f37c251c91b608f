from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from products import services, trials
from products.models import (
    AccountTrialPolicy,
    CrossSellRule,
    Entitlement,
    Product,
    ProductRegion,
    TrialRequest,
    TrialSalesFlag,
)


class ProductRegionInline(admin.TabularInline):
    model = ProductRegion
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "category", "trial_days", "coming_soon"]
    list_filter = ["coming_soon", "category"]
    search_fields = ["name", "code"]
    inlines = [ProductRegionInline]

    def get_readonly_fields(self, request, obj=None):
        # The code names the product in every region's entitlements document.
        return ["code"] if obj is not None else []


class EntitlementForm(forms.ModelForm):
    class Meta:
        model = Entitlement
        fields = ["account", "product", "region", "status", "ends_at"]

    def clean(self):
        data = super().clean()
        instance = self.instance
        account = data.get("account") or getattr(instance, "account", None)
        product = data.get("product") or getattr(instance, "product", None)
        region = data.get("region") or getattr(instance, "region", None)
        if account and product and region and data.get("status"):
            try:
                services.entitlement_check(
                    account=account, product=product, region=region, status=data["status"]
                )
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return data


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    """Every change goes through the services, so the region's entitlements document is
    recorded in the ledger and the change is audited."""

    form = EntitlementForm
    list_display = ["account", "product", "region", "status", "starts_at", "ends_at"]
    list_filter = ["status", "product", "region"]
    search_fields = ["account__slug", "account__name", "product__code"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "product", "region"]
    actions = ["extend_trial_7", "extend_trial_30"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "product", "region", "starts_at"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        saved = services.entitlement_set(
            account=obj.account, product=obj.product, region=obj.region, status=obj.status,
            ends_at=obj.ends_at, actor=request.user,
        )  # fmt: skip
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.entitlement_delete(entitlement=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for entitlement in queryset:
            services.entitlement_delete(entitlement=entitlement, actor=request.user)
        messages.info(request, "Each region's entitlements document was updated.")

    def _extend(self, request, queryset, days: int) -> None:
        # One extension per trial (account × product), whichever of its regions were ticked.
        seen, extended = set(), 0
        for entitlement in queryset.order_by("pk"):
            key = (entitlement.account_id, entitlement.product_id)
            if key in seen:
                continue
            seen.add(key)
            try:
                trials.trial_extend(entitlement=entitlement, days=days, actor=request.user)
                extended += 1
            except ValidationError as exc:
                messages.error(request, f"{entitlement}: {' '.join(exc.messages)}")
            except PermissionDenied as exc:
                messages.error(request, f"{entitlement}: {exc}")
        if extended:
            messages.success(request, f"Extended {extended} trial(s) by {days} days (audited).")

    @admin.action(description="Extend the trial by 7 days")
    def extend_trial_7(self, request, queryset):
        self._extend(request, queryset, 7)

    @admin.action(description="Extend the trial by 30 days")
    def extend_trial_30(self, request, queryset):
        self._extend(request, queryset, 30)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to staff, written only by the services (so each change is audited)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountTrialPolicy)
class AccountTrialPolicyAdmin(ReadOnlyAdmin):
    """Owners and admins change it on /products/trial-policy/ (audited)."""

    list_display = ["account", "policy", "updated_by", "updated_at"]
    list_filter = ["policy"]
    search_fields = ["account__slug", "account__name"]
    list_select_related = ["account", "updated_by"]


@admin.register(TrialRequest)
class TrialRequestAdmin(ReadOnlyAdmin):
    """Members' trial requests, kept after the decision: pending and declined ones are leads."""

    list_display = [
        "account",
        "product",
        "requester_email",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "product", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["account__slug", "account__name", "requester_email", "product__code"]
    list_select_related = ["account", "product", "decided_by"]
    date_hierarchy = "created_at"


@admin.register(TrialSalesFlag)
class TrialSalesFlagAdmin(ReadOnlyAdmin):
    """A trial from an account sharing a company email domain with another account that tried
    the same product (products/sales_flags.py)."""

    list_display = ["created_at", "account", "product", "email_domain", "other_account"]
    list_filter = ["product", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["email_domain", "account__slug", "other_account__slug"]
    list_select_related = ["account", "product", "other_account"]


@admin.register(CrossSellRule)
class CrossSellRuleAdmin(admin.ModelAdmin):
    """ "Accounts with X often add Y", on the account home and the catalog (products/crosssell.py)."""

    list_display = ["when_product", "recommend_product", "message", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "when_product"]
    list_select_related = ["when_product", "recommend_product"]
