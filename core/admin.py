"""What every domain app's admin shares: the site's titles and the rules for external ids."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Hospital scheduling")
admin.site.site_title = _("Hospital scheduling")
admin.site.index_title = _("Desk administration")
# The page's width goes to the lists (they fit a 1440-pixel screen); the index and breadcrumbs lead elsewhere.
admin.site.enable_nav_sidebar = False


class ExternalIdReadOnlyMixin:
    """External ids are what other systems store: editable when adding, read-only afterwards."""

    external_id_fields = ("lid",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [f for f in self.external_id_fields if f not in readonly]
        return readonly


class ExternalIdLockedForm(forms.ModelForm):
    """For inline rows, where read-only fields cannot differ per row: an existing row's lid is disabled,
    so a posted value is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "lid" in self.fields:
            self.fields["lid"].disabled = True


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """A record of what happened (the audit log, the exchange log, the rows an agent wrote): seen, never
    added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
