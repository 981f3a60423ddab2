"""Importing enterprises from .xlsx and .csv: everything is checked first, and nothing is half-written."""

from __future__ import annotations

import io
import threading
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import resolve, reverse
from openpyxl import Workbook, load_workbook

from guanjia.core.errors import Conflict
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.enterprises import importing
from guanjia.enterprises.models import Contact, Enterprise, ImportJob, StewardAssignment, Tag
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import USCC_A1, USCC_B1, make_user

HEADERS = list(importing.HEADERS)
CODE_1 = with_check_digit("91320500MA1X00001")
CODE_2 = with_check_digit("91320500MA1X00002")
CODE_3 = with_check_digit("91320500MA1X00003")


def wrong_check_digit(code: str) -> str:
    other = "0" if code[-1] != "0" else "1"
    return code[:-1] + other


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- Files -------------------------------------------------------------------------------------


def xlsx_bytes(rows: list[list], headers: list = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig", headers: list = HEADERS) -> bytes:
    import csv

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def row(uscc, name="苏州示例科技有限公司", **fields) -> list:
    values = {
        "legal_representative": "张三",
        "founded_on": "2015-03-01",
        "registered_capital": "500",
        "scale": "小型",
        "tier": "一般",
        "industry_division": "39",
        "tags": "",
        "address": "苏州工业园区星湖街 1 号",
        "contact_name": "李经理",
        "contact_phone": "13900001111",
        "steward": "",
        **fields,
    }
    return [uscc, name, *(values[c.key] for c in importing.COLUMNS[2:])]


def good_rows() -> list[list]:
    return [
        row(
            CODE_1,
            "苏州一号智能装备有限公司",
            tags="高新技术企业、专精特新",
            steward="steward_a",
            tier="重点",
        ),
        row(
            CODE_2,
            "苏州二号新材料有限公司",
            tags="专精特新,新标签",
            scale="中型",
            registered_capital="1200.5",
        ),
        row(CODE_3, "苏州三号软件有限公司", industry_division="65", steward="steward_a2", contact_phone=""),
    ]


def upload(client, content: bytes, name: str, zone):
    return client.post(
        reverse("enterprises:import"), {"zone": zone.pk, "file": SimpleUploadedFile(name, content)}
    )


def uploaded_job(client, content: bytes, name: str, zone) -> ImportJob:
    response = upload(client, content, name, zone)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(pk=resolve(response["Location"]).kwargs["pk"])


def error_cells(job: ImportJob) -> set[tuple]:
    return {(e["row"], e["column"]) for e in job.errors}


# --- A good file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("企业.xlsx", lambda rows: xlsx_bytes(rows)),
        ("企业.csv", lambda rows: csv_bytes(rows, "utf-8-sig")),
        ("企业-无BOM.csv", lambda rows: csv_bytes(rows, "utf-8")),
        ("企业-GB18030.csv", lambda rows: csv_bytes(rows, "gb18030")),
    ],
)
def test_good_file_is_written_once_confirmed_with_stewards_and_contacts(cast, login, name, make):
    client = login(cast.dispatcher_a)
    before = Enterprise.objects.count()
    job = uploaded_job(client, make(good_rows()), name, cast.zone_a)
    assert job.status == ImportJob.Status.VALID, job.errors
    assert job.total_rows == 3
    assert Enterprise.objects.count() == before, "nothing is written before the user confirms"

    page = client.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "全部 3 行校验通过" in page and "确认导入" in page

    response = client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.written_rows == 3
    assert Enterprise.objects.count() == before + 3
    assert not job.file.storage.exists(f"{job.file.name}.rows.json"), "the kept rows are removed"

    first = Enterprise.objects.get(uscc=CODE_1)
    assert first.zone == cast.zone_a
    assert first.steward == cast.steward_a
    assert first.tier == "key" and first.industry_section == "C" and first.industry_division == "39"
    assert first.founded_on == date(2015, 3, 1)
    assert first.registered_capital == Decimal("500")
    assert set(first.tags.values_list("name", flat=True)) == {"高新技术企业", "专精特新"}
    assignment = StewardAssignment.objects.get(enterprise=first)
    assert assignment.steward == cast.steward_a and assignment.ended_at is None
    assert assignment.assigned_by == cast.dispatcher_a
    contact = Contact.objects.get(enterprise=first)
    assert (contact.name, contact.phone, contact.is_primary) == ("李经理", "13900001111", True)

    second = Enterprise.objects.get(uscc=CODE_2)
    assert second.steward is None and not StewardAssignment.objects.filter(enterprise=second).exists()
    assert second.scale == "medium" and second.registered_capital == Decimal("1200.50")
    assert Tag.objects.filter(name="新标签").exists()
    third = Enterprise.objects.get(uscc=CODE_3)
    assert third.steward == cast.steward_a2 and third.industry_section == "I"

    # Visible to the steward through the one permission-scoped entry point.
    assert first in Enterprise.objects.visible_to(cast.steward_a)
    records = AuditRecord.objects.filter(action="enterprise.import")
    assert records.count() == 1
    assert records.get().detail == {"rows": 3} and records.get().actor == cast.dispatcher_a


def test_excel_style_file_with_shared_strings_dates_and_sparse_cells(cast, login):
    """What Excel and WPS write: shared strings (with rich text and phonetic guides), date cells,
    formulas with cached values, and empty cells left out."""
    content = excel_style_xlsx()
    # openpyxl reads it the same way (a check on the hand-made file itself).
    sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)))[:2] == [
        CODE_1,
        "苏州富文本有限公司",
    ]

    job = uploaded_job(login(cast.dispatcher_a), content, "excel.xlsx", cast.zone_a)
    assert job.status == ImportJob.Status.VALID, job.errors
    importing.confirm_import(job, by=cast.dispatcher_a)
    importing.write_job(job.pk)
    enterprise = Enterprise.objects.get(uscc=CODE_1)
    assert enterprise.name == "苏州富文本有限公司"
    assert enterprise.founded_on == date(2016, 5, 4)
    assert enterprise.registered_capital == Decimal("300")
    assert enterprise.steward is None and not enterprise.contacts.exists()
    assert Enterprise.objects.get(uscc=CODE_2).founded_on is None


def excel_style_xlsx() -> bytes:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings = [*HEADERS, CODE_1, CODE_2, "苏州二号有限公司"]
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    # A rich-text name with a phonetic guide that is not part of the value.
    sst += "<si><r><t>苏州富文本</t></r><r><rPr><b/></rPr><t>有限公司</t></r><rPh sb='0' eb='2'><t>スシュウ</t></rPh></si>"
    index = {s: i for i, s in enumerate(strings)}
    rich = len(strings)
    header = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(HEADERS)))
    row2 = (
        f'<c r="A2" t="s"><v>{index[CODE_1]}</v></c><c r="B2" t="s"><v>{rich}</v></c>'
        '<c r="D2" s="1"><v>42494</v></c>'  # 2016-05-04 in the date style
        '<c r="E2"><f>100*3</f><v>300</v></c>'
    )
    row3 = f'<c r="A3" t="s"><v>{index[CODE_2]}</v></c><c r="B3" t="s"><v>{index["苏州二号有限公司"]}</v></c>'
    sheet = (
        f'<worksheet xmlns="{main}"><dimension ref="A1:M3"/><sheetData>'
        f'<row r="1">{header}</row><row r="2">{row2}</row><row r="3">{row3}</row>'
        "</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="企业名录" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/styles" Target="/xl/styles.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="{rich + 1}" uniqueCount="{rich + 1}">{sst}</sst>',
        "xl/styles.xml": (
            f'<styleSheet xmlns="{main}"><numFmts count="1">'
            '<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="176" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# --- Bad rows ---------------------------------------------------------------------------------------


def test_bad_rows_write_nothing_and_every_bad_row_is_named(cast, login):
    make_user("steward_b2", cast.centre_b, Role.STEWARD)
    rows = [
        row(CODE_1),  # 2: good
        row(wrong_check_digit(CODE_2)),  # 3: wrong check digit
        row(CODE_3, name=""),  # 4: missing name
        row(with_check_digit("91320500MA1X00004")),  # 5: duplicate of row 6
        row(with_check_digit("91320500MA1X00004")),  # 6
        row(USCC_B1),  # 7: registered already (in another zone)
        row(with_check_digit("91320500MA1X00007"), steward="nobody"),  # 8: unknown steward
        row(with_check_digit("91320500MA1X00008"), steward="steward_b2"),  # 9: another zone's steward
        row(with_check_digit("91320500MA1X00009"), founded_on="2015-13-01"),  # 10: bad date
        row(with_check_digit("91320500MA1X0000A"), scale="超大型", registered_capital="五百"),  # 11
        row(with_check_digit("91320500MA1X0000B"), industry_division="00", contact_name=""),  # 12
    ]
    before = (Enterprise.objects.count(), Contact.objects.count(), StewardAssignment.objects.count())
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, xlsx_bytes(rows), "bad.xlsx", cast.zone_a)

    assert job.status == ImportJob.Status.INVALID
    assert (Enterprise.objects.count(), Contact.objects.count(), StewardAssignment.objects.count()) == before
    assert not Tag.objects.filter(name="新标签").exists()
    assert error_cells(job) == {
        (3, "统一社会信用代码"),
        (4, "企业名称"),
        (5, "统一社会信用代码"),
        (6, "统一社会信用代码"),
        (7, "统一社会信用代码"),
        (8, "服务管家"),
        (9, "服务管家"),
        (10, "成立日期"),
        (11, "企业规模"),
        (11, "注册资本（万元）"),
        (12, "行业大类代码"),
        (12, "联系人"),
    }
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert messages[(3, "统一社会信用代码")].startswith("校验位错误")
    assert "第 5 行" in messages[(6, "统一社会信用代码")] and "第 6 行" in messages[(5, "统一社会信用代码")]
    assert "已在平台登记" in messages[(7, "统一社会信用代码")]
    assert "示例物流" not in messages[(7, "统一社会信用代码")], "another zone's enterprise is not named"

    page = client.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "第 3 行 统一社会信用代码：校验位错误" in page
    assert "第 8 行 服务管家：" in page and "nobody" in page
    assert "确认导入" not in page

    # An invalid job cannot be confirmed.
    client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert Enterprise.objects.count() == before[0]


def test_codes_and_phones_typed_as_numbers_are_refused_naming_the_row(cast, login):
    rows = [
        row(CODE_1),
        row(914403001922038216),  # an int cell
        row(9.14403001922038e17),  # what Excel makes of an 18-digit code: a float
        row(CODE_3, contact_phone=13912345678),
    ]
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(rows), "numbers.xlsx", cast.zone_a)
    assert job.status == ImportJob.Status.INVALID
    assert error_cells(job) == {(3, "统一社会信用代码"), (4, "统一社会信用代码"), (5, "联系电话")}
    assert all("必须是文本" in e["message"] for e in job.errors)
    assert not Enterprise.objects.filter(uscc__in=[CODE_1, CODE_3]).exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("企业.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "不是有效的 Excel"),
        ("企业.xlsx", "统一社会信用代码,企业名称\n".encode(), "不是有效的 Excel"),
        ("企业.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Excel（.xls）文件或加密"),
        ("企业.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "不是 CSV 文本"),
        ("企业.csv", "名称,地址\n示例,苏州\n".encode(), "缺少必填列"),
        ("企业.csv", b"", "空文件"),
        ("企业.txt", b"hello", "只能导入 .xlsx 或 .csv"),
        ("企业.xls", b"\xd0\xcf\x11\xe0", "另存为 .xlsx"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_gets_a_clear_message(
    cast, login, settings, name, content, expected
):
    response = upload(login(cast.dispatcher_a), content, name, cast.zone_a)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not ImportJob.objects.exists(), "nothing else happens"


def test_an_upload_over_the_size_limit_is_refused(cast, login, settings):
    settings.IMPORT_MAX_BYTES = 1024
    content = xlsx_bytes([row(CODE_1)] * 5)
    assert len(content) > 1024
    response = upload(login(cast.dispatcher_a), content, "big.xlsx", cast.zone_a)
    assert "文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_header_with_an_unknown_column_is_refused(cast, login):
    response = upload(
        login(cast.dispatcher_a),
        xlsx_bytes([row(CODE_1)], headers=[*HEADERS[:-1], "管家"]),
        "x.xlsx",
        cast.zone_a,
    )
    assert "无法识别的列" in response.content.decode() and "管家" in response.content.decode()


# --- Confirming ----------------------------------------------------------------------------------------


def test_confirming_twice_writes_once(cast, login):
    client = login(cast.dispatcher_a)
    before = Enterprise.objects.count()
    job = uploaded_job(client, xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    url = reverse("enterprises:import-confirm", args=[job.pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert "不能确认" in response.content.decode()
    assert Enterprise.objects.count() == before + 3
    assert AuditRecord.objects.filter(action="enterprise.import").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_the_same_moment_write_once(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    assert job.status == ImportJob.Status.VALID
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        try:
            mine = ImportJob.objects.get(pk=job.pk)
            barrier.wait(timeout=10)
            try:
                importing.confirm_import(mine, by=cast.dispatcher_a)
            except Conflict:
                outcomes.append("conflict")
                return
            importing.write_job(mine.pk)
            outcomes.append("wrote")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "wrote"]
    assert Enterprise.objects.filter(uscc__in=[CODE_1, CODE_2, CODE_3]).count() == 3
    assert AuditRecord.objects.filter(action="enterprise.import").count() == 1


def test_confirm_checks_the_database_again(cast, login):
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    assert job.status == ImportJob.Status.VALID
    # Meanwhile someone registers one of the enterprises and steward_a leaves.
    Enterprise.objects.create(uscc=CODE_2, name="抢先登记", zone=cast.zone_b)
    type(cast.steward_a).objects.filter(pk=cast.steward_a.pk).update(is_active=False)
    before = Enterprise.objects.count()

    client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert error_cells(job) == {(3, "统一社会信用代码"), (2, "服务管家")}
    assert Enterprise.objects.count() == before
    assert not AuditRecord.objects.filter(action="enterprise.import").exists()


def test_a_code_registered_while_writing_rolls_everything_back_and_names_the_row(cast, login, monkeypatch):
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    before = (Enterprise.objects.count(), Contact.objects.count(), StewardAssignment.objects.count())
    real = importing.check_against_database
    calls = []

    def racing(rows, zone, report):
        # The first check passes; right after it someone else registers row 3's code.
        calls.append(1)
        steward_ids = real(rows, zone, report)
        if len(calls) == 1:
            Enterprise.objects.create(uscc=CODE_2, name="同时登记", zone=cast.zone_a)
        return steward_ids

    monkeypatch.setattr(importing, "check_against_database", racing)
    client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert error_cells(job) == {(3, "统一社会信用代码")}
    assert (Enterprise.objects.count(), Contact.objects.count(), StewardAssignment.objects.count()) == (
        before[0] + 1,  # only the other writer's enterprise
        before[1],
        before[2],
    )
    assert not Enterprise.objects.filter(uscc__in=[CODE_1, CODE_3]).exists()
    assert not AuditRecord.objects.filter(action="enterprise.import").exists()


def test_writing_reads_the_file_again_when_the_kept_rows_are_gone(cast, login):
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, csv_bytes(good_rows()), "ok.csv", cast.zone_a)
    job.file.storage.delete(f"{job.file.name}.rows.json")
    client.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.written_rows == 3


def test_only_the_uploader_confirms(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    supervisor = login(cast.supervisor_a)
    page = supervisor.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "全部 3 行校验通过" in page and "只有上传该文件的人可以确认导入" in page
    supervisor.post(reverse("enterprises:import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID
    assert not Enterprise.objects.filter(uscc=CODE_1).exists()


# --- Who may ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["steward_a", "leader_a", "promoter_a", "handler_a", "outsider", "sysadmin"])
def test_only_registry_keepers_import(cast, login, who):
    client = login(getattr(cast, who))
    assert client.get(reverse("enterprises:import")).status_code == 403
    assert client.get(reverse("enterprises:import-template")).status_code == 403
    assert upload(client, xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a).status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("who", ["dispatcher_a", "supervisor_a"])
def test_registry_keepers_see_the_upload_page(cast, login, who):
    response = login(getattr(cast, who)).get(reverse("enterprises:import"))
    assert response.status_code == 200
    assert "下载导入模板" in response.content.decode()


def test_a_keeper_cannot_import_into_a_zone_it_does_not_see(cast, login):
    response = upload(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_b)
    assert response.status_code == 200 and "园区" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_job_is_visible_to_its_creator_and_its_zones_keepers_only(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    for url in (
        reverse("enterprises:import-job", args=[job.pk]),
        reverse("enterprises:import-progress", args=[job.pk]),
    ):
        assert login(dispatcher_b).get(url).status_code == 404
        assert login(cast.supervisor_a).get(url).status_code == 200
        assert login(cast.steward_a).get(url).status_code == 403
    assert login(dispatcher_b).post(reverse("enterprises:import-confirm", args=[job.pk])).status_code == 404


# --- Template, progress, the worker ------------------------------------------------------------------------


def test_the_template_has_text_identifier_columns_and_instructions(cast, login):
    response = login(cast.dispatcher_a).get(reverse("enterprises:import-template"))
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    data, notes = workbook.worksheets
    assert [c.value for c in data[1]] == HEADERS
    assert data.column_dimensions["A"].number_format == "@"  # 统一社会信用代码
    assert data.column_dimensions["L"].number_format == "@"  # 联系电话
    assert notes.title == "填写说明"
    explained = {r[0] for r in notes.iter_rows(min_row=2, values_only=True)}
    assert set(HEADERS) <= explained
    # The template itself imports: its header is accepted and it holds no rows.
    response = upload(login(cast.dispatcher_a), response.content, "模板.xlsx", cast.zone_a)
    assert "没有企业数据" in ImportJob.objects.get().errors[0]["message"]


def test_a_large_file_is_validated_and_written_by_the_worker(cast, login, settings):
    from huey.contrib.djhuey import HUEY
    from huey.signals import SIGNAL_COMPLETE

    settings.IMPORT_BACKGROUND_ROWS = 2
    ran: list[str] = []

    def note(signal, task, *args, **kwargs):
        ran.append(task.name)

    HUEY.signal(SIGNAL_COMPLETE)(note)
    try:
        client = login(cast.dispatcher_a)
        job = uploaded_job(client, xlsx_bytes(good_rows()), "big.xlsx", cast.zone_a)
        assert job.status == ImportJob.Status.VALID
        assert any("validate_import" in name for name in ran)
        client.post(reverse("enterprises:import-confirm", args=[job.pk]))
        assert any("write_import" in name for name in ran)
    finally:
        HUEY.disconnect_signal(note, SIGNAL_COMPLETE)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.written_rows == 3
    assert Enterprise.objects.filter(uscc__in=[CODE_1, CODE_2, CODE_3]).count() == 3


def test_small_files_do_not_use_the_worker(cast, login):
    from huey.contrib.djhuey import HUEY
    from huey.signals import SIGNAL_ENQUEUED

    ran: list[str] = []

    def note(signal, task, *args, **kwargs):
        ran.append(task.name)

    HUEY.signal(SIGNAL_ENQUEUED)(note)
    try:
        job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "small.xlsx", cast.zone_a)
    finally:
        HUEY.disconnect_signal(note, SIGNAL_ENQUEUED)
    assert job.status == ImportJob.Status.VALID and not ran


def test_progress_polls_while_running_and_stops_when_done(cast, login, monkeypatch):
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 1)
    seen: list[int] = []
    real = importing._progress_updater

    def spy(job):
        update = real(job)

        def wrapped(n):
            update(n)
            seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)

        return wrapped

    monkeypatch.setattr(importing, "_progress_updater", spy)
    client = login(cast.dispatcher_a)
    job = uploaded_job(client, xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    assert seen == [1, 2, 3], "processed_rows is updated as rows are checked"

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, processed_rows=1)
    page = client.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and reverse("enterprises:import-progress", args=[job.pk]) in page
    partial = client.get(reverse("enterprises:import-progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in partial.content.decode() and "HX-Refresh" not in partial

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALID, processed_rows=3)
    partial = client.get(reverse("enterprises:import-progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in partial.content.decode()
    assert partial["HX-Refresh"] == "true"


def test_a_repeated_poke_does_nothing_twice(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "ok.xlsx", cast.zone_a)
    importing.confirm_import(job, by=cast.dispatcher_a)
    assert importing.write_job(job.pk).status == ImportJob.Status.DONE
    assert importing.write_job(job.pk).status == ImportJob.Status.DONE
    assert importing.validate_job(job.pk).status == ImportJob.Status.DONE
    assert Enterprise.objects.filter(uscc=CODE_1).count() == 1
    assert AuditRecord.objects.filter(action="enterprise.import").count() == 1


def test_existing_codes_in_the_cast_are_refused(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), csv_bytes([row(USCC_A1)]), "dup.csv", cast.zone_a)
    assert job.status == ImportJob.Status.INVALID
    assert error_cells(job) == {(2, "统一社会信用代码")}


@pytest.mark.parametrize(
    ("content", "kind", "expected"),
    [
        (csv_bytes([row(CODE_1), row(CODE_2)]), "csv", 2),
        (csv_bytes([row(CODE_1), row(CODE_2)]).rstrip(b"\r\n"), "csv", 2),
        (xlsx_bytes([row(CODE_1)] * 7), "xlsx", 7),
        (excel_style_xlsx(), "xlsx", 2),
    ],
)
def test_rows_are_counted_without_parsing(content, kind, expected):
    assert importing.estimate_rows(io.BytesIO(content), kind) == expected
