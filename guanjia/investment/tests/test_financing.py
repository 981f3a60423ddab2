"""Funds, financing needs, roadshows and outcomes through the services: who may, the rules, the audit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import (
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    FinancingOutcome,
    Fund,
    InvestmentStage,
)
from guanjia.investment.tests.helpers import make_chain, node
from guanjia.investment.tests.test_financing_matching import make_fund, make_need
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def actions(obj) -> list[str]:
    records = AuditRecord.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return list(records.order_by("pk").values_list("action", flat=True))


# --- funds -----------------------------------------------------------------------------------------


def test_a_promoter_adds_a_fund_with_its_focus_and_ticket_range(cast):
    chain = make_chain(cast.zone_a, cast.promoter_a)
    fund = make_fund(
        cast.zone_a,
        cast.promoter_a,
        "新能源产业基金",
        focus_chains=[chain],
        focus_nodes=[node(chain, "电芯")],
        stages=[InvestmentStage.GROWTH, InvestmentStage.EARLY, InvestmentStage.EARLY],
        contact_name="张经理",
        contact_phone="13912345678",
    )
    fund.refresh_from_db()
    assert fund.stages == ["early", "growth"]  # once each, in the choices' order
    assert list(fund.focus_nodes.values_list("name", flat=True)) == ["电芯"]
    assert "investment.fund_create" in actions(fund)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size": Decimal("-1")}, "基金规模：不能为负数"),
        ({"ticket_min": Decimal("-5")}, "单笔投资下限：不能为负数"),
        ({"ticket_max": Decimal("0"), "ticket_min": Decimal("0")}, "单笔投资上限：必须大于 0"),
        ({"ticket_min": Decimal("800"), "ticket_max": Decimal("500")}, "单笔投资上限：不能低于单笔投资下限"),
        ({"kinds": []}, "投资方式：请至少选择一种"),
        ({"stages": ["series_z"]}, "投资阶段：未知的选项“series_z”"),
        ({"contact_phone": "call me"}, "联系电话：格式不正确"),
        ({"manager": " "}, "基金管理人：请填写"),
    ],
)
def test_a_fund_with_bad_figures_is_refused_naming_the_field(cast, fields, message):
    with pytest.raises(ServiceError, match=message):
        make_fund(cast.zone_a, cast.promoter_a, "坏基金", **fields)
    assert not Fund.objects.exists()


def test_a_fund_focuses_only_on_chains_of_its_own_zone(cast, promoter_b):
    chain_b = make_chain(cast.zone_b, promoter_b, name="物流")
    with pytest.raises(ServiceError, match="关注产业链：“物流”不是本园区的产业链"):
        make_fund(cast.zone_a, cast.promoter_a, "A 基金", focus_chains=[chain_b])
    with pytest.raises(ServiceError, match="关注环节：“电芯”不是本园区产业链的环节"):
        make_fund(cast.zone_a, cast.promoter_a, "A 基金", focus_nodes=[node(chain_b, "电芯")])


def test_fund_names_are_unique_in_a_zone_not_across_zones(cast, promoter_b):
    make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    with pytest.raises(ServiceError, match="基金名称：本园区已有同名基金"):
        make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    make_fund(cast.zone_b, promoter_b, "科创基金")


def test_only_the_zones_promoters_keep_its_funds(cast, promoter_b):
    for outsider in (cast.leader_a, promoter_b, cast.steward_a, cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            make_fund(cast.zone_a, outsider, "越权基金")
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    with pytest.raises(NotAllowed):
        financing.update_fund(fund, by=promoter_b, version=fund.version, name="改名")


def test_a_stale_fund_edit_loses(cast):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    stale = Fund.objects.get(pk=fund.pk)
    financing.update_fund(fund, by=cast.promoter_a, version=fund.version, ticket_max=Decimal("5000"))
    with pytest.raises(Conflict):
        financing.update_fund(stale, by=cast.promoter_a, version=stale.version, ticket_max=Decimal("4000"))
    fund.refresh_from_db()
    assert (fund.ticket_max, fund.version) == (Decimal("5000"), 2)


def test_a_fund_edit_keeps_the_rules(cast):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")  # 500–3000
    with pytest.raises(ServiceError, match="单笔投资上限：不能低于单笔投资下限"):
        financing.update_fund(fund, by=cast.promoter_a, version=fund.version, ticket_max=Decimal("400"))


def test_a_leader_sees_a_funds_phone_masked_the_promoter_in_full(cast):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金", contact_phone="13912345678")
    assert financing.fund_phone_for(cast.promoter_a, fund) == "13912345678"
    assert financing.fund_phone_for(cast.leader_a, fund) == "139****5678"


# --- financing needs -------------------------------------------------------------------------------


def test_an_enterprise_user_posts_its_own_enterprises_need(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1500.5")
    assert (need.enterprise, need.status, need.amount) == (cast.ent_a1, "open", Decimal("1500.50"))
    assert actions(need) == ["investment.financing_need_post"]


def test_an_enterprise_user_cannot_post_for_another_enterprise(cast):
    with pytest.raises(NotAllowed):
        make_need(cast.ent_a2, cast.ent_user_a1)
    EnterpriseMembership.objects.filter(user=cast.ent_user_a1).update(is_active=False)
    with pytest.raises(NotAllowed):
        make_need(cast.ent_a1, cast.ent_user_a1)


def test_a_promoter_records_a_need_for_an_enterprise_of_its_zone_only(cast, promoter_b):
    make_need(cast.ent_a2, cast.promoter_a)
    for outsider in (promoter_b, cast.leader_a, cast.steward_a):
        with pytest.raises(NotAllowed):
            make_need(cast.ent_a1, outsider)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "0"}, "融资金额：必须大于 0"),
        ({"amount": "-100"}, "融资金额：必须大于 0"),
        ({"amount": "1.234"}, "融资金额：最多保留两位小数"),
        ({"purpose": "  "}, "资金用途：请填写"),
        ({"kind": "gift"}, "融资方式：请选择"),
        ({"needed_by": date(2000, 1, 1)}, "需求时间：不能早于今天"),
    ],
)
def test_a_bad_need_is_refused_naming_the_field(cast, fields, message):
    amount = fields.pop("amount", "1000")
    with pytest.raises(ServiceError, match=message):
        make_need(cast.ent_a1, cast.ent_user_a1, amount=amount, **fields)
    assert not FinancingNeed.objects.exists()


def test_a_loan_has_no_round(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1, kind=FinancingKind.LOAN, stage=InvestmentStage.EARLY)
    assert need.stage == ""


def test_an_open_need_is_edited_a_withdrawn_one_cannot_be(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    financing.update_need(need, by=cast.ent_user_a1, version=need.version, amount=Decimal("2000"))
    financing.withdraw_need(need, by=cast.ent_user_a1, version=need.version)
    need = FinancingNeed.objects.get(pk=need.pk)
    assert (need.amount, need.status, need.version) == (Decimal("2000"), "withdrawn", 3)

    with pytest.raises(ServiceError, match="该融资需求已撤回，不能修改"):
        financing.update_need(need, by=cast.ent_user_a1, version=need.version, amount=Decimal("1"))
    with pytest.raises(ServiceError, match="已撤回，不能撤回"):
        financing.withdraw_need(need, by=cast.ent_user_a1, version=need.version)
    assert FinancingNeed.objects.get(pk=need.pk).amount == Decimal("2000")
    assert actions(need) == [
        "investment.financing_need_post",
        "investment.financing_need_update",
        "investment.financing_need_withdraw",
    ]


def test_an_edit_must_keep_the_amount_positive(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    with pytest.raises(ServiceError, match="融资金额：必须大于 0"):
        financing.update_need(need, by=cast.ent_user_a1, version=need.version, amount=Decimal("0"))


def test_a_passed_date_may_stay_but_a_new_one_must_not_be_past(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    FinancingNeed.objects.filter(pk=need.pk).update(needed_by=today() - timedelta(days=3))
    need.refresh_from_db()
    financing.update_need(need, by=cast.ent_user_a1, version=need.version, purpose="补充流动资金")
    with pytest.raises(ServiceError, match="需求时间：不能早于今天"):
        financing.update_need(
            need, by=cast.ent_user_a1, version=need.version, needed_by=today() - timedelta(days=1)
        )


def test_a_stale_edit_of_a_need_loses(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    stale = FinancingNeed.objects.get(pk=need.pk)
    financing.withdraw_need(need, by=cast.promoter_a, version=need.version)
    with pytest.raises(Conflict):
        financing.update_need(stale, by=cast.ent_user_a1, version=stale.version, amount=Decimal("5"))


def test_another_enterprises_user_cannot_touch_the_need(cast):
    other = make_user("ent_user_a2", None, "enterprise_user")
    EnterpriseMembership.objects.create(user=other, enterprise=cast.ent_a2)
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    with pytest.raises(NotAllowed):
        financing.withdraw_need(need, by=other, version=need.version)
    with pytest.raises(NotAllowed):
        financing.update_need(need, by=other, version=need.version, amount=Decimal("1"))


def test_only_a_promoter_marks_a_need_fulfilled(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    with pytest.raises(NotAllowed):
        financing.mark_fulfilled(need, by=cast.ent_user_a1, version=need.version)
    financing.mark_fulfilled(need, by=cast.promoter_a, version=need.version)
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.FULFILLED
    with pytest.raises(ServiceError, match="已融资，不能修改"):
        financing.update_need(need, by=cast.ent_user_a1, version=need.version, amount=Decimal("1"))


def test_the_enterprise_users_several_enterprises(cast):
    EnterpriseMembership.objects.create(user=cast.ent_user_a1, enterprise=cast.ent_b1)
    assert list(financing.member_enterprises(cast.ent_user_a1)) == sorted(
        [cast.ent_a1, cast.ent_b1], key=lambda e: e.name
    )
    make_need(cast.ent_b1, cast.ent_user_a1)
    assert set(FinancingNeed.objects.visible_to(cast.ent_user_a1).values_list("enterprise", flat=True)) == {
        cast.ent_b1.pk
    }


# --- roadshows and outcomes ------------------------------------------------------------------------


def roadshow_of(cast, **fields):
    fields.setdefault("title", "新能源专场路演")
    fields.setdefault("held_on", today())
    return financing.create_roadshow(zone=cast.zone_a, by=cast.promoter_a, **fields)


def test_a_roadshow_invites_funds_and_open_needs_once(cast):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    roadshow = roadshow_of(cast, location="创新中心")
    first = financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund], needs=[need])
    again = financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund, fund], needs=[need])
    assert (first.funds, first.needs, again.funds, again.needs) == (1, 1, 0, 0)
    assert list(need.roadshows.all()) == [roadshow]
    assert actions(roadshow) == ["investment.roadshow_create", "investment.roadshow_invite"]


def test_a_roadshow_refuses_other_zones_and_closed_needs(cast, promoter_b):
    roadshow = roadshow_of(cast)
    with pytest.raises(ServiceError, match="参会基金：“经开区基金”不是本园区的基金"):
        financing.invite_to_roadshow(
            roadshow, by=cast.promoter_a, funds=[make_fund(cast.zone_b, promoter_b, "经开区基金")]
        )
    with pytest.raises(ServiceError, match="不属于本园区的企业"):
        financing.invite_to_roadshow(roadshow, by=cast.promoter_a, needs=[make_need(cast.ent_b1, promoter_b)])
    withdrawn = make_need(cast.ent_a1, cast.ent_user_a1)
    financing.withdraw_need(withdrawn, by=cast.ent_user_a1, version=withdrawn.version)
    with pytest.raises(ServiceError, match="已撤回，不能邀请"):
        financing.invite_to_roadshow(roadshow, by=cast.promoter_a, needs=[withdrawn])
    with pytest.raises(ServiceError, match="请至少选择"):
        financing.invite_to_roadshow(roadshow, by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        financing.invite_to_roadshow(
            roadshow, by=promoter_b, needs=[make_need(cast.ent_a1, cast.ent_user_a1)]
        )


def test_outcomes_reaching_the_amount_fulfil_the_need(cast):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="1000")
    roadshow = roadshow_of(cast)
    financing.invite_to_roadshow(roadshow, by=cast.promoter_a, funds=[fund], needs=[need])

    financing.record_outcome(
        need, by=cast.promoter_a, amount=Decimal("600"), invested_on=today(), fund=fund, roadshow=roadshow
    )
    assert FinancingNeed.objects.get(pk=need.pk).status == FinancingNeedStatus.OPEN
    financing.record_outcome(
        need, by=cast.promoter_a, amount=Decimal("400"), invested_on=today(), investor="某银行"
    )
    stored = FinancingNeed.objects.get(pk=need.pk)
    assert (stored.status, need.status) == (FinancingNeedStatus.FULFILLED, FinancingNeedStatus.FULFILLED)
    assert financing.raised_total(need) == Decimal("1000")
    # A later tranche is still recorded; the need stays fulfilled.
    financing.record_outcome(need, by=cast.promoter_a, amount=Decimal("50"), invested_on=today(), fund=fund)
    assert FinancingOutcome.objects.filter(need=need).count() == 3
    assert actions(need).count("investment.financing_outcome_record") == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": Decimal("0")}, "投资金额：必须大于 0"),
        ({"invested_on": date(2999, 1, 1)}, "投资日期：不能晚于今天"),
        ({"fund": None, "investor": ""}, "出资方：请选择出资基金或填写出资方名称"),
    ],
)
def test_a_bad_outcome_is_refused_naming_the_field(cast, fields, message):
    fund = make_fund(cast.zone_a, cast.promoter_a, "科创基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    values = {"amount": Decimal("100"), "invested_on": today(), "fund": fund, **fields}
    with pytest.raises(ServiceError, match=message):
        financing.record_outcome(need, by=cast.promoter_a, **values)
    assert not FinancingOutcome.objects.exists()


def test_an_outcome_needs_the_roadshow_the_need_attended_and_a_fund_of_its_zone(cast, promoter_b):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    with pytest.raises(ServiceError, match="路演：该融资需求未参加路演"):
        financing.record_outcome(
            need,
            by=cast.promoter_a,
            amount=Decimal("1"),
            invested_on=today(),
            investor="某",
            roadshow=roadshow_of(cast),
        )
    with pytest.raises(ServiceError, match="出资基金：“经开区基金”不是该企业所在园区的基金"):
        financing.record_outcome(
            need,
            by=cast.promoter_a,
            amount=Decimal("1"),
            invested_on=today(),
            fund=make_fund(cast.zone_b, promoter_b, "经开区基金"),
        )
    with pytest.raises(NotAllowed):
        financing.record_outcome(
            need, by=cast.leader_a, amount=Decimal("1"), invested_on=today(), investor="某"
        )


def test_a_withdrawn_need_gets_no_outcome(cast):
    need = make_need(cast.ent_a1, cast.ent_user_a1)
    financing.withdraw_need(need, by=cast.ent_user_a1, version=need.version)
    with pytest.raises(ServiceError, match="已撤回，不能登记对接成果"):
        financing.record_outcome(
            need, by=cast.promoter_a, amount=Decimal("1"), invested_on=today(), investor="某"
        )


def test_totals_per_fund_and_per_month(cast, promoter_b):
    big = make_fund(cast.zone_a, cast.promoter_a, "A 大基金")
    small = make_fund(cast.zone_a, cast.promoter_a, "B 小基金")
    need = make_need(cast.ent_a1, cast.ent_user_a1, amount="100000")
    day = today()
    last_month = day.replace(day=1) - timedelta(days=1)
    for fund, amount, on in ((big, "300", day), (big, "200", last_month), (small, "800", day)):
        financing.record_outcome(need, by=cast.promoter_a, amount=Decimal(amount), invested_on=on, fund=fund)
    financing.record_outcome(
        need, by=cast.promoter_a, amount=Decimal("50"), invested_on=day, investor="某银行"
    )
    # Zone B's money is not zone A's.
    financing.record_outcome(
        make_need(cast.ent_b1, promoter_b),
        by=promoter_b,
        amount=Decimal("999"),
        invested_on=day,
        investor="X",
    )

    outcomes = financing.outcomes_visible_to(cast.leader_a)
    per_fund = [(t.name, t.amount, t.count) for t in financing.invested_per_fund(outcomes)]
    assert per_fund == [
        ("B 小基金", Decimal("800"), 1),
        ("A 大基金", Decimal("500"), 2),
        ("其他出资方", Decimal("50"), 1),
    ]
    per_month = [(t.period, t.amount, t.count) for t in financing.invested_per_month(outcomes)]
    assert per_month == [
        (last_month.strftime("%Y-%m"), Decimal("200"), 1),
        (day.strftime("%Y-%m"), Decimal("1150"), 3),
    ]
    assert not financing.outcomes_visible_to(cast.ent_user_a1).exists()
    assert not financing.outcomes_visible_to(cast.steward_a).exists()
