from django.contrib import admin

from regions.models import AccountRegion, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "people_url", "machine_url"]
    search_fields = ["code", "name"]


@admin.register(AccountRegion)
class AccountRegionAdmin(admin.ModelAdmin):
    list_display = ["account", "region", "created_at"]
    list_filter = ["region"]
    raw_id_fields = ["account"]
