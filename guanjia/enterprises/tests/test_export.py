"""Exporting the registry: only what the user sees, personal data masked by role, and re-importable."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.core.models import AuditRecord
from guanjia.enterprises import importing
from guanjia.enterprises.models import Contact, Enterprise, ImportJob
from guanjia.enterprises.tests.test_import import media_in_tmp, upload  # noqa: F401  (fixture)
from guanjia.testing import USCC_A1, USCC_A2, USCC_B1


def export(client, fmt: str = "xlsx", **params) -> list[list]:
    response = client.get(reverse("enterprises:export"), {"format": fmt, **params})
    assert response.status_code == 200, response.content[:500]
    if fmt == "csv":
        body = b"".join(response.streaming_content).decode("utf-8")
        assert body.startswith("\ufeff")
        return list(csv.reader(io.StringIO(body[1:])))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    return [[("" if v is None else v) for v in r] for r in sheet.iter_rows(values_only=True)]


def codes(rows: list[list]) -> set[str]:
    return {r[0] for r in rows[1:]}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_has_the_template_columns_and_only_visible_enterprises(cast, login, fmt):
    rows = export(login(cast.dispatcher_a), fmt)
    assert rows[0] == list(importing.HEADERS)
    assert codes(rows) == {USCC_A1, USCC_A2}
    first = next(r for r in rows if r[0] == USCC_A1)
    assert first[1:8] == ["示例智能制造有限公司", "", "2015-03-01", "5000", "小型", "重点", "39"]
    assert first[12] == "steward_a"


def test_a_steward_exports_only_its_own_enterprises(cast, login):
    client = login(cast.steward_a)
    assert codes(export(client)) == {USCC_A1}
    # Asking for zone B's enterprises gets nothing of zone B.
    response = client.get(reverse("enterprises:export"), {"format": "csv", "zone": cast.zone_b.pk})
    body = b"".join(response.streaming_content).decode() if response.status_code == 200 else ""
    assert USCC_B1 not in body and "示例物流" not in body
    assert USCC_B1 not in {r[0] for r in export(login(cast.steward_a), "csv", q="示例")}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_phones_are_masked_for_roles_that_do_not_see_personal_data(cast, login, fmt):
    for who, phone in (
        ("leader_a", "138****5678"),
        ("promoter_a", "138****5678"),
        ("dispatcher_a", "13812345678"),
    ):
        rows = export(login(getattr(cast, who)), fmt)
        assert next(r for r in rows if r[0] == USCC_A1)[11] == phone, who
    rows = export(login(cast.steward_a), fmt)
    assert rows[1][11] == "13812345678"


def test_filters_of_the_list_apply(cast, login):
    client = login(cast.leader_city)
    assert codes(export(client)) == {USCC_A1, USCC_A2, USCC_B1}
    assert codes(export(client, tier="key")) == {USCC_A1}
    assert codes(export(client, zone=cast.zone_b.pk)) == {USCC_B1}
    assert codes(export(client, q="新材料")) == {USCC_A2}


@pytest.mark.parametrize("who", ["outsider", "sysadmin", "secadmin", "auditor", "handler_a", "ent_user_a1"])
def test_outsiders_and_admin_roles_cannot_export(cast, login, who):
    assert login(getattr(cast, who)).get(reverse("enterprises:export")).status_code == 403
    assert not AuditRecord.objects.filter(action="enterprise.export").exists()


def test_the_export_is_audited_with_its_row_count(cast, login):
    export(login(cast.dispatcher_a), "csv", tier="general")
    record = AuditRecord.objects.get(action="enterprise.export")
    assert record.actor == cast.dispatcher_a
    assert record.detail["rows"] == 1 and record.detail["format"] == "csv"
    assert record.detail["filters"] == {"tier": "general"}


def test_a_bad_format_is_refused(cast, login):
    assert login(cast.dispatcher_a).get(reverse("enterprises:export"), {"format": "pdf"}).status_code == 400


def test_identifiers_are_text_cells_and_formulas_are_not_run(cast, login):
    Enterprise.objects.filter(pk=cast.ent_a2.pk).update(name='=HYPERLINK("http://x")')
    client = login(cast.dispatcher_a)
    response = client.get(reverse("enterprises:export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert sheet.column_dimensions["A"].number_format == "@"
    for r in sheet.iter_rows(min_row=2):
        assert r[0].data_type == "s" and r[11].data_type == "s"
        if r[0].value == USCC_A2:
            assert r[1].data_type == "s" and r[1].value.startswith("=HYPERLINK")
    rows = export(client, "csv")
    assert next(r for r in rows if r[0] == USCC_A2)[1].startswith("'=HYPERLINK")


def test_an_export_imports_again(cast, login):
    """Same columns, text identifiers: export zone A, remove it, import the file, get it back."""
    client = login(cast.dispatcher_a)
    response = client.get(reverse("enterprises:export"), {"format": "xlsx"})
    content = b"".join(response.streaming_content)
    Enterprise.objects.filter(zone=cast.zone_a).delete()

    response = upload(client, content, "导出.xlsx", cast.zone_a)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.VALID, job.errors
    client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.written_rows == 2
    again = Enterprise.objects.get(uscc=USCC_A1)
    assert (again.name, again.steward, again.tier, again.industry_section) == (
        "示例智能制造有限公司",
        cast.steward_a,
        "key",
        "C",
    )
    assert Contact.objects.get(enterprise=again).phone == "13812345678"
