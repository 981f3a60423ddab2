"""The deliveries list as Excel: the rows the user sees with the list's filters, identifiers (the USCC) as
text, every export audited. No personal data leaves here (people are named, never their phones)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from guanjia.core import audit
from guanjia.core.models import User
from guanjia.policies import delivery as service
from guanjia.policies.access import today
from guanjia.policies.models import Delivery, DeliveryStatus, PushChannel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADERS = (
    "编号",
    "政策",
    "兑现事项",
    "企业",
    "统一社会信用代码",
    "园区",
    "状态",
    "推送方式",
    "推送时间",
    "申请时间",
    "审核时间",
    "应兑现日期",
    "兑现日期",
    "兑现金额（万元）",
    "逾期未兑现",
    "未通过原因",
)


def _time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _clean(value: str) -> str:
    # Control characters are not allowed in the file's XML.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _text(sheet: Any, value: str) -> WriteOnlyCell:
    """A string cell whatever it looks like: never a number (an 18-digit USCC), never a formula."""
    cell = WriteOnlyCell(sheet, value=_clean(value))
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def _amount(value: Decimal | None) -> Decimal | str:
    return value if value is not None else ""


def export_deliveries(deliveries: QuerySet[Delivery], user: User, *, filters: dict[str, Any]) -> HttpResponse:
    """An .xlsx of `deliveries` (already limited to what `user` sees, and filtered); the export is audited."""
    day = today()
    rows = deliveries.select_related("item__policy", "enterprise", "zone").order_by("-pushed_at", "-pk")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("政策兑现"))
    sheet.append(list(HEADERS))
    count = 0
    for delivery in rows.iterator(chunk_size=1000):
        sheet.append(
            [
                delivery.pk,
                _text(sheet, delivery.item.policy.title),
                _text(sheet, delivery.item.name),
                _text(sheet, delivery.enterprise.name),
                _text(sheet, delivery.enterprise.uscc),
                _text(sheet, delivery.zone.name),
                str(DeliveryStatus(delivery.status).label),
                str(PushChannel(delivery.channel).label),
                _time(delivery.pushed_at),
                _time(delivery.applied_at),
                _time(delivery.approved_at),
                delivery.disburse_due.isoformat() if delivery.disburse_due else "",
                delivery.disbursed_on.isoformat() if delivery.disbursed_on else "",
                _amount(delivery.amount),
                _("是") if service.is_overdue(delivery, day) else "",
                _text(sheet, delivery.reject_reason),
            ]
        )
        count += 1
    audit.record(
        user,
        "policies.delivery_export",
        summary=f"导出政策兑现 {count} 条",
        detail={"rows": count, "filters": filters},
        object_type="policies.delivery",
    )
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        content = buffer.read()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''policy-deliveries-{day:%Y%m%d}.xlsx"
    return response
