"""What the appeals app puts on each role's home page: the counts that call for action, and where to act."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import worklists
from guanjia.appeals.models import OPEN_STATUSES, Appeal, Assignment, Escalation, Status
from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role


def sections(user: User) -> list[HomeSection]:
    found: list[HomeSection] = []
    now = timezone.now()
    visible = Appeal.objects.visible_to(user)
    if user.has_role(Role.ENTERPRISE_USER):
        mine = visible.aggregate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            to_rate=Count("id", filter=Q(status=Status.ANSWERED)),
        )
        found.append(
            counts_section(
                _("我的诉求"),
                [(_("办理中"), mine["open"], False), (_("待评价"), mine["to_rate"], True)],
                "appeals:mine",
                _("查看我的诉求"),
                order=6,
            )
        )
    if user.has_role(Role.STEWARD):
        served = visible.filter(enterprise__steward=user).aggregate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            to_rate=Count("id", filter=Q(status=Status.ANSWERED)),
        )
        found.append(
            counts_section(
                _("我服务企业的诉求"),
                [
                    (_("办理中"), served["open"], False),
                    (_("待企业评价（可回访代录）"), served["to_rate"], False),
                ],
                "appeals:stewarded",
                _("查看诉求"),
                order=11,
            )
        )
    if user.has_role(Role.DISPATCHER):
        queue = visible.filter(zone_id__in=user.zone_ids()).aggregate(
            submitted=Count("id", filter=Q(status=Status.SUBMITTED)),
            late=Count("id", filter=Q(status=Status.SUBMITTED, accept_due__lte=now)),
            returned=Count("id", filter=Q(status=Status.RETURNED)),
        )
        found.append(
            counts_section(
                _("诉求受理"),
                [
                    (_("待受理"), queue["submitted"], False),
                    (_("受理超期"), queue["late"], True),
                    (_("被退回"), queue["returned"], True),
                ],
                "appeals:queue",
                _("进入受理台"),
                order=3,
            )
        )
    if user.has_any_role((Role.HANDLER, Role.DEPARTMENT_HEAD)) and user.unit_id:
        # The worklist's own badges, so that the card and the tab it links to never disagree: an
        # appeal waiting for material is in hand but never overdue (its clock stands still).
        work = worklists.worklist_counts(user, now)
        found.append(
            counts_section(
                _("部门工作台"),
                [
                    (_("待签收"), work["sign"], False),
                    (_("办理中"), work["doing"] + work["waiting"], False),
                    (_("已超期"), work["overdue"], True),
                ],
                "appeals:worklist",
                _("进入工作台"),
                order=3,
            )
        )
    if user.has_any_role((Role.SUPERVISOR, Role.LEADER)):
        zone = visible.filter(zone_id__in=user.zone_ids())
        overview = zone.aggregate(open=Count("id", filter=Q(status__in=OPEN_STATUSES)))
        late = (
            Assignment.objects.filter(
                appeal__in=zone, is_current=True, is_lead=True, answered_at__isnull=True, answer_due__lte=now
            )
            .filter(appeal__status__in=worklists.RUNNING)  # not a paused one: its clock stands still
            .count()
        )
        red = Escalation.objects.filter(
            appeal__in=zone,
            level=Escalation.Level.RED,
            assignment__is_current=True,
            assignment__answered_at__isnull=True,
        ).count()
        found.append(
            counts_section(
                _("诉求概况"),
                [(_("办理中"), overview["open"], False), (_("答复超期"), late, True), (_("红牌"), red, True)],
                "appeals:list",
                _("诉求总览"),
                order=4,
            )
        )
    return found
