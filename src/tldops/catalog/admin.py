from django.contrib import admin

from tldops.catalog.models import NameServer, Region, Tld


class NameServerInline(admin.TabularInline):
    model = NameServer
    extra = 0


@admin.register(Tld)
class TldAdmin(admin.ModelAdmin):
    list_display = ["alabel", "ulabel", "kind", "iso_code", "country_name", "delegated", "has_ds"]
    list_filter = ["kind", "delegated", "has_ds", "regions"]
    search_fields = ["alabel", "ulabel", "iso_code", "country_name", "manager"]
    inlines = [NameServerInline]


admin.site.register(Region)
