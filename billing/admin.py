"""Django admin for billing. Staff edit plans and plan changes (a changed price applies to new
subscriptions; existing ones keep the price they locked in until their renewal). Subscriptions and
invoices are read-only here: every change goes through billing.services, and the one action,
"Mark paid", records the payment through the manual provider (audited)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from billing.models import Invoice, InvoiceLine, Payment, Plan, PlanChange, Subscription, SubscriptionRegion
from billing.payments import invoice_void
from billing.services import invoice_mark_paid


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "interval", "currency", "unit_price", "active", "position"]
    list_filter = ["product", "interval", "currency", "active"]
    search_fields = ["code", "name", "product__code"]

    def get_readonly_fields(self, request, obj=None):
        # A plan in use keeps its product, currency and interval: subscriptions renew onto it.
        if obj is not None and obj.subscriptions.exists():
            return ["product", "code", "currency", "interval"]
        return []


@admin.register(PlanChange)
class PlanChangeAdmin(admin.ModelAdmin):
    list_display = ["from_plan", "to_plan", "direction"]
    list_filter = ["direction"]


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ItemInline(ReadOnly, admin.TabularInline):
    model = SubscriptionRegion
    fields = ["region", "seats", "pending_seats"]
    readonly_fields = fields
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["account", "product", "plan", "status", "unit_price", "currency", "current_period_end"]
    list_filter = ["status", "product", "currency"]
    search_fields = ["account__slug", "account__name"]
    list_select_related = ["account", "product", "plan__product"]
    inlines = [ItemInline]


class LineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    fields = ["kind", "region", "description", "seats", "unit_price", "amount"]
    readonly_fields = fields
    extra = 0


class PaymentInline(ReadOnly, admin.TabularInline):
    model = Payment
    fields = ["provider", "reference", "amount", "currency", "paid_at", "recorded_by"]
    readonly_fields = fields
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["number", "account", "period_start", "total", "currency", "status", "due_at", "paid_at"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "account__slug", "account__name"]
    list_select_related = ["account"]
    inlines = [LineInline, PaymentInline]
    actions = ["mark_paid", "void"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.action(description="Mark paid (manual payment received)")
    def mark_paid(self, request, queryset):
        self._each_open(request, queryset, "marked paid", lambda invoice: invoice_mark_paid(
            invoice=invoice, actor=request.user, provider="manual"))  # fmt: skip

    @admin.action(description="Void (not owed: billed in error or settled elsewhere)")
    def void(self, request, queryset):
        self._each_open(request, queryset, "voided", lambda invoice: invoice_void(
            invoice=invoice, actor=request.user, reason="voided by staff in Django admin"))  # fmt: skip

    def _each_open(self, request, queryset, done_label: str, apply) -> None:
        """Apply a payments service to each open invoice selected; a refusal is reported, not raised."""
        done = 0
        for invoice in queryset.filter(status=Invoice.Status.OPEN):
            try:
                apply(invoice)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{invoice.number}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, f"{done} invoice(s) {done_label}.", messages.SUCCESS)
