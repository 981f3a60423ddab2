"""Matching funds and financing needs: each score is worked out by hand from the rule in financing.py.

Score = focus (40 on a node the fund focuses on, 25 on a chain it focuses on, 10 if the fund names no
focus, else 0) + stage (30 the need's round is among the fund's stages, 10 either side blank, 0 not
among them) + ticket (30 within [min, max], else 0). The fund must provide the need's kind; a fund
scoring 0 on both focus and ticket is not suggested.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.models import (
    FinancingKind,
    FinancingNeed,
    Fund,
    IndustryChain,
    InvestmentStage,
    NodePlacement,
)
from guanjia.investment.tests.helpers import make_chain, node

pytestmark = pytest.mark.django_db


# --- builders shared by the financing tests ---------------------------------------------------------


def make_fund(zone, by, name: str, **fields) -> Fund:
    """A fund through the service: equity, any stage, 500–3000 万元 unless told otherwise."""
    fields.setdefault("manager", "示例资本管理有限公司")
    fields.setdefault("size", Decimal("100000"))
    fields.setdefault("ticket_min", Decimal("500"))
    fields.setdefault("ticket_max", Decimal("3000"))
    fields.setdefault("kinds", [FinancingKind.EQUITY])
    return financing.create_fund(zone=zone, by=by, name=name, **fields)


def make_need(enterprise, by, amount: str = "1000", **fields) -> FinancingNeed:
    """An open need through the service: equity, round A, needed in 60 days unless told otherwise."""
    fields.setdefault("kind", FinancingKind.EQUITY)
    fields.setdefault("stage", InvestmentStage.EARLY)
    fields.setdefault("purpose", "扩建电芯产线")
    fields.setdefault("needed_by", today() + timedelta(days=60))
    return financing.post_need(enterprise, by=by, amount=Decimal(amount), **fields)


def place(enterprise, chain_node) -> NodePlacement:
    return NodePlacement.objects.create(node=chain_node, enterprise=enterprise)


class Scene:
    """Zone A's 新能源 chain (材料, 正极材料, 负极材料, 电芯, 储能系统) and a 生物医药 chain (原料药);
    ent_a1 is placed on 电芯, ent_a2 on 正极材料."""

    def __init__(self, cast) -> None:
        self.cast = cast
        self.promoter = cast.promoter_a
        self.energy = make_chain(cast.zone_a, cast.promoter_a)
        self.pharma = IndustryChain.objects.create(
            zone=cast.zone_a, name="生物医药", created_by=cast.promoter_a
        )
        self.api_node = self.pharma.nodes.create(name="原料药", segment="up", position=1)
        self.cell = node(self.energy, "电芯")
        self.cathode = node(self.energy, "正极材料")
        place(cast.ent_a1, self.cell)
        place(cast.ent_a2, self.cathode)

    def fund(self, name: str, **fields) -> Fund:
        return make_fund(self.cast.zone_a, self.promoter, name, **fields)


@pytest.fixture
def scene(cast) -> Scene:
    return Scene(cast)


def scores(matches) -> list[tuple[str, int]]:
    return [(m.fund.name, m.score) for m in matches]


# --- a need's matches ------------------------------------------------------------------------------


def test_node_focus_beats_chain_focus_beats_no_focus(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, stage=InvestmentStage.EARLY)
    scene.fund("A 电芯基金", focus_nodes=[scene.cell], stages=[InvestmentStage.EARLY])  # 40 + 30 + 30
    scene.fund("B 新能源基金", focus_chains=[scene.energy], stages=[InvestmentStage.EARLY])  # 25 + 30 + 30
    scene.fund("C 综合基金", stages=[InvestmentStage.EARLY])  # 10 + 30 + 30

    matches = financing.matches_for_need(need)

    assert scores(matches) == [("A 电芯基金", 100), ("B 新能源基金", 85), ("C 综合基金", 70)]
    assert [(m.focus, m.stage, m.ticket) for m in matches] == [(40, 30, 30), (25, 30, 30), (10, 30, 30)]
    assert "关注环节：电芯 ✓" in matches[0].reasons
    assert "关注产业链：新能源 ✓" in matches[1].reasons
    assert "不限行业" in matches[2].reasons


def test_a_stage_mismatch_ranks_lower_and_says_so(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, stage=InvestmentStage.EARLY)
    scene.fund("A 早期基金", focus_nodes=[scene.cell], stages=[InvestmentStage.SEED, InvestmentStage.ANGEL])
    scene.fund("B 不限阶段基金", focus_nodes=[scene.cell])  # the fund names no stage: 10
    scene.fund("C 成长基金", focus_nodes=[scene.cell], stages=[InvestmentStage.EARLY, InvestmentStage.GROWTH])

    matches = financing.matches_for_need(need)

    # 40+30+30, 40+10+30, 40+0+30
    assert scores(matches) == [("C 成长基金", 100), ("B 不限阶段基金", 80), ("A 早期基金", 70)]
    assert "投资阶段：A轮 ✓" in matches[0].reasons
    assert "投资阶段：不限" in matches[1].reasons
    assert "投资阶段不符（基金投：种子期、天使轮）" in matches[2].reasons


def test_a_need_without_a_round_scores_the_open_stage(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, stage="")
    scene.fund("A 电芯基金", focus_nodes=[scene.cell], stages=[InvestmentStage.GROWTH])

    [match] = financing.matches_for_need(need)

    assert (match.focus, match.stage, match.ticket, match.score) == (40, 10, 30, 80)
    assert "融资轮次未填写" in match.reasons


def test_an_amount_outside_the_ticket_range_ranks_lower(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, amount="1000")
    scene.fund("A 小额基金", focus_nodes=[scene.cell], ticket_min=Decimal("100"), ticket_max=Decimal("500"))
    scene.fund("B 大额基金", focus_nodes=[scene.cell], ticket_min=Decimal("2000"), ticket_max=Decimal("9000"))
    scene.fund("C 合适基金", focus_nodes=[scene.cell], ticket_min=Decimal("1000"), ticket_max=Decimal("1000"))

    matches = financing.matches_for_need(need)

    # stage: the funds name none (10); the ticket is inclusive at both ends.
    assert scores(matches) == [("C 合适基金", 80), ("A 小额基金", 50), ("B 大额基金", 50)]
    assert "金额超出单笔投资范围（上限 500 万元）" in matches[1].reasons
    assert "低于单笔投资下限（2000 万元）" in matches[2].reasons


def test_a_fund_fitting_neither_industry_nor_amount_is_not_suggested(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, amount="1000")
    scene.fund(
        "A 医药大额基金", focus_chains=[scene.pharma], ticket_min=Decimal("2000"), ticket_max=Decimal("5000")
    )
    scene.fund("B 医药基金", focus_chains=[scene.pharma])  # 0 + 10 + 30: the amount fits, so it is shown

    matches = financing.matches_for_need(need)

    assert scores(matches) == [("B 医药基金", 40)]
    assert "行业不符：企业所在环节不在基金关注范围内" in matches[0].reasons


def test_an_enterprise_not_placed_on_any_chain_gets_no_focus_points(scene, promoter_b):
    cast = scene.cast
    chain_b = make_chain(cast.zone_b, promoter_b, name="物流")
    need = make_need(cast.ent_b1, promoter_b, stage="")
    make_fund(cast.zone_b, promoter_b, "A 不限行业基金")  # 10 + 10 + 30
    make_fund(cast.zone_b, promoter_b, "B 物流基金", focus_chains=[chain_b])  # 0 + 10 + 30

    matches = financing.matches_for_need(need)

    assert scores(matches) == [("A 不限行业基金", 50), ("B 物流基金", 40)]
    assert "行业不符：企业尚未标注产业链环节" in matches[1].reasons


def test_the_fund_must_provide_the_kind_of_money(scene):
    loan = make_need(scene.cast.ent_a1, scene.promoter, kind=FinancingKind.LOAN, stage="")
    scene.fund("A 股权基金", focus_nodes=[scene.cell])
    scene.fund("B 科技贷", focus_nodes=[scene.cell], kinds=[FinancingKind.LOAN, FinancingKind.DEBT])

    assert scores(financing.matches_for_need(loan)) == [("B 科技贷", 80)]


def test_only_funds_of_the_enterprise_zone_are_matched(scene, promoter_b):
    need = make_need(scene.cast.ent_a1, scene.promoter)
    make_fund(scene.cast.zone_b, promoter_b, "经开区基金")
    scene.fund("高新区基金")

    assert [m.fund.name for m in financing.matches_for_need(need)] == ["高新区基金"]


def test_a_full_ranking_with_ties_broken_by_fund_name(scene):
    need = make_need(scene.cast.ent_a1, scene.promoter, amount="1000", stage=InvestmentStage.EARLY)
    early = [InvestmentStage.EARLY]
    scene.fund("F 电芯基金", focus_nodes=[scene.cell], stages=early)  # 100
    scene.fund("E 新能源基金", focus_chains=[scene.energy], stages=early)  # 85
    scene.fund("D 不限阶段电芯基金", focus_nodes=[scene.cell])  # 80
    scene.fund("C 超额电芯基金", focus_nodes=[scene.cell], stages=early, ticket_max=Decimal("800"))  # 70
    scene.fund("B 阶段不符电芯基金", focus_nodes=[scene.cell], stages=[InvestmentStage.SEED])  # 70
    scene.fund("A 综合基金", stages=early)  # 70
    scene.fund("G 医药基金", focus_nodes=[scene.api_node], stages=early)  # 60
    scene.fund(
        "H 医药大额基金", focus_nodes=[scene.api_node], ticket_min=Decimal("5000"), ticket_max=Decimal("9000")
    )
    scene.fund("I 债权基金", focus_nodes=[scene.cell], kinds=[FinancingKind.DEBT])

    assert scores(financing.matches_for_need(need)) == [
        ("F 电芯基金", 100),
        ("E 新能源基金", 85),
        ("D 不限阶段电芯基金", 80),
        ("A 综合基金", 70),
        ("B 阶段不符电芯基金", 70),
        ("C 超额电芯基金", 70),
        ("G 医药基金", 60),
    ]


# --- a fund's matches ------------------------------------------------------------------------------


def test_a_fund_lists_the_open_needs_that_fit_it_best(scene):
    cast = scene.cast
    fund = scene.fund("电芯基金", focus_nodes=[scene.cell], focus_chains=[], stages=[InvestmentStage.EARLY])
    on_node = make_need(cast.ent_a1, scene.promoter, amount="1000")  # 40 + 30 + 30
    on_chain_only = make_need(cast.ent_a2, scene.promoter, amount="1000")  # 0 (node not in focus) + 30 + 30
    too_big = make_need(
        cast.ent_a1, scene.promoter, amount="9000", stage=InvestmentStage.GROWTH
    )  # 40 + 0 + 0
    withdrawn = make_need(cast.ent_a1, scene.promoter)
    financing.withdraw_need(withdrawn, by=scene.promoter, version=withdrawn.version)
    make_need(cast.ent_a1, scene.promoter, kind=FinancingKind.LOAN, stage="")  # a loan: not this fund's

    matches = financing.matches_for_fund(fund)

    assert [(m.need.pk, m.score) for m in matches] == [
        (on_node.pk, 100),
        (on_chain_only.pk, 60),
        (too_big.pk, 40),
    ]
    assert "金额超出单笔投资范围（上限 3000 万元）" in matches[2].reasons


def test_a_fund_matches_in_a_fixed_number_of_queries(scene, django_assert_max_num_queries):
    cast = scene.cast
    fund = Fund.objects.get(pk=scene.fund("新能源基金", focus_chains=[scene.energy]).pk)
    for _ in range(3):
        make_need(cast.ent_a1, scene.promoter)
        make_need(cast.ent_a2, scene.promoter)
    with django_assert_max_num_queries(5):
        assert len(financing.matches_for_fund(fund)) == 6
    for _ in range(10):
        make_need(cast.ent_a2, scene.promoter)
    fund = Fund.objects.get(pk=fund.pk)
    with django_assert_max_num_queries(5):
        assert len(financing.matches_for_fund(fund)) == 16


def test_a_need_matches_in_a_fixed_number_of_queries(scene, django_assert_max_num_queries):
    need = make_need(scene.cast.ent_a1, scene.promoter)
    for i in range(6):
        scene.fund(f"基金{i}", focus_nodes=[scene.cell], focus_chains=[scene.energy])
    need = FinancingNeed.objects.select_related("enterprise").get(pk=need.pk)
    with django_assert_max_num_queries(4):
        assert len(financing.matches_for_need(need)) == 6
