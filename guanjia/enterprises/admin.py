from django.contrib import admin

from guanjia.core.admin import ReadOnlyAdmin
from guanjia.enterprises.models import Enterprise, ImportJob, StewardAssignment, Tag


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ["name", "uscc", "zone", "tier", "scale", "steward"]
    list_filter = ["zone", "tier", "scale"]
    search_fields = ["name", "uscc"]
    list_select_related = ["zone", "steward"]


@admin.register(StewardAssignment)
class StewardAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "steward", "started_at", "ended_at", "reason"]
    list_select_related = ["enterprise", "steward"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["name"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "original_name",
        "zone",
        "created_by",
        "status",
        "total_rows",
        "written_rows",
        "created_at",
    ]
