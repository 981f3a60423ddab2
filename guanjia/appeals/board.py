"""督办看板: the supervisor's board of overdue appeals in its zones, and its Excel export.

The queries are worklists.supervisor_board and worklists.board_department_counts.
Supervisors of the zone use it to 督办 (from the appeal page); leaders read it.
Everyone else gets a 403.
"""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import exporting, permissions, presentation, worklists
from guanjia.appeals.forms import PageFormMixin
from guanjia.appeals.models import Escalation
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

PER_PAGE = 30


class BoardFilterForm(PageFormMixin, forms.Form):
    """The board's filters; a value outside the user's zones is refused and left out."""

    view = forms.ChoiceField(
        label=gettext_lazy("范围"),
        choices=[
            (worklists.VIEW_OVERDUE, gettext_lazy("已超期")),
            (worklists.VIEW_WAITING, gettext_lazy("待补充材料（暂停计时）")),
        ],
        required=False,
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("主办部门"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部"),
    )
    level = forms.ChoiceField(
        label=gettext_lazy("督办级别"),
        choices=[("", gettext_lazy("全部")), *worklists.LEVEL_CHOICES],
        required=False,
    )
    q = forms.CharField(label=gettext_lazy("标题或编号"), max_length=100, required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        choices=[("due", gettext_lazy("期限最早在前")), ("-due", gettext_lazy("期限最晚在前"))],
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        departments = worklists.board_departments(user).select_related("parent")
        field = self.fields["department"]
        field.queryset = departments  # type: ignore[attr-defined]
        if len(user.zone_ids()) > 1:
            field.label_from_instance = lambda unit: f"{unit.parent} · {unit.name}"  # type: ignore[attr-defined]

    def filters(self) -> worklists.BoardFilters:
        """The valid filters; an invalid one (e.g. a department of another zone) is left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return worklists.BoardFilters(
            view=data.get("view") or worklists.VIEW_OVERDUE,
            department=data.get("department"),
            level=data.get("level") or "",
            text=data.get("q") or "",
            sort=data.get("sort") or "due",
        )


@role_required(Role.SUPERVISOR, Role.LEADER)
def overdue_board(request: AuthedRequest) -> HttpResponse:
    """督办看板: overdue lead assignments of the user's zones, most overdue first, with counts per department."""
    user = request.user
    now = timezone.now()
    form = BoardFilterForm(request.GET, user=user)
    filters = form.filters()
    if request.GET.get("format") == "xlsx":
        queryset = worklists.supervisor_board(user, now, filters)
        return exporting.export_board(queryset, user, title=_("督办看板"), now=now)
    board = worklists.board_page(user, now, filters, request.GET.get("page"), per_page=PER_PAGE)
    visibility = permissions.EnterpriseVisibility(user)
    waiting = filters.view == worklists.VIEW_WAITING
    rows = []
    for assignment in board.page:
        appeal = assignment.appeal
        due = assignment.overdue_since  # type: ignore[attr-defined]
        rank = assignment.level_rank  # type: ignore[attr-defined]
        rows.append(
            {
                "assignment": assignment,
                "appeal": appeal,
                "enterprise": appeal.enterprise.name
                if visibility.sees(appeal)
                else presentation.HIDDEN_ENTERPRISE,
                "due": assignment.answer_due if waiting else due,
                "sign": assignment.overdue_deadline == Escalation.Deadline.SIGN,  # type: ignore[attr-defined]
                "overdue_days": 0 if waiting else worklists.overdue_workdays(due, now),
                "level": worklists.RANK_LABELS.get(rank, ""),
                "level_rank": rank,
            }
        )
    context = {
        "page": board.page,
        "rows": rows,
        "form": form,
        "filters": filters,
        "waiting": waiting,
        "counts": board.counts,
        "total": board.total,
        "may_escalate": user.has_role(Role.SUPERVISOR),
        "page_title": _("督办看板"),
    }
    return render(request, "appeals/board.html", context)
