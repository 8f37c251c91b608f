from django.contrib import admin

from regions.models import ProvisioningRecord, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "people_url", "machine_url"]
    search_fields = ["code", "name"]


@admin.register(ProvisioningRecord)
class ProvisioningRecordAdmin(admin.ModelAdmin):
    list_display = ["kind", "tenant", "object_key", "region", "state", "desired_version", "acked_version",
                    "attempts", "next_attempt_at", "updated_at"]  # fmt: skip
    list_filter = ["state", "region", "kind"]
    search_fields = ["tenant", "object_key", "remote_id"]
    readonly_fields = [f.name for f in ProvisioningRecord._meta.fields]
    actions = ["retry_now"]

    # Rows are written only by the services that change what regions must hold; deleting one
    # would silently drop a pending change or deletion, so the ledger is read-only here.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry now (pending, attempts reset)")
    def retry_now(self, request, queryset):
        from regions.ledger import ledger_retry

        for record in queryset:
            ledger_retry(record=record)
