"""The policy library's services: who keeps a policy, the rules of its fields and its items'
eligibility (each refusal names its field), optimistic locking, removal, attachments, describe()."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.appeals import attachments
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.enterprises.models import Scale, Tag, Tier
from guanjia.policies import library
from guanjia.policies.library import InvalidField
from guanjia.policies.models import BenefitItem, Delivery, Policy, PolicyAttachment, PushChannel
from guanjia.policies.tests.helpers import make_department, make_head, make_item, make_policy
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _attachments_dir(settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"


@pytest.fixture
def policy(cast):
    """A policy of zone A's 市场监管局 (kept by handler_a), covering zone A only."""
    return make_policy(cast.market_a, title="高新区研发补贴办法", document_number="高新管〔2026〕8号")


def new_policy(by, **fields):
    fields.setdefault("title", "关于促进科技创新的若干政策")
    fields.setdefault("issuer", "高新区管委会")
    fields.setdefault("effective_on", date(2026, 1, 1))
    return library.create_policy(by=by, **fields)


def refusal(call) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        call()
    return caught.value


# --- policies ---------------------------------------------------------------------------------------


def test_a_handler_creates_a_policy_of_its_own_department_with_an_audit_record(cast):
    policy = new_policy(cast.handler_a, document_number=" 高新管〔2026〕1号 ", expires_on=date(2028, 12, 31))

    assert (policy.department, policy.created_by, policy.version) == (cast.market_a, cast.handler_a, 1)
    assert policy.document_number == "高新管〔2026〕1号"
    record = AuditRecord.objects.get(action="policies.policy_create")
    assert (record.actor, record.object_id) == (cast.handler_a, str(policy.pk))


def test_the_department_head_keeps_its_departments_policies_too(cast, policy):
    head = make_head(cast.market_a)
    library.update_policy(policy, by=head, version=1, title="新标题")
    assert Policy.objects.get(pk=policy.pk).title == "新标题"


@pytest.mark.parametrize("who", ["steward_a", "dispatcher_a", "leader_a", "promoter_a", "ent_user_a1"])
def test_who_keeps_no_department_creates_no_policy(cast, who):
    with pytest.raises(NotAllowed):
        new_policy(getattr(cast, who))
    assert not Policy.objects.exists()


def test_a_keeper_creates_no_policy_for_another_department(cast):
    with pytest.raises(NotAllowed, match="只能为本部门新建政策"):
        new_policy(cast.handler_a, department=cast.centre_a)


def test_a_handler_of_another_department_does_not_change_the_policy(cast, policy):
    other = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    with pytest.raises(NotAllowed):
        library.update_policy(policy, by=other, version=1, title="改")
    assert Policy.objects.get(pk=policy.pk).title == "高新区研发补贴办法"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "政策名称：请填写"),
        ({"issuer": ""}, "issuer", "发文机关：请填写"),
        ({"title": "长" * 201}, "title", "政策名称：不能超过 200 个字"),
        ({"expires_on": date(2025, 12, 31)}, "expires_on", "失效日期：不能早于生效日期"),
        ({"effective_on": None}, "effective_on", "生效日期：请填写"),
        ({"effective_on": "2026/1/1"}, "effective_on", "生效日期：日期格式应为 YYYY-MM-DD"),
    ],
)
def test_a_policys_fields_are_refused_with_the_field_named(cast, fields, field, message):
    exc = refusal(lambda: new_policy(cast.handler_a, **fields))
    assert (exc.field, str(exc)) == (field, message)
    assert not Policy.objects.exists()


def test_an_edit_on_a_stale_version_is_refused_and_changes_nothing(cast, policy):
    library.update_policy(policy, by=cast.handler_a, version=1, issuer="高新区管委会办公室")
    stale = Policy.objects.get(pk=policy.pk)
    stale.version = 1
    with pytest.raises(Conflict, match="刚被他人修改"):
        library.update_policy(stale, by=cast.handler_a, version=1, title="旧页面上的标题")
    fresh = Policy.objects.get(pk=policy.pk)
    assert (fresh.title, fresh.issuer, fresh.version) == ("高新区研发补贴办法", "高新区管委会办公室", 2)


def test_an_edit_keeps_the_fields_it_does_not_name(cast, policy):
    library.update_policy(policy, by=cast.handler_a, version=1, expires_on=date(2030, 1, 1))
    fresh = Policy.objects.get(pk=policy.pk)
    assert (fresh.title, fresh.expires_on) == ("高新区研发补贴办法", date(2030, 1, 1))
    with pytest.raises(ServiceError, match="不能修改的字段：department"):
        library.update_policy(fresh, by=cast.handler_a, version=2, department=cast.centre_a)


def test_state_of_a_policy(cast):
    policy = make_policy(cast.market_a, effective_on=date(2026, 1, 1), expires_on=date(2026, 12, 31))
    assert library.state_of(policy, date(2025, 12, 31))[0] == "upcoming"
    assert library.state_of(policy, date(2026, 12, 31))[0] == "current"
    assert library.state_of(policy, date(2027, 1, 1))[0] == "expired"


# --- benefit items ----------------------------------------------------------------------------------


def test_an_item_stores_its_conditions_as_codes_and_describes_them(cast, policy):
    tag = Tag.objects.create(name="专精特新")
    item = library.add_item(
        policy,
        by=cast.handler_a,
        name="研发费用补贴",
        max_amount=Decimal("50"),
        auto_grant=True,
        disburse_within_days=15,
        zones=[cast.zone_a],
        divisions=["39", "26", "39"],
        scales=[Scale.SMALL, Scale.MEDIUM],
        tiers=[Tier.KEY],
        tags=[tag.pk],
        min_years=3,
        max_years=10,
        capital_min=Decimal("100"),
        capital_max=Decimal("5000"),
        other_conditions="上年度研发投入不低于 200 万元",
    )
    item.refresh_from_db()
    assert (item.divisions, item.scales, item.tiers) == (",26,39,", ",medium,small,", ",key,")
    assert list(item.zones.all()) == [cast.zone_a]
    assert list(item.tags.all()) == [tag]
    assert library.describe(item) == [
        ("适用园区", "高新区"),
        ("行业大类", "26 化学原料和化学制品制造业、39 计算机、通信和其他电子设备制造业"),
        ("企业规模", "中型、小型"),
        ("企业分级", "重点"),
        ("企业标签（任一）", "专精特新"),
        ("成立年限", "成立满 3 年且不满 10 年"),
        ("注册资本", "100 至 5000 万元（含）"),
        ("其他条件（人工判断）", "上年度研发投入不低于 200 万元"),
    ]
    assert AuditRecord.objects.filter(action="policies.item_add", object_id=str(item.pk)).exists()


def test_describe_says_only_what_is_set(cast, policy):
    assert library.describe(make_item(policy)) == []
    assert library.describe(make_item(policy, min_years=2)) == [("成立年限", "成立满 2 年")]
    assert library.describe(make_item(policy, max_years=5)) == [("成立年限", "成立不满 5 年")]
    assert library.describe(make_item(policy, capital_min=Decimal("12.50"))) == [
        ("注册资本", "不低于 12.5 万元")
    ]
    assert library.describe(make_item(policy, capital_max=Decimal("800"))) == [
        ("注册资本", "不高于 800 万元")
    ]


@pytest.mark.parametrize(
    ("conditions", "field", "message"),
    [
        ({"name": ""}, "name", "兑现事项：请填写"),
        ({"min_years": 5, "max_years": 5}, "max_years", "成立不满（年）：应大于成立满（年）（5 年）"),
        ({"min_years": 5, "max_years": 3}, "max_years", "成立不满（年）：应大于成立满（年）（5 年）"),
        (
            {"capital_min": Decimal("500"), "capital_max": Decimal("100")},
            "capital_max",
            "注册资本上限（万元）：不能低于注册资本下限（500 万元）",
        ),
        ({"max_amount": Decimal("-1")}, "max_amount", "最高金额（万元）：不能为负数"),
        ({"capital_min": "-0.01"}, "capital_min", "注册资本下限（万元）：不能为负数"),
        ({"max_amount": "1.005"}, "max_amount", "最高金额（万元）：最多保留两位小数"),
        ({"max_amount": "abc"}, "max_amount", "最高金额（万元）：请填写数字"),
        ({"disburse_within_days": 0}, "disburse_within_days", "兑现时限（工作日）：应在 1 到 365 之间"),
        ({"divisions": ["39", "XX"]}, "divisions", "行业大类：未知的选项“XX”"),
        ({"scales": ["huge"]}, "scales", "企业规模：未知的选项“huge”"),
        ({"tiers": ["vip"]}, "tiers", "企业分级：未知的选项“vip”"),
        ({"tags": [999999]}, "tags", "企业标签（任一）：未知的标签（编号 999999）"),
        ({"category": "bribe"}, "category", "类别：未知的选项“bribe”"),
    ],
)
def test_an_items_fields_are_refused_with_the_field_named(cast, policy, conditions, field, message):
    conditions = {"name": "研发费用补贴", **conditions}
    exc = refusal(lambda: library.add_item(policy, by=cast.handler_a, **conditions))
    assert (exc.field, str(exc)) == (field, message)
    assert not BenefitItem.objects.exists()


def test_equal_capital_bounds_are_allowed_both_inclusive(cast, policy):
    item = library.add_item(
        policy, by=cast.handler_a, name="注册资本恰好 1000 万", capital_min="1000", capital_max="1000"
    )
    assert (item.capital_min, item.capital_max) == (Decimal("1000.00"), Decimal("1000.00"))


def test_an_items_zones_lie_inside_the_policys_coverage(cast, policy):
    exc = refusal(lambda: library.add_item(policy, by=cast.handler_a, name="补贴", zones=[cast.zone_b]))
    assert (exc.field, str(exc)) == ("zones", "适用园区：“经开区”不在本政策的覆盖范围内")
    # A city department's policy covers every zone of the city.
    city_dept = make_department(cast.city, "city-tech", "示例市科技局")
    keeper = make_user("city_handler", city_dept, Role.HANDLER)
    city_policy = make_policy(city_dept)
    item = library.add_item(city_policy, by=keeper, name="补贴", zones=[cast.zone_a.pk, cast.zone_b.pk])
    assert set(item.zones.all()) == {cast.zone_a, cast.zone_b}


def test_only_the_policys_keepers_add_items(cast, policy):
    other = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    for who in (other, cast.steward_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            library.add_item(policy, by=who, name="补贴")
    assert not BenefitItem.objects.exists()


def test_an_item_edit_changes_what_it_names_and_loses_on_a_stale_version(cast, policy):
    item = make_item(policy, scales=[Scale.SMALL], min_years=2, zones=[cast.zone_a])
    library.update_item(item, by=cast.handler_a, version=1, scales=[Scale.MICRO, Scale.SMALL], zones=[])
    fresh = BenefitItem.objects.get(pk=item.pk)
    assert (fresh.scales, fresh.min_years, fresh.version) == (",micro,small,", 2, 2)
    assert not fresh.zones.exists()
    with pytest.raises(Conflict, match="刚被他人修改"):
        library.update_item(fresh, by=cast.handler_a, version=1, min_years=9)
    assert BenefitItem.objects.get(pk=item.pk).min_years == 2
    # The range is judged with what the item already has: max_years below its min_years is refused.
    exc = refusal(lambda: library.update_item(fresh, by=cast.handler_a, version=2, max_years=1))
    assert exc.field == "max_years"


def test_an_item_without_deliveries_is_removed(cast, policy):
    item = make_item(policy, zones=[cast.zone_a], tags=["高新技术企业"])
    library.remove_item(item, by=cast.handler_a, version=1)
    assert not BenefitItem.objects.filter(pk=item.pk).exists()
    assert AuditRecord.objects.filter(action="policies.item_remove", object_id=str(item.pk)).exists()


def test_an_item_with_deliveries_is_not_removed(cast, policy):
    item = make_item(policy)
    Delivery.objects.create(
        item=item,
        enterprise=cast.ent_a1,
        zone=cast.zone_a,
        channel=PushChannel.STEWARD,
        pushed_by=cast.steward_a,
    )
    with pytest.raises(ServiceError, match="已有企业兑现记录，不能删除"):
        library.remove_item(item, by=cast.handler_a)
    assert BenefitItem.objects.filter(pk=item.pk).exists()


def test_an_item_is_not_removed_from_a_stale_page(cast, policy):
    item = make_item(policy)
    library.update_item(item, by=cast.handler_a, version=1, name="改名")
    with pytest.raises(Conflict):
        library.remove_item(item, by=cast.handler_a, version=1)
    assert BenefitItem.objects.filter(pk=item.pk).exists()


def test_a_steward_removes_no_item(cast, policy):
    item = make_item(policy)
    with pytest.raises(NotAllowed):
        library.remove_item(item, by=cast.steward_a)


# --- attachments ------------------------------------------------------------------------------------


def test_a_keeper_attaches_files_checked_by_content(cast, policy, settings):
    rows = library.add_attachments(
        policy,
        [
            SimpleUploadedFile("政策原文.pdf", PDF, "application/pdf"),
            SimpleUploadedFile("申报表.txt", "申报表".encode()),
        ],
        by=cast.handler_a,
    )
    assert [(row.name, row.content_type) for row in rows] == [
        ("政策原文.pdf", "application/pdf"),
        ("申报表.txt", "text/plain; charset=utf-8"),
    ]
    assert all(attachments.stored_path(row.storage_key).exists() for row in rows)
    assert AuditRecord.objects.filter(action="policies.attachment_add", object_id=str(policy.pk)).exists()


def test_a_file_that_is_not_what_it_says_refuses_the_whole_upload(cast, policy, settings):
    with pytest.raises(attachments.AttachmentRefused, match="“通知.pdf”不是允许上传的文件类型"):
        library.add_attachments(
            policy,
            [
                SimpleUploadedFile("正文.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("通知.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "application/pdf"),
            ],
            by=cast.handler_a,
        )
    assert not PolicyAttachment.objects.exists()
    stored = [p for p in settings.ATTACHMENTS_DIR.rglob("*") if p.is_file()]
    assert stored == []


def test_only_keepers_attach_files(cast, policy):
    with pytest.raises(NotAllowed):
        library.add_attachments(policy, [SimpleUploadedFile("a.pdf", PDF)], by=cast.steward_a)
    assert not PolicyAttachment.objects.exists()


def test_a_download_is_audited(cast, policy):
    (row,) = library.add_attachments(policy, [SimpleUploadedFile("a.pdf", PDF)], by=cast.handler_a)
    response = library.download(row, by=cast.steward_a)
    assert response.getvalue() == PDF
    handle = response.file_to_stream
    assert handle is not None
    handle.close()  # not response.close(): that ends the "request" and closes the test's connection
    record = AuditRecord.objects.get(action="policies.attachment_download")
    assert record.actor == cast.steward_a
