"""An answered 咨询 appeal becomes a knowledge entry: by a keeper of the department that answered it,
or by the zone's dispatcher for that department; never an appeal that is not an answered consultation."""

from __future__ import annotations

import pytest

from guanjia.appeals.models import Handling
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.roles import Role
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry, EntryStatus
from guanjia.knowledge.tests.entries_helpers import consult_appeal, department
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def test_the_draft_takes_the_title_the_lead_answer_and_the_category(cast):
    appeal = consult_appeal(cast)
    draft = entries.entry_draft_from_appeal(appeal, by=cast.handler_a)
    assert draft["question"] == appeal.title
    assert draft["answer"] == "携带变更登记申请书和章程修正案到窗口办理。"
    assert draft["category"] == appeal.category
    assert draft["department"] == cast.market_a


def test_the_answering_departments_handler_turns_it_into_a_draft_entry(cast):
    appeal = consult_appeal(cast)
    made = entries.create_entry(
        by=cast.handler_a,
        question="变更经营范围要什么材料",
        answer="变更登记申请书、章程修正案。",
        source_appeal=appeal,
    )
    assert made.source_appeal == appeal and made.department == cast.market_a
    assert made.status == EntryStatus.DRAFT


def test_the_dispatcher_names_an_answering_department(cast):
    appeal = consult_appeal(cast)
    made = entries.create_entry(
        by=cast.dispatcher_a, question="问题", answer="解答", source_appeal=appeal, department=cast.market_a
    )
    assert made.department == cast.market_a
    tax = department(cast.zone_a, "zone-a-tax", "高新区税务局")
    with pytest.raises(entries.InvalidField, match="答复过该诉求的部门"):
        entries.create_entry(
            by=cast.dispatcher_a, question="问题", answer="解答", source_appeal=appeal, department=tax
        )
    assert entries.departments_for_appeal(appeal, cast.dispatcher_a) == [cast.market_a]


@pytest.mark.parametrize("answered, handling", [(False, Handling.CONSULT), (True, Handling.NORMAL)])
def test_only_an_answered_consultation_becomes_an_entry(cast, answered, handling):
    appeal = consult_appeal(cast, answered=answered, handling=handling)
    with pytest.raises(ServiceError, match="已答复的咨询类诉求"):
        entries.entry_draft_from_appeal(appeal, by=cast.handler_a)
    with pytest.raises(ServiceError, match="已答复的咨询类诉求"):
        entries.create_entry(by=cast.handler_a, question="问题", answer="解答", source_appeal=appeal)
    assert not Entry.objects.exists()


def test_who_may_not_turn_it_into_an_entry(cast):
    appeal = consult_appeal(cast)
    tax_handler = make_user(
        "tax_handler", department(cast.zone_a, "zone-a-tax", "高新区税务局"), Role.HANDLER
    )
    zone_b_dispatcher = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    for outsider in (
        tax_handler,
        zone_b_dispatcher,
        cast.supervisor_a,
        cast.leader_a,
        cast.steward_a,
        cast.ent_user_a1,
    ):
        with pytest.raises(NotAllowed):
            entries.entry_draft_from_appeal(appeal, by=outsider)
        with pytest.raises(NotAllowed):
            entries.create_entry(by=outsider, question="问题", answer="解答", source_appeal=appeal)
    assert not Entry.objects.exists()


def test_a_keeper_turning_an_appeal_keeps_it_in_its_own_department(cast):
    appeal = consult_appeal(cast)
    tax = department(cast.zone_a, "zone-a-tax", "高新区税务局")
    with pytest.raises(entries.InvalidField):
        entries.create_entry(
            by=cast.handler_a, question="问题", answer="解答", source_appeal=appeal, department=tax
        )
