"""Appeal lists and worklists to Excel: the rows the user sees, as the page shows them (confidential
enterprises hidden), each export audited."""

from __future__ import annotations

from datetime import datetime
from tempfile import SpooledTemporaryFile

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from guanjia.appeals import permissions, presentation, worklists
from guanjia.appeals.models import Appeal, Assignment, Channel, Escalation, Status
from guanjia.core import audit
from guanjia.core.models import OrgUnit, User
from guanjia.core.templatetags.deadlines import deadline

HEADERS = (
    "编号",
    "标题",
    "企业",
    "诉求类别",
    "来源渠道",
    "状态",
    "提交时间",
    "当前期限",
    "是否超期",
    "主办部门",
    "外部工单号",
)


def export_appeals(queryset: QuerySet[Appeal], user: User, *, title: str) -> HttpResponse:
    """An .xlsx of `queryset` (already limited to what `user` sees); the export itself is audited."""
    now = timezone.now()
    visibility = permissions.EnterpriseVisibility(user)
    # The list pages' queryset already prefetches the current assignments (presentation.current_assignments).
    rows = queryset.select_related("enterprise", "category").order_by("-submitted_at", "-pk")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(HEADERS)
    count = 0
    for appeal in rows.iterator(chunk_size=1000):
        lead = permissions.current_lead(appeal)
        due = presentation.row_due(appeal, lead)
        ticket = WriteOnlyCell(sheet, value=appeal.external_ticket)
        ticket.number_format = "@"  # identifiers stay text
        sheet.append(
            [
                appeal.pk,
                appeal.title,
                appeal.enterprise.name if visibility.sees(appeal) else str(presentation.HIDDEN_ENTERPRISE),
                appeal.category.name if appeal.category else "",
                str(Channel(appeal.channel).label),
                str(Status(appeal.status).label),
                timezone.localtime(appeal.submitted_at).strftime("%Y-%m-%d %H:%M"),
                deadline(due),
                _("是") if due is not None and due <= now else "",
                lead.department.name if lead else "",
                ticket,
            ]
        )
        count += 1
    audit.record(user, "appeal.export", summary=f"导出诉求列表 {count} 条（{title}）", detail={"rows": count})
    return _xlsx_response(workbook, "appeals")


def _xlsx_response(workbook: Workbook, name: str) -> HttpResponse:
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        content = buffer.read()
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{name}-{timezone.localdate():%Y%m%d}.xlsx"
    )
    return response


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name, and names longer than 31.
    return "".join("-" if c in "[]:*?/\\" else c for c in title)[:31]


def _text(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "@"  # identifiers stay text
    return cell


def _time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


WORKLIST_HEADERS = (
    "编号",
    "标题",
    "企业",
    "诉求类别",
    "承办方式",
    "状态",
    "交办时间",
    "签收期限",
    "签收时间",
    "答复期限",
    "期限状态",
)


def export_worklist(queryset: QuerySet[Assignment], user: User, *, title: str, now: datetime) -> HttpResponse:
    """An .xlsx of a department's worklist tab (worklists.worklist_tab, already in the user's scope),
    with confidential enterprises hidden as on the page; the export itself is audited."""
    visibility = permissions.EnterpriseVisibility(user)
    soon = worklists.soon_horizon(now)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append(WORKLIST_HEADERS)
    count = 0
    for assignment in queryset.iterator(chunk_size=1000):
        appeal = assignment.appeal
        if appeal.status == Status.WAITING:
            state = _("暂停计时（待补充材料）")
        elif assignment.answer_due <= now:
            state = _("已超期")
        elif assignment.answer_due <= soon:
            state = _("即将超期")
        elif assignment.signed_at is None and assignment.sign_due <= now and assignment.is_lead:
            state = _("签收超期")
        else:
            state = ""
        sheet.append(
            [
                appeal.pk,
                appeal.title,
                appeal.enterprise.name if visibility.sees(appeal) else str(presentation.HIDDEN_ENTERPRISE),
                str(appeal.category) if appeal.category else "",
                _("主办") if assignment.is_lead else _("协办"),
                str(Status(appeal.status).label),
                _time(assignment.dispatched_at),
                deadline(assignment.sign_due),
                _time(assignment.signed_at),
                deadline(assignment.answer_due),
                state,
            ]
        )
        count += 1
    audit.record(
        user,
        "appeal.export",
        summary=f"导出部门工作台 {count} 条（{title}）",
        detail={"rows": count, "list": "worklist", "department": user.unit_id},
    )
    return _xlsx_response(workbook, "worklist")


BOARD_HEADERS = (
    "编号",
    "标题",
    "企业",
    "园区",
    "主办部门",
    "状态",
    "超过的期限",
    "期限",
    "超期工作日",
    "督办级别",
    "诉求类别",
    "外部工单号",
)


def export_board(queryset: QuerySet[Assignment], user: User, *, title: str, now: datetime) -> HttpResponse:
    """An .xlsx of the 督办看板 as filtered (worklists.supervisor_board, already in the user's zones);
    the export itself is audited."""
    visibility = permissions.EnterpriseVisibility(user)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append(BOARD_HEADERS)
    zones = dict(OrgUnit.objects.filter(pk__in=user.zone_ids()).values_list("pk", "name"))
    count = 0
    for assignment in queryset.iterator(chunk_size=1000):
        appeal = assignment.appeal
        waiting = appeal.status == Status.WAITING
        sign = getattr(assignment, "overdue_deadline", "") == Escalation.Deadline.SIGN
        due = getattr(assignment, "overdue_since", None) or assignment.answer_due
        sheet.append(
            [
                appeal.pk,
                appeal.title,
                appeal.enterprise.name if visibility.sees(appeal) else str(presentation.HIDDEN_ENTERPRISE),
                zones.get(appeal.zone_id, ""),
                assignment.department.name,
                str(Status(appeal.status).label),
                str(Escalation.Deadline.SIGN.label if sign else Escalation.Deadline.ANSWER.label),
                deadline(due),
                "" if waiting else worklists.overdue_workdays(due, now),
                str(worklists.RANK_LABELS.get(getattr(assignment, "level_rank", 0), "")),
                str(appeal.category) if appeal.category else "",
                _text(sheet, appeal.external_ticket),
            ]
        )
        count += 1
    audit.record(
        user,
        "appeal.export",
        summary=f"导出督办看板 {count} 条（{title}）",
        detail={"rows": count, "list": "board"},
    )
    return _xlsx_response(workbook, "board")
