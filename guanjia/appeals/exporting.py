"""Appeal lists to Excel: the rows the user sees, as the page shows them (confidential enterprises hidden)."""

from __future__ import annotations

from tempfile import SpooledTemporaryFile

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from guanjia.appeals import permissions, presentation
from guanjia.appeals.models import Appeal, Channel, Status
from guanjia.core import audit
from guanjia.core.models import User
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
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        content = buffer.read()
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''appeals-{timezone.localdate():%Y%m%d}.xlsx"
    )
    return response
