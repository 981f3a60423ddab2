"""The listing pipeline's services: stages move only forward, dated in order and not in the future;
going back or redating is a correction by the zone's leaders and supervisors only, with a reason, audited;
intermediaries, problems raised as appeals through the steward channel, supports linked to a delivered
benefit; the figures worked out by hand; the export's text cells; who may and who may not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from guanjia.appeals.models import Appeal, Channel, Status
from guanjia.capital import exporting, listings
from guanjia.capital.access import may_read, phone_for, today
from guanjia.capital.models import Board, IntermediaryRole, ListingCandidate, ListingStage, ListingStageMove
from guanjia.capital.tests.helpers import candidate_of, days_ago, place
from guanjia.core.errors import Conflict, InvalidField, NotAllowed
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.policies.models import BenefitItem, Delivery, DeliveryStatus, Policy, PushChannel
from guanjia.policies.tests.helpers import make_policy
from guanjia.testing import make_user

S = ListingStage
pytestmark = pytest.mark.django_db


# --- creating ----------------------------------------------------------------------------------------


def test_a_promoter_enters_an_enterprise_of_its_zone_once(cast):
    candidate = candidate_of(cast, stage=S.RESTRUCTURING, entered=30)

    assert (candidate.zone_id, candidate.stage, candidate.version) == (cast.zone_a.pk, S.RESTRUCTURING, 1)
    assert candidate.stage_entered_on == days_ago(30)
    entry = ListingStageMove.objects.get(candidate=candidate)
    assert (entry.from_stage, entry.to_stage, entry.on, entry.is_correction) == (
        "",
        S.RESTRUCTURING,
        days_ago(30),
        False,
    )
    assert (
        AuditRecord.objects.filter(action="capital.listing_create", object_id=str(candidate.pk)).count() == 1
    )
    with pytest.raises(InvalidField) as refused:
        candidate_of(cast)
    assert refused.value.field == "enterprise" and "已在上市后备企业库中" in str(refused.value)


def test_who_may_not_enter_a_candidate(cast):
    promoter_b = make_user("promoter_b", cast.zone_b, Role.PROMOTER)
    for user in (
        cast.leader_a,
        cast.supervisor_a,
        cast.steward_a,
        cast.ent_user_a1,
        promoter_b,
        cast.sysadmin,
    ):
        with pytest.raises(NotAllowed):
            listings.create_candidate(enterprise=cast.ent_a1, board=Board.MAIN, by=user)
    assert not ListingCandidate.objects.exists()


def test_creation_input_is_checked_field_by_field(cast):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"board": "nasdaq"}, "board"),
        ({"stage": "ipo"}, "stage"),
        ({"stage_entered_on": today() + timedelta(days=1)}, "stage_entered_on"),
        ({"planned_year": 1999}, "planned_year"),
        ({"stock_code": "688001"}, "stock_code"),  # not listed yet
        ({"stage": S.LISTED, "stock_code": "68 8001"}, "stock_code"),
    ]
    for fields, field in cases:
        kwargs = {"enterprise": cast.ent_a1, "board": Board.STAR, "by": cast.promoter_a, **fields}
        with pytest.raises(InvalidField) as refused:
            listings.create_candidate(**kwargs)
        assert refused.value.field == field, fields
    assert not ListingCandidate.objects.exists()


# --- moving forward ------------------------------------------------------------------------------------


def test_a_stage_moves_forward_skipping_allowed_and_history_is_kept(cast):
    candidate = candidate_of(cast, entered=100)

    listings.move_stage(candidate, to=S.TUTORING, on=days_ago(40), by=cast.promoter_a, note="股改与辅导同步")

    stored = ListingCandidate.objects.get(pk=candidate.pk)
    assert (stored.stage, stored.stage_entered_on, stored.version) == (S.TUTORING, days_ago(40), 2)
    moves = list(stored.moves.order_by("on", "pk").values_list("from_stage", "to_stage", "on"))
    assert moves == [("", S.CULTIVATING, days_ago(100)), (S.CULTIVATING, S.TUTORING, days_ago(40))]
    audit = AuditRecord.objects.get(action="capital.listing_move")
    assert audit.detail["from"] == S.CULTIVATING and audit.detail["to"] == S.TUTORING


def test_a_move_never_goes_back_nor_stays(cast):
    candidate = candidate_of(cast, stage=S.TUTORING, entered=20)
    for stage in (S.CULTIVATING, S.RESTRUCTURING, S.TUTORING):
        with pytest.raises(InvalidField) as refused:
            listings.move_stage(candidate, to=stage, on=today(), by=cast.promoter_a)
        assert refused.value.field == "to"
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.TUTORING


def test_a_move_is_dated_not_before_the_previous_one_and_not_in_the_future(cast):
    candidate = candidate_of(cast, entered=20)
    with pytest.raises(InvalidField) as early:
        listings.move_stage(candidate, to=S.RESTRUCTURING, on=days_ago(21), by=cast.promoter_a)
    with pytest.raises(InvalidField) as future:
        listings.move_stage(candidate, to=S.RESTRUCTURING, on=today() + timedelta(days=1), by=cast.promoter_a)
    assert early.value.field == future.value.field == "on"
    listings.move_stage(
        candidate, to=S.RESTRUCTURING, on=days_ago(20), by=cast.promoter_a
    )  # the same day is fine
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.RESTRUCTURING


def test_reaching_listed_takes_the_stock_code(cast):
    candidate = candidate_of(cast, stage=S.REVIEWING, entered=10)
    listings.move_stage(candidate, to=S.LISTED, on=today(), by=cast.promoter_a, stock_code="688001")
    assert ListingCandidate.objects.get(pk=candidate.pk).stock_code == "688001"


def test_a_stale_version_is_refused(cast):
    candidate = candidate_of(cast)
    with pytest.raises(Conflict):
        listings.move_stage(candidate, to=S.RESTRUCTURING, on=today(), by=cast.promoter_a, version=7)
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.CULTIVATING


def test_who_may_not_move_a_stage(cast):
    candidate = candidate_of(cast)
    promoter_b = make_user("promoter_b", cast.zone_b, Role.PROMOTER)
    for user in (cast.leader_a, cast.supervisor_a, cast.steward_a, promoter_b, cast.dispatcher_a):
        with pytest.raises(NotAllowed):
            listings.move_stage(candidate, to=S.RESTRUCTURING, on=today(), by=user)
    assert ListingCandidate.objects.get(pk=candidate.pk).version == 1


# --- corrections ------------------------------------------------------------------------------------------


def test_a_leader_corrects_back_with_a_reason_and_the_undone_moves_are_voided(cast):
    candidate = candidate_of(cast, entered=100)
    listings.move_stage(candidate, to=S.RESTRUCTURING, on=days_ago(60), by=cast.promoter_a)
    listings.move_stage(candidate, to=S.FILED, on=days_ago(10), by=cast.promoter_a)

    listings.correct_stage(
        candidate, to=S.RESTRUCTURING, on=days_ago(55), reason="误录为申报受理", by=cast.leader_a
    )

    stored = ListingCandidate.objects.get(pk=candidate.pk)
    assert (stored.stage, stored.stage_entered_on, stored.version) == (S.RESTRUCTURING, days_ago(55), 4)
    rows = list(
        stored.moves.order_by("pk").values_list("to_stage", "on", "is_correction", "voided", "reason")
    )
    assert rows == [
        (S.CULTIVATING, days_ago(100), False, False, ""),
        (S.RESTRUCTURING, days_ago(60), False, True, ""),
        (S.FILED, days_ago(10), False, True, ""),
        (S.RESTRUCTURING, days_ago(55), True, False, "误录为申报受理"),
    ]
    audit = AuditRecord.objects.get(action="capital.listing_correct")
    assert audit.actor == cast.leader_a
    assert audit.detail == {
        "from": S.FILED,
        "from_on": days_ago(10).isoformat(),
        "to": S.RESTRUCTURING,
        "on": days_ago(55).isoformat(),
        "reason": "误录为申报受理",
    }


def test_a_supervisor_corrects_the_date_of_the_current_stage(cast):
    candidate = candidate_of(cast, entered=100)
    listings.move_stage(candidate, to=S.RESTRUCTURING, on=days_ago(5), by=cast.promoter_a)

    listings.correct_stage(
        candidate, to=S.RESTRUCTURING, on=days_ago(50), reason="日期录错", by=cast.supervisor_a
    )

    stored = ListingCandidate.objects.get(pk=candidate.pk)
    assert (stored.stage, stored.stage_entered_on) == (S.RESTRUCTURING, days_ago(50))
    assert listings.days_in_stage(stored) == 50


def test_a_correction_needs_a_reason_a_date_in_order_and_is_not_a_move_forward(cast):
    candidate = candidate_of(cast, entered=100)
    listings.move_stage(candidate, to=S.TUTORING, on=days_ago(10), by=cast.promoter_a)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"to": S.TUTORING, "on": days_ago(20), "reason": "  "}, "reason"),
        ({"to": S.FILED, "on": days_ago(5), "reason": "提前"}, "to"),
        ({"to": S.RESTRUCTURING, "on": days_ago(101), "reason": "早于培育"}, "on"),
        ({"to": S.TUTORING, "on": days_ago(10), "reason": "没变"}, "on"),
        ({"to": S.TUTORING, "on": today() + timedelta(days=1), "reason": "未来"}, "on"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidField) as refused:
            listings.correct_stage(candidate, by=cast.leader_a, **kwargs)
        assert refused.value.field == field, kwargs
    assert ListingCandidate.objects.get(pk=candidate.pk).version == 2


def test_who_may_not_correct(cast):
    candidate = candidate_of(cast, stage=S.RESTRUCTURING, entered=10)
    leader_b = make_user("leader_b", cast.zone_b, Role.LEADER)
    for user in (cast.promoter_a, cast.steward_a, cast.dispatcher_a, leader_b):
        with pytest.raises(NotAllowed):
            listings.correct_stage(candidate, to=S.CULTIVATING, on=days_ago(20), reason="误录", by=user)
    assert not AuditRecord.objects.filter(action="capital.listing_correct").exists()


def test_a_city_leader_corrects_in_every_zone_of_its_city(cast):
    candidate = candidate_of(cast, stage=S.RESTRUCTURING, entered=10)
    listings.correct_stage(candidate, to=S.CULTIVATING, on=days_ago(10), reason="误录", by=cast.leader_city)
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.CULTIVATING


# --- intermediaries, problems, supports --------------------------------------------------------------


def test_an_intermediarys_phone_is_shown_to_writers_and_masked_for_other_readers(cast):
    candidate = candidate_of(cast)
    firm = listings.add_intermediary(
        candidate,
        role=IntermediaryRole.SPONSOR,
        firm="华泰证券",
        contact_person="陈俊",
        phone="13812345678",
        by=cast.promoter_a,
    )
    assert phone_for(cast.promoter_a, candidate, firm.phone) == "13812345678"
    for reader in (cast.leader_a, cast.supervisor_a, cast.steward_a):
        assert phone_for(reader, candidate, firm.phone) == "138****5678"
    with pytest.raises(InvalidField) as refused:
        listings.add_intermediary(candidate, role="bank", firm="某银行", by=cast.promoter_a)
    assert refused.value.field == "role"
    with pytest.raises(NotAllowed):
        listings.add_intermediary(candidate, role=IntermediaryRole.AUDITOR, firm="天健", by=cast.leader_a)


def test_a_problem_is_raised_as_an_appeal_by_the_enterprises_steward_once(cast):
    candidate = candidate_of(cast)
    problem = listings.add_problem(candidate, text="募投项目用地尚未取得不动产权证", by=cast.promoter_a)

    for user in (cast.promoter_a, cast.leader_a, cast.steward_a2, cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            listings.raise_problem(problem, by=user)
    appeal = listings.raise_problem(problem, by=cast.steward_a)

    assert (appeal.enterprise_id, appeal.channel, appeal.status) == (
        cast.ent_a1.pk,
        Channel.STEWARD,
        Status.SUBMITTED,
    )
    assert appeal.submitted_by == cast.steward_a and appeal.body == "募投项目用地尚未取得不动产权证"
    assert appeal.title == "上市培育：募投项目用地尚未取得不动产权证"
    problem.refresh_from_db()
    assert problem.appeal_id == appeal.pk
    with pytest.raises(Conflict):
        listings.raise_problem(problem, by=cast.steward_a)
    assert Appeal.objects.count() == 1


def _delivery(cast, enterprise: Enterprise, status: str = DeliveryStatus.DISBURSED) -> Delivery:  # noqa: ANN001
    policy = Policy.objects.first() or make_policy(cast.market_a, title="上市培育扶持办法")
    item = BenefitItem.objects.create(policy=policy, name="股改奖励", max_amount=Decimal("100"))
    disbursed = status == DeliveryStatus.DISBURSED
    return Delivery.objects.create(
        item=item,
        enterprise=enterprise,
        zone=enterprise.zone,
        status=status,
        channel=PushChannel.STEWARD,
        amount=Decimal("80") if disbursed else None,
        disbursed_on=days_ago(3) if disbursed else None,
    )


def test_a_support_links_a_delivered_benefit_without_copying_it(cast):
    candidate = candidate_of(cast)
    delivered = _delivery(cast, cast.ent_a1)
    support = listings.add_support(candidate, by=cast.promoter_a, granted_on=days_ago(2), delivery=delivered)
    assert (support.what, support.amount, support.delivery_id) == ("股改奖励", Decimal("80"), delivered.pk)
    with pytest.raises(InvalidField) as twice:
        listings.add_support(candidate, by=cast.promoter_a, granted_on=days_ago(1), delivery=delivered)
    assert twice.value.field == "delivery"
    pending = _delivery(cast, cast.ent_a1, DeliveryStatus.APPROVED)
    others = _delivery(cast, cast.ent_a2)
    for delivery in (pending, others):
        with pytest.raises(InvalidField) as refused:
            listings.add_support(candidate, by=cast.promoter_a, granted_on=days_ago(1), delivery=delivery)
        assert refused.value.field == "delivery"
    plain = listings.add_support(
        candidate, by=cast.promoter_a, what="上市辅导费用补贴", amount=Decimal("30"), granted_on=today()
    )
    assert plain.delivery_id is None
    shown = listings.with_figures(ListingCandidate.objects.all()).get()
    assert shown.support_total == Decimal("110")  # type: ignore[attr-defined]


# --- figures --------------------------------------------------------------------------------------------


def test_figures_by_stage_by_chain_and_average_days_worked_by_hand(cast):
    one = candidate_of(cast, enterprise=cast.ent_a1, entered=100)  # 培育 since 100 days ago
    listings.move_stage(one, to=S.RESTRUCTURING, on=days_ago(70), by=cast.promoter_a)  # 30 days in 培育
    listings.move_stage(one, to=S.TUTORING, on=days_ago(20), by=cast.promoter_a)  # 50 days in 股改
    two = candidate_of(cast, enterprise=cast.ent_a2, entered=60)
    listings.move_stage(two, to=S.RESTRUCTURING, on=days_ago(50), by=cast.promoter_a)  # 10 days in 培育
    listings.move_stage(two, to=S.TUTORING, on=days_ago(5), by=cast.promoter_a)  # mistaken
    listings.correct_stage(two, to=S.RESTRUCTURING, on=days_ago(50), reason="误录", by=cast.leader_a)
    place(cast, cast.ent_a1, "集成电路")
    place(cast, cast.ent_a1, "新能源")
    place(cast, cast.ent_a2, "集成电路")

    figures = listings.figures(ListingCandidate.objects.visible_to(cast.leader_a))

    assert figures.total == 2
    assert [(stage, n) for stage, _label, n in figures.by_stage] == [
        (S.CULTIVATING, 0),
        (S.RESTRUCTURING, 1),
        (S.TUTORING, 1),
        (S.FILED, 0),
        (S.REVIEWING, 0),
        (S.LISTED, 0),
    ]
    assert figures.by_chain == [("集成电路", 2), ("新能源", 1)]
    averages = {row.stage: (row.n, row.days) for row in figures.averages}
    # 培育: 30 and 10 days → 20.0; 股改: one stay of 50 (two's mistaken stay is voided, its stay is open).
    assert averages[S.CULTIVATING] == (2, 20.0)
    assert averages[S.RESTRUCTURING] == (1, 50.0)
    assert averages[S.TUTORING] == (0, None)
    assert listings.days_in_stage(ListingCandidate.objects.get(pk=two.pk)) == 50
    assert listings.days_in_stage(ListingCandidate.objects.get(pk=one.pk)) == 20


def test_who_reads_the_pipeline(cast):
    candidate = candidate_of(cast)
    other = candidate_of(cast, enterprise=cast.ent_a2)
    visible = ListingCandidate.objects.visible_to
    for user in (cast.promoter_a, cast.leader_a, cast.supervisor_a, cast.leader_city):
        assert set(visible(user)) == {candidate, other} and may_read(user)
    assert list(visible(cast.steward_a)) == [candidate] and may_read(cast.steward_a)
    promoter_b = make_user("promoter_b", cast.zone_b, Role.PROMOTER)
    for user in (
        promoter_b,
        cast.ent_user_a1,
        cast.dispatcher_a,
        cast.handler_a,
        cast.sysadmin,
        cast.auditor,
    ):
        assert not visible(user).exists()
    for user in (
        cast.ent_user_a1,
        cast.dispatcher_a,
        cast.sysadmin,
        cast.secadmin,
        cast.auditor,
        cast.outsider,
    ):
        assert not may_read(user)


# --- export ----------------------------------------------------------------------------------------------


def test_the_export_writes_identifiers_as_text_and_is_audited(cast):
    candidate = candidate_of(cast, stage=S.REVIEWING, entered=10)
    listings.move_stage(candidate, to=S.LISTED, on=days_ago(3), by=cast.promoter_a, stock_code="000001")
    listings.add_intermediary(
        candidate, role=IntermediaryRole.SPONSOR, firm="华泰证券", phone="13812345678", by=cast.promoter_a
    )
    listings.add_intermediary(
        candidate, role=IntermediaryRole.LAW_FIRM, firm="国浩律师事务所", by=cast.promoter_a
    )
    listings.add_problem(candidate, text="问题一", by=cast.promoter_a)
    listings.add_support(
        candidate, by=cast.promoter_a, what="上市奖励", amount=Decimal("200"), granted_on=today()
    )
    place(cast, cast.ent_a1, "集成电路")

    response = exporting.export_listings(
        ListingCandidate.objects.visible_to(cast.leader_a), cast.leader_a, filters={"board": "star"}
    )

    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == exporting.HEADERS
    assert rows[1] == (
        "示例智能制造有限公司",
        cast.ent_a1.uscc,
        "高新区",
        "集成电路",
        "科创板",
        "上市",
        days_ago(3).isoformat(),
        3,
        None,
        "000001",
        "券商：华泰证券；律所：国浩律师事务所",
        1,
        200,
    )
    uscc_cell, code_cell = sheet.cell(row=2, column=2), sheet.cell(row=2, column=10)
    assert uscc_cell.data_type == code_cell.data_type == "s"
    assert uscc_cell.number_format == code_cell.number_format == "@"
    assert b"13812345678" not in response.content
    audit = AuditRecord.objects.get(action="capital.listing_export")
    assert audit.actor == cast.leader_a and audit.detail == {"rows": 1, "filters": {"board": "star"}}
