"""Building a target list: by filters (with a preview, idempotent), by an uploaded list of USCCs
(every bad row named, nothing written), and by the API's list of codes."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from guanjia.campaigns import services
from guanjia.campaigns.models import CampaignTarget
from guanjia.campaigns.tests.helpers import USCC_A3, USCC_A4, USCC_UNKNOWN, make_campaign
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.enterprises.models import Tag, Tier
from guanjia.testing import USCC_A1, USCC_A2, USCC_B1, make_enterprise, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def more(cast):
    """Two more enterprises of zone A: a 重点 one tagged 专精特新 in C 39, and an unserved 规上 one."""
    tag = Tag.objects.create(name="专精特新")
    ent_a3 = make_enterprise(
        USCC_A3,
        "示例精密机械有限公司",
        cast.zone_a,
        cast.steward_a,
        tier=Tier.KEY,
        industry_section="C",
        industry_division="39",
    )
    ent_a3.tags.add(tag)
    ent_a4 = make_enterprise(USCC_A4, "示例软件有限公司", cast.zone_a, None, tier=Tier.ABOVE_SCALE)
    return {"tag": tag, "ent_a3": ent_a3, "ent_a4": ent_a4}


def _targets(campaign) -> set[int]:
    return set(CampaignTarget.objects.filter(campaign=campaign).values_list("enterprise_id", flat=True))


def test_filters_build_the_right_target_set(cast, more):
    city_dispatcher = make_user("city_dispatcher", cast.city, Role.DISPATCHER)
    campaign = make_campaign(cast, zones=[cast.zone_a, cast.zone_b], by=city_dispatcher)
    criteria = services.TargetCriteria
    match = services.matching_enterprises
    # ent_a1 is 重点 (C 39); ent_a2 一般 (C 26); ent_b1 一般 (G 54) in zone B.
    assert set(match(campaign, criteria())) == {
        cast.ent_a1,
        cast.ent_a2,
        cast.ent_b1,
        more["ent_a3"],
        more["ent_a4"],
    }
    assert set(match(campaign, criteria(zones=[cast.zone_b]))) == {cast.ent_b1}
    assert set(match(campaign, criteria(tiers=[Tier.KEY]))) == {cast.ent_a1, more["ent_a3"]}
    assert set(match(campaign, criteria(tiers=[Tier.KEY, Tier.ABOVE_SCALE]))) == {
        cast.ent_a1,
        more["ent_a3"],
        more["ent_a4"],
    }
    assert set(match(campaign, criteria(industry_section="C"))) == {cast.ent_a1, cast.ent_a2, more["ent_a3"]}
    assert set(match(campaign, criteria(industry_division="39", tiers=[Tier.KEY]))) == {
        cast.ent_a1,
        more["ent_a3"],
    }
    assert set(match(campaign, criteria(tags=[more["tag"]]))) == {more["ent_a3"]}
    with pytest.raises(services.ServiceError, match="不是国民经济行业分类"):
        match(campaign, criteria(industry_division="00"))


def test_a_campaign_of_one_zone_never_targets_another_zones_enterprises(cast, more):
    campaign = make_campaign(cast)
    assert cast.ent_b1 not in set(services.matching_enterprises(campaign, services.TargetCriteria()))
    with pytest.raises(services.ServiceError, match="不在本专项行动的覆盖园区内"):
        services.matching_enterprises(campaign, services.TargetCriteria(zones=[cast.zone_b]))


def test_adding_by_filters_previews_then_adds_once_with_the_enterprises_steward(cast, more, login):
    campaign = make_campaign(cast)
    client = login(cast.dispatcher_a)
    url = f"/campaigns/{campaign.pk}/targets/add/"
    page = client.post(url, {"tiers": [Tier.KEY], "preview": "1"})
    assert page.status_code == 200
    assert page.context["preview"] == services.TargetPreview(matching=2, already=0)
    assert not _targets(campaign)  # a preview writes nothing
    response = client.post(url, {"tiers": [Tier.KEY], "add": "1"}, follow=True)
    assert "已添加目标企业 2 家，跳过已在清单中的 0 家" in response.content.decode()
    assert _targets(campaign) == {cast.ent_a1.pk, more["ent_a3"].pk}
    stewards = dict(
        CampaignTarget.objects.filter(campaign=campaign).values_list("enterprise_id", "steward_id")
    )
    assert stewards == {cast.ent_a1.pk: cast.steward_a.pk, more["ent_a3"].pk: cast.steward_a.pk}
    # Again, wider: those already there are skipped, the others added; nothing twice.
    result = services.add_targets_by_criteria(
        campaign, services.TargetCriteria(tiers=[Tier.KEY, Tier.ABOVE_SCALE]), by=cast.supervisor_a
    )
    assert result == services.AddResult(added=1, skipped=2)
    assert CampaignTarget.objects.filter(campaign=campaign).count() == 3
    assert CampaignTarget.objects.get(campaign=campaign, enterprise=more["ent_a4"]).steward is None
    assert AuditRecord.objects.filter(action="campaign.add_targets", object_id=str(campaign.pk)).count() == 2


def _csv(*lines: str, name: str = "targets.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode("utf-8-sig"), content_type="text/csv")


def _xlsx(rows: list[list], name: str = "targets.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def test_an_upload_with_bad_codes_names_every_bad_row_and_writes_nothing(cast, more, login):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a2.pk, cast.steward_a2.pk)], by=cast.dispatcher_a, source="test"
    )
    targets_before = CampaignTarget.objects.count()
    campaign_audit = AuditRecord.objects.filter(action__startswith="campaign.")
    audit_before = campaign_audit.count()
    upload = _csv(
        "统一社会信用代码,企业名称",
        f"{USCC_A1},示例智能制造",  # row 2: good
        f"{USCC_A1[:-1]}0,校验位错",  # row 3: wrong check digit
        f"{USCC_UNKNOWN},未登记",  # row 4: no such enterprise
        f"{USCC_B1},经开区企业",  # row 5: another zone
        f"{USCC_A1},重复",  # row 6: duplicate of row 2
        ",",  # row 7: blank, skipped
        f" {USCC_A3.lower()} ,小写带空格",  # row 8: good once normalised
        ",只有名称",  # row 9: a code missing
        "12345,太短",  # row 10
    )
    response = login(cast.dispatcher_a).post(f"/campaigns/{campaign.pk}/targets/import/", {"file": upload})
    assert response.status_code == 200
    errors = response.context["errors"]
    assert [(e.row, e.uscc) for e in errors] == [
        (3, f"{USCC_A1[:-1]}0"),
        (4, USCC_UNKNOWN),
        (5, USCC_B1),
        (6, USCC_A1),
        (9, ""),
        (10, "12345"),
    ]
    reasons = [e.error for e in errors]
    assert "校验位错误" in reasons[0]
    assert "没有登记" in reasons[1]
    assert "不属于本专项行动覆盖的园区" in reasons[2]
    assert "与第 2 行重复" in reasons[3]
    assert "不能为空" in reasons[4]
    assert "18 位" in reasons[5]
    html = response.content.decode()
    for row in (3, 4, 5, 6, 9, 10):
        assert f"第 {row} 行" in html
    assert "有 6 行有误，未写入任何数据" in html
    assert CampaignTarget.objects.count() == targets_before
    assert campaign_audit.count() == audit_before


def test_a_good_upload_adds_every_row_and_skips_those_already_there(cast, more, login):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a2.pk, cast.steward_a2.pk)], by=cast.dispatcher_a, source="test"
    )
    upload = _xlsx(
        [["企业名称", "统一社会信用代码"], ["甲", USCC_A1], ["乙", USCC_A2], [None, None], ["丙", USCC_A3]]
    )
    response = login(cast.supervisor_a).post(
        f"/campaigns/{campaign.pk}/targets/import/", {"file": upload}, follow=True
    )
    assert "已导入目标企业 2 家，跳过已在清单中的 1 家" in response.content.decode()
    assert _targets(campaign) == {cast.ent_a1.pk, cast.ent_a2.pk, more["ent_a3"].pk}


def test_a_numeric_cell_is_refused_with_its_row(cast, more, login):
    campaign = make_campaign(cast)
    upload = _xlsx([["统一社会信用代码"], [USCC_A1], [914403001922038216]])
    response = login(cast.dispatcher_a).post(f"/campaigns/{campaign.pk}/targets/import/", {"file": upload})
    [error] = response.context["errors"]
    assert error.row == 3
    assert "必须是文本" in error.error
    assert not _targets(campaign)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (_csv("企业名称", "甲"), "缺少“统一社会信用代码”列"),
        (_csv("统一社会信用代码"), "没有数据行"),
        (SimpleUploadedFile("targets.xls", b"\xd0\xcf\x11\xe0"), "另存为 .xlsx"),
        (SimpleUploadedFile("targets.xlsx", b"not a zip"), "Excel"),
    ],
)
def test_a_file_we_cannot_use_gets_a_clear_message(cast, login, upload, message):
    campaign = make_campaign(cast)
    response = login(cast.dispatcher_a).post(f"/campaigns/{campaign.pk}/targets/import/", {"file": upload})
    assert message in response.content.decode()
    assert not _targets(campaign)


def test_the_api_adds_by_codes_and_answers_bad_rows_as_400(cast, more, login):
    campaign = make_campaign(cast)
    client = login(cast.dispatcher_a)
    url = f"/api/campaigns/{campaign.pk}/targets/"
    response = client.post(
        url, {"usccs": [USCC_A1, USCC_B1, "bad", USCC_A1]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert [(r["row"], r["uscc"]) for r in response.json()["rows"]] == [
        (2, USCC_B1),
        (3, "bad"),
        (4, USCC_A1),
    ]
    assert not _targets(campaign)
    response = client.post(url, {"usccs": [USCC_A1, USCC_A3]}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json() == {"added": 2, "skipped": 0}
    response = client.post(
        url, {"filters": {"tiers": ["key", "above_scale"]}}, content_type="application/json"
    )
    assert response.json() == {"added": 1, "skipped": 2}
    listed = client.get(url, {"visited": "false"}).json()
    assert listed["count"] == 3
    assert {row["uscc"] for row in listed["results"]} == {USCC_A1, USCC_A3, USCC_A4}
    assert client.post(url, {}, content_type="application/json").status_code == 400


def test_the_row_cap_is_a_clear_message(cast, monkeypatch, login):
    from guanjia.campaigns import importing

    monkeypatch.setattr(importing, "MAX_TARGET_ROWS", 2)
    campaign = make_campaign(cast)
    upload = _csv("统一社会信用代码", USCC_A1, USCC_A2, USCC_A3)
    response = login(cast.dispatcher_a).post(f"/campaigns/{campaign.pk}/targets/import/", {"file": upload})
    assert "文件超过 2 行" in response.content.decode()
    assert not _targets(campaign)
