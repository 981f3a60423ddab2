from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.shortcuts import redirect


class GuanjiaAdminSite(admin.AdminSite):
    """The Django admin, open to the system admin only, read-only (writes go through the services)."""

    site_header = "管家 · 系统配置（只读）"
    site_title = "管家"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.has_role("sysadmin"))

    def login(self, request, extra_context=None):
        # One login page for the whole platform (with its lockout), not the admin's own.
        return redirect(f"/login/?next={request.GET.get('next', '/admin/')}")


class GuanjiaAdminConfig(AdminConfig):
    default_site = "guanjia.core.admin_site.GuanjiaAdminSite"
