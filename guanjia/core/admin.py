"""Django admin: a read-only window for the system admin. Every write goes through the pages and services."""

from django.contrib import admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from guanjia.core.masking import mask_phone
from guanjia.core.models import CalendarDay, CalendarYear, OrgUnit, OutboxMessage, RoleGrant, User
from guanjia.core.roles import Role


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.has_role(Role.SYSADMIN)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)


@admin.register(OrgUnit)
class OrgUnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "kind", "parent", "is_dispatch_desk"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "full_name", "unit", "is_active", "locked_until"]
    search_fields = ["username", "full_name"]
    # The phone is shown masked: the admin is the system admin's alone, a role that sees it masked.
    exclude = ["password", "phone"]
    readonly_fields = ["masked_phone"]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnlyAdmin):
    list_display = ["user", "role", "granted_by", "granted_at"]
    list_filter = ["role"]


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    list_display = ["date", "is_workday", "name", "created_by"]
    list_filter = ["is_workday"]


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyAdmin):
    list_display = ["year", "declared_by", "declared_at"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["channel", "status"]
    exclude = ["recipient"]


# AuditRecord is not registered: the audit log belongs to the auditor (三员分立).


# DRF's token admin would show API keys in clear; tokens are issued with `guanjia drf_create_token`.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)

# Permissions are roles (RoleGrant), granted by the security admin; Django's groups are not used.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
