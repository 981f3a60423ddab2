"""Export of the enterprise registry to .xlsx and .csv, in the import template's columns.

An export can be imported again: same headers, identifiers as text. Phone
numbers are masked for roles that do not see personal data, as on the pages.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.masking import phone_for
from guanjia.core.models import User
from guanjia.enterprises.importing import COLUMNS, HEADERS, SCALE_TEXT, TIER_TEXT
from guanjia.enterprises.models import Contact, Enterprise

FORMATS = ("xlsx", "csv")
CHUNK = 2000
# Characters that make Excel read a CSV cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def filename(fmt: str) -> str:
    return _("企业名录-%(date)s.%(ext)s") % {"date": timezone.localdate().strftime("%Y%m%d"), "ext": fmt}


def _capital(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def export_rows(queryset: QuerySet[Enterprise], user: User) -> Iterator[list[str]]:
    """The rows of an export, in template column order, personal data masked for `user`."""
    contacts = Prefetch(
        "contacts", queryset=Contact.objects.order_by("-is_primary", "id"), to_attr="ordered_contacts"
    )
    enterprises = (
        queryset.select_related("steward")
        .prefetch_related("tags", contacts)
        .order_by("pk")
        .iterator(chunk_size=CHUNK)
    )
    for enterprise in enterprises:
        contact = enterprise.ordered_contacts[0] if enterprise.ordered_contacts else None
        yield [
            enterprise.uscc,
            enterprise.name,
            enterprise.legal_representative,
            enterprise.founded_on.isoformat() if enterprise.founded_on else "",
            _capital(enterprise.registered_capital),
            SCALE_TEXT.get(enterprise.scale, enterprise.scale),
            TIER_TEXT.get(enterprise.tier, enterprise.tier),
            enterprise.industry_division,
            "、".join(sorted(tag.name for tag in enterprise.tags.all())),
            enterprise.address,
            contact.name if contact else "",
            phone_for(user, contact.phone) if contact and contact.phone else "",
            enterprise.steward.username if enterprise.steward else "",
        ]


def record_export(user: User, queryset: QuerySet[Enterprise], *, fmt: str, filters: dict[str, Any]) -> int:
    """Audit the export (who, how many rows, which filters) before any row leaves; returns the count."""
    count = queryset.count()
    audit.record(
        user,
        "enterprise.export",
        summary=_("导出企业名录 %(n)d 家（%(fmt)s）") % {"n": count, "fmt": fmt},
        detail={"rows": count, "format": fmt, "filters": filters},
        object_type="enterprises.enterprise",
    )
    return count


def write_xlsx(queryset: QuerySet[Enterprise], user: User) -> IO[bytes]:
    """An .xlsx export in a temporary file, written row by row (openpyxl write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("企业名录"))
    text_columns = []
    for index, column in enumerate(COLUMNS):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = column.width
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
            text_columns.append(index)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def clean(value: Any) -> Any:
        # Control characters are not allowed in the file's XML; they never belong in these fields.
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        # A string cell whatever it looks like: never a number, never a formula.
        cell.data_type = "s"
        cell.number_format = "@"
        return cell

    for row in export_rows(queryset, user):
        values: list[Any] = [clean(value) for value in row]
        for index in text_columns:
            if values[index]:
                values[index] = text_cell(values[index])
        for index, value in enumerate(values):
            if isinstance(value, str) and value.startswith("="):
                values[index] = text_cell(value)
        sheet.append(values)
    target = tempfile.TemporaryFile()  # noqa: SIM115 (the response streams and closes it)
    workbook.save(target)
    target.seek(0)
    return target


def _csv_safe(value: str) -> str:
    # Our import strips this apostrophe again, so an export stays importable.
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def iter_csv(queryset: QuerySet[Enterprise], user: User) -> Iterator[bytes]:
    """A UTF-8 (with BOM, for Excel) CSV export, yielded in chunks as it is read from the database."""
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for number, row in enumerate(export_rows(queryset, user), start=1):
        writer.writerow([_csv_safe(value) for value in row])
        if number % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
