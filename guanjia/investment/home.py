"""What the investment app puts on the home page: a promoter's leads, overdue milestones and the
approvals it handles as agent; a leader's zone figures; an enterprise user's financing needs."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.investment.access import may_read, today
from guanjia.investment.leads import OPEN_STATUSES
from guanjia.investment.models import (
    ApprovalItem,
    FinancingNeed,
    FinancingNeedStatus,
    Lead,
    Project,
    ProjectMilestone,
)


def sections(user: User) -> list[HomeSection]:
    found = []
    if may_read(user):
        found.append(_staff_section(user))
    if user.has_role(Role.ENTERPRISE_USER):
        open_needs = FinancingNeed.objects.visible_to(user).filter(status=FinancingNeedStatus.OPEN).count()
        found.append(
            counts_section(
                _("融资需求"),
                [(_("对接中的融资需求"), open_needs, False)],
                "investment:my-needs",
                _("查看或发布融资需求"),
                order=40,
            )
        )
    return found


def _staff_section(user: User) -> HomeSection:
    day = today()
    leads = Lead.objects.visible_to(user).filter(status__in=OPEN_STATUSES)
    projects = Project.objects.visible_to(user)
    overdue = ProjectMilestone.objects.filter(
        project__in=projects, reached_on__isnull=True, promised_on__lt=day
    )
    if user.has_role(Role.PROMOTER):
        approvals = ApprovalItem.objects.filter(
            project__in=projects.filter(agent=user), finished_on__isnull=True
        )
        cards = [
            (_("我在跟进的线索"), leads.filter(owner=user).count(), False),
            (_("我的项目逾期节点"), overdue.filter(project__owner=user).count(), True),
            (_("我代办中的审批事项"), approvals.count(), False),
            (_("超过承诺时限的代办事项"), approvals.filter(promised_by__lt=day).count(), True),
        ]
    else:
        cards = [
            (_("在跟进的招商线索"), leads.count(), False),
            (_("项目逾期节点"), overdue.count(), True),
        ]
    return counts_section(_("产业链招商"), cards, "investment:index", _("进入产业链招商"), order=30)
