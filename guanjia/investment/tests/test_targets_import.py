"""Loading the target library from a spreadsheet: every row is checked with the enterprise import's
rules, any bad row lists them all and writes nothing, a good file is written in one go, and a
company already in the library is updated rather than duplicated."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from guanjia.core.errors import Conflict, NotAllowed
from guanjia.core.models import AuditRecord
from guanjia.enterprises.importing import ImportFileError
from guanjia.enterprises.models import Scale
from guanjia.investment import targets, targets_import
from guanjia.investment.models import Target
from guanjia.investment.tests.helpers import make_chain, make_target, node
from guanjia.investment.tests.test_targets import code, wrong_check_digit

pytestmark = pytest.mark.django_db

HEADER = [
    "企业名称*",
    "统一社会信用代码",
    "总部所在地",
    "企业规模",
    "是否上市",
    "股票代码",
    "覆盖环节",
    "备注",
]


def xlsx(*rows: list, header: list | None = None, name: str = "targets.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def csv_file(text: str, name: str = "targets.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def _import(cast, upload):
    return targets_import.import_targets(upload=upload, zone=cast.zone_a, by=cast.promoter_a)


def test_a_good_file_writes_every_row(cast, chain):
    upload = xlsx(
        [
            "宁德示例锂电股份有限公司",
            code(1),
            "福建省宁德市",
            "大型",
            "是",
            "300750.SZ",
            "电芯、正极材料",
            "龙头",
        ],
        ["湖南示例正极材料有限公司", code(2), "湖南省长沙市", "中型", "否", None, "正极材料", None],
        ["Example Battery GmbH", None, "德国柏林", None, None, None, "新能源/储能系统；负极材料", None],
        [None, None, None, None, None, None, None, None],  # a blank row is skipped
    )
    result = _import(cast, upload)
    assert (result.created, result.updated) == (3, 0)
    cells = Target.objects.get(name="宁德示例锂电股份有限公司")
    assert (cells.uscc, cells.scale, cells.listed, cells.stock_code, cells.notes) == (
        code(1),
        Scale.LARGE,
        True,
        "300750.SZ",
        "龙头",
    )
    assert {n.name for n in cells.nodes.all()} == {"电芯", "正极材料"}
    foreign = Target.objects.get(name="Example Battery GmbH")
    assert (foreign.uscc, foreign.scale, foreign.listed) == ("", Scale.MEDIUM, False)
    assert {n.name for n in foreign.nodes.all()} == {"储能系统", "负极材料"}
    assert all(t.zone == cast.zone_a and t.created_by == cast.promoter_a for t in Target.objects.all())
    record = AuditRecord.objects.get(action="investment.target_import")
    assert record.detail["created"] == 3 and record.actor == cast.promoter_a


def test_a_file_with_bad_rows_lists_every_one_and_writes_nothing(cast, chain, login):
    make_target(cast.zone_a, "已有企业")
    upload = xlsx(
        ["甲企业", wrong_check_digit(code(1)), None, None, None, None, None, None],  # row 2: check digit
        ["乙企业", 913205001234567890, None, None, None, None, None, None],  # row 3: a numeric cell
        ["丙企业", code(3), None, None, None, None, "电芯、光伏组件", None],  # row 4: unknown node
        ["丁企业", code(4), None, "中型", None, None, None, None],  # row 5: first of a duplicate
        ["戊企业", None, None, "巨型", "也许", None, None, None],  # row 6: two bad choices
        ["丁企业", code(5), None, None, None, None, None, None],  # row 7: the same name as row 5
        ["好企业", code(6), None, None, None, None, "电芯", None],  # row 8: fine on its own
    )
    response = login(cast.promoter_a).post(reverse("investment:targets-import"), {"file": upload})
    assert response.status_code == 200
    errors = response.context["errors"]
    found = {(e["row"], e["column"]) for e in errors}
    assert found == {
        (2, "统一社会信用代码"),
        (3, "统一社会信用代码"),
        (4, "覆盖环节"),
        (5, "企业名称"),
        (6, "企业规模"),
        (6, "是否上市"),
        (7, "企业名称"),
    }
    by_place = {(e["row"], e["column"]): e["message"] for e in errors}
    assert "校验位错误" in by_place[(2, "统一社会信用代码")]
    assert "必须是文本，不能是数字" in by_place[(3, "统一社会信用代码")]
    assert "“光伏组件”不是本园区产业链的环节" in by_place[(4, "覆盖环节")]
    assert by_place[(7, "企业名称")] == "与第 5 行重复（丁企业）"
    assert by_place[(5, "企业名称")] == "与第 7 行重复（丁企业）"
    html = response.content.decode()
    assert "第 3 行" in html and "未写入任何数据" in html
    assert list(Target.objects.values_list("name", flat=True)) == ["已有企业"]
    assert not AuditRecord.objects.filter(action="investment.target_import").exists()


def test_a_duplicate_code_in_the_file_names_both_rows(cast):
    with pytest.raises(targets_import.TargetRowsInvalid) as refused:
        _import(cast, xlsx(["甲企业", code(1)], ["乙企业", code(1)]))
    assert [(e["row"], e["column"]) for e in refused.value.rows] == [
        (2, "统一社会信用代码"),
        (3, "统一社会信用代码"),
    ]


def test_rows_already_in_the_library_update_it(cast, chain):
    by_code = make_target(
        cast.zone_a, "宁德示例锂电有限公司", node(chain, "电芯"), uscc=code(1), headquarters="福建省宁德市"
    )
    by_name = make_target(cast.zone_a, "湖南示例正极材料有限公司", notes="老备注")
    result = _import(
        cast,
        xlsx(
            # Found by its code: renamed, listed; empty cells keep the stored headquarters and nodes.
            ["宁德示例锂电股份有限公司", code(1), None, "大型", "是", "300750.SZ", None, None],
            # Found by its name: its code is filled in, its nodes replaced.
            ["湖南示例正极材料有限公司", code(2), None, None, None, None, "正极材料", None],
            ["新企业", None, None, None, None, None, None, None],
        ),
    )
    assert (result.created, result.updated) == (1, 2)
    by_code.refresh_from_db()
    assert (by_code.name, by_code.headquarters, by_code.scale, by_code.stock_code, by_code.version) == (
        "宁德示例锂电股份有限公司",
        "福建省宁德市",
        Scale.LARGE,
        "300750.SZ",
        2,
    )
    assert [n.name for n in by_code.nodes.all()] == ["电芯"]
    by_name.refresh_from_db()
    assert (by_name.uscc, by_name.notes) == (code(2), "老备注")
    assert [n.name for n in by_name.nodes.all()] == ["正极材料"]
    assert Target.objects.filter(zone=cast.zone_a).count() == 3


def test_rows_that_contradict_the_library_are_refused(cast):
    make_target(cast.zone_a, "甲企业", uscc=code(1))
    make_target(cast.zone_a, "乙企业", uscc=code(2))
    make_target(cast.zone_a, "丙企业")
    with pytest.raises(targets_import.TargetRowsInvalid) as refused:
        _import(
            cast,
            xlsx(
                ["乙企业", code(1)],  # the code is 甲's, the name 乙's
                ["甲企业", code(3)],  # 甲 is known under another code
                ["丙企业", None, None, None, None, "600000.SH"],  # a stock code for an unlisted company
            ),
        )
    messages = {(e["row"], e["column"]): e["message"] for e in refused.value.rows}
    assert "而企业名称“乙企业”是库中另一家企业" in messages[(2, "统一社会信用代码")]
    assert f"登记的代码是 {code(1)}" in messages[(3, "统一社会信用代码")]
    assert "未上市的企业不填写股票代码" in messages[(4, "股票代码")]
    assert Target.objects.get(name="丙企业").version == 1


def test_a_node_name_in_several_chains_is_written_with_its_chain(cast, chain):
    make_chain(cast.zone_a, cast.promoter_a, name="储能")  # also has 电芯
    with pytest.raises(targets_import.TargetRowsInvalid) as refused:
        _import(cast, xlsx(["甲企业", None, None, None, None, None, "电芯"]))
    assert "在多条产业链中都有（储能、新能源），请写成“产业链/环节”" in refused.value.rows[0]["message"]
    with pytest.raises(targets_import.TargetRowsInvalid) as refused:
        _import(cast, xlsx(["甲企业", None, None, None, None, None, "光伏/电芯"]))
    assert refused.value.rows[0]["message"] == "本园区没有名为“光伏”的产业链"
    _import(cast, xlsx(["甲企业", None, None, None, None, None, "储能/电芯"]))
    assert [n.chain.name for n in Target.objects.get(name="甲企业").nodes.all()] == ["储能"]


def test_nodes_of_another_zone_are_unknown(cast, promoter_b):
    make_chain(cast.zone_b, promoter_b, name="储能")
    with pytest.raises(targets_import.TargetRowsInvalid) as refused:
        _import(cast, xlsx(["甲企业", None, None, None, None, None, "电芯"]))
    assert refused.value.rows[0]["message"] == "“电芯”不是本园区产业链的环节"


def test_a_csv_file_in_gb18030_reads_like_the_template(cast):
    text = "企业名称,统一社会信用代码,企业规模\n甲企业," + code(1) + ",小型\n"
    result = _import(cast, csv_file(text, encoding="gb18030"))
    assert result.created == 1 and Target.objects.get(name="甲企业").scale == Scale.SMALL


def test_files_that_are_not_the_template_are_refused(cast):
    with pytest.raises(ImportFileError, match="不支持 .xls 文件"):
        _import(cast, SimpleUploadedFile("targets.xls", b"\xd0\xcf\x11\xe0" + bytes(64)))
    with pytest.raises(ImportFileError, match="缺少必填列：企业名称"):
        _import(cast, csv_file("统一社会信用代码\n" + code(1) + "\n"))
    with pytest.raises(ImportFileError, match="无法识别的列：“法人”"):
        _import(cast, csv_file("企业名称,法人\n甲企业,张三\n"))
    with pytest.raises(ImportFileError, match="文件中没有目标企业"):
        _import(cast, csv_file("企业名称\n"))
    with pytest.raises(ImportFileError, match="不是有效的 Excel"):
        _import(cast, SimpleUploadedFile("targets.xlsx", b"PK\x03\x04 not a zip"))
    assert not Target.objects.exists()


def test_a_file_over_the_row_limit_is_refused(cast, monkeypatch):
    monkeypatch.setattr(targets_import, "MAX_ROWS", 3)
    rows = "".join(f"企业{n}\n" for n in range(4))
    with pytest.raises(ImportFileError, match="文件超过 3 行"):
        _import(cast, csv_file("企业名称\n" + rows))
    assert not Target.objects.exists()


def test_an_edit_between_check_and_write_stops_the_whole_import(cast):
    target = make_target(cast.zone_a, "甲企业")
    planned = targets_import.check_file(xlsx(["甲企业", None, "上海市"], ["乙企业"]), "xlsx", cast.zone_a)
    targets.update_target(Target.objects.get(pk=target.pk), by=cast.promoter_a, version=1, notes="刚改过")
    with pytest.raises(Conflict, match="第 2 行的企业“甲企业”在校验后被他人修改"):
        targets_import.write(planned, cast.zone_a, by=cast.promoter_a, file_name="t.xlsx")
    assert list(Target.objects.values_list("name", flat=True)) == ["甲企业"]
    assert Target.objects.get(pk=target.pk).headquarters == ""


def test_only_a_promoter_of_the_zone_imports(cast, promoter_b, login):
    for outsider in (cast.leader_a, promoter_b):
        with pytest.raises(NotAllowed):
            targets_import.import_targets(upload=xlsx(["甲企业"]), zone=cast.zone_a, by=outsider)
    assert (
        login(cast.leader_a)
        .post(reverse("investment:targets-import"), {"file": xlsx(["甲企业"])})
        .status_code
        == 403
    )
    api = reverse("investment-target-import")
    assert login(cast.leader_a).post(api, {"file": xlsx(["甲企业"])}).status_code == 403
    assert login(cast.steward_a).post(api, {"file": xlsx(["甲企业"])}).status_code == 403
    # Zone B's promoter cannot name zone A: it is not among its zones.
    response = login(promoter_b).post(api, {"file": xlsx(["甲企业"]), "zone": cast.zone_a.pk})
    assert response.status_code == 400 and "zone" in response.json()
    assert not Target.objects.exists()


def test_the_page_shows_the_result(cast, login):
    response = login(cast.promoter_a).post(
        reverse("investment:targets-import"), {"file": xlsx(["甲企业"], ["乙企业"])}
    )
    assert response.status_code == 200
    assert "导入完成：新增 2 家，更新 0 家" in response.content.decode()


def test_the_api_lists_every_bad_row_or_the_counts(cast, login):
    client = login(cast.promoter_a)
    url = reverse("investment-target-import")
    bad = client.post(
        url, {"file": xlsx(["甲企业", 91320500123456789], ["乙企业", wrong_check_digit(code(2))])}
    )
    assert bad.status_code == 400
    assert [(r["row"], r["column"]) for r in bad.json()["rows"]] == [
        (2, "统一社会信用代码"),
        (3, "统一社会信用代码"),
    ]
    assert not Target.objects.exists()
    unreadable = client.post(url, {"file": SimpleUploadedFile("t.xlsx", b"plain text")})
    assert unreadable.status_code == 400 and unreadable.json()["rows"][0]["row"] is None
    good = client.post(url, {"file": csv_file("企业名称,是否上市\n甲企业,是\n乙企业,否\n")})
    assert good.status_code == 200 and good.json() == {"created": 2, "updated": 0}
    # A client that sends no file name: the content decides how it is read.
    again = client.post(url, {"file": csv_file("企业名称,备注\n甲企业,再次导入\n", name="upload")})
    assert again.json() == {"created": 0, "updated": 1}
    assert Target.objects.get(name="甲企业").notes == "再次导入"


def test_the_template_keeps_identifiers_as_text_and_lists_the_zones_nodes(cast, chain, login):
    response = login(cast.promoter_a).get(reverse("investment:targets-template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(
        BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == HEADER
    assert sheet.column_dimensions["B"].number_format == "@"  # 统一社会信用代码
    assert sheet.column_dimensions["F"].number_format == "@"  # 股票代码
    catalogue = workbook.worksheets[2]
    assert ["高新区", "新能源", "电芯", "中游", "电芯"] in [
        [c.value for c in row] for row in catalogue.iter_rows(min_row=2)
    ]
    # The template round-trips: filled in as it is, it imports.
    sheet.append(["甲企业", code(1), None, "大型", "否", None, "电芯", None])
    buffer = BytesIO()
    workbook.save(buffer)
    result = _import(cast, SimpleUploadedFile("filled.xlsx", buffer.getvalue()))
    assert result.created == 1
