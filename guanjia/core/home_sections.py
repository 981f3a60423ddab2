"""What the three admin roles see on their home page."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import workcalendar
from guanjia.core.home import HomeSection
from guanjia.core.models import AuditRecord, User
from guanjia.core.roles import Role


def sections(user: User) -> list[HomeSection]:
    found = []
    if user.has_role(Role.SYSADMIN):
        uncovered = workcalendar.upcoming_uncovered_years()
        if uncovered:
            found.append(
                HomeSection(
                    _("工作日历"),
                    "core/home_admin.html",
                    {
                        "uncovered": "、".join(str(y) for y in uncovered),
                        "link": "core:calendar",
                        "label": _("工作日历"),
                    },
                    order=1,
                )
            )
        found.append(
            HomeSection(
                _("账号"),
                "core/home_admin.html",
                {
                    "active": User.objects.filter(is_active=True).count(),
                    "link": "core:users",
                    "label": _("用户管理"),
                },
            )
        )
    if user.has_role(Role.SECADMIN):
        locked = User.objects.filter(locked_until__gt=timezone.now()).count()
        found.append(
            HomeSection(
                _("安全"),
                "core/home_admin.html",
                {"locked": locked, "link": "core:roles", "label": _("角色与安全")},
            )
        )
    if user.has_role(Role.AUDITOR):
        cutoff = timezone.now() - timedelta(minutes=settings.AUDIT_UNSEALED_GRACE_MINUTES)
        late = AuditRecord.objects.filter(seq__isnull=True, at__lt=cutoff).count()
        found.append(
            HomeSection(
                _("审计"),
                "core/home_admin.html",
                {"late": late, "link": "core:audit", "label": _("审计日志")},
            )
        )
    return found
