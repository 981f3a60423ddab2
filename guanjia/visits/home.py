"""What the visits app puts on the home page: a steward's visits due, and the zone's overdue visits."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.visits.models import Visit, VisitSchedule
from guanjia.visits.services import end_of_week, today

OVERSEERS = (Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)


def sections(user: User) -> list[HomeSection]:
    found: list[HomeSection] = []
    day = today()
    if user.has_role(Role.STEWARD):
        due = VisitSchedule.objects.filter(enterprise__steward=user).aggregate(
            overdue=Count("pk", filter=Q(next_due__lt=day)),
            today=Count("pk", filter=Q(next_due=day)),
            week=Count("pk", filter=Q(next_due__gte=day, next_due__lte=end_of_week(day))),
        )
        plans = Visit.objects.plans().filter(steward=user, planned_on__lte=end_of_week(day)).count()
        found.append(
            counts_section(
                _("我的走访"),
                [
                    (_("已逾期"), due["overdue"], True),
                    (_("今天应走访"), due["today"], False),
                    (_("本周应走访"), due["week"], False),
                    (_("本周计划"), plans, False),
                ],
                "visits:calendar",
                _("打开走访日程"),
                order=10,
            )
        )
    if user.has_any_role(OVERSEERS):
        zone = VisitSchedule.objects.filter(enterprise__zone_id__in=user.zone_ids())
        counts = zone.aggregate(all=Count("pk"), overdue=Count("pk", filter=Q(next_due__lt=day)))
        found.append(
            counts_section(
                _("走访督查"),
                [(_("企业"), counts["all"], False), (_("走访逾期"), counts["overdue"], True)],
                "visits:overdue",
                _("查看逾期企业"),
                order=12,
            )
        )
    return found
