from django.contrib import admin

from centers.models import Center, Location
from core.admin import ExternalIdLockedForm, ExternalIdReadOnlyMixin


class LocationInline(admin.TabularInline):
    model = Location
    form = ExternalIdLockedForm
    extra = 0
    fields = ("lid", "name")


@admin.register(Center)
class CenterAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "name", "time_zone", "phone", "web_enabled")
    list_filter = ("web_enabled", "time_zone")
    search_fields = ("lid", "name", "phone")
    inlines = (LocationInline,)


@admin.register(Location)
class LocationAdmin(ExternalIdReadOnlyMixin, admin.ModelAdmin):
    list_display = ("lid", "name", "center")
    list_filter = ("center",)
    list_select_related = ("center",)
    search_fields = ("lid", "name", "center__lid", "center__name")
