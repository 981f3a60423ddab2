"""Sourced leads: the cadre submits one; a promoter of the zone takes it into the investment pipeline (a
target found or added, a Lead with source 挂职干部, linked back) or declines it with a reason."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.exchange import sourcing
from guanjia.exchange.models import SourcedLead, SourcedLeadStatus
from guanjia.exchange.tests.helpers import build_scene, make_sourced_lead
from guanjia.investment.models import Lead, LeadSource, LeadStatus, Target
from guanjia.investment.tests.helpers import make_chain, make_promoter, make_target, node
from guanjia.testing import USCC_B1

USCC = "91320583MA1MXXXX0X"  # not valid: the check digit is wrong


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


@pytest.fixture
def sourced(scene):
    return make_sourced_lead(scene.secondment, industry="储能")


# --- the cadre's submission ---------------------------------------------------------------------------


def test_the_cadre_submits_a_sourced_lead_that_waits_for_a_promoter(scene):
    sourced = sourcing.submit(
        scene.secondment,
        by=scene.cadre,
        company_name="  示例 储能   科技有限公司 ",
        summary="拟新建储能电池基地。",
        uscc=USCC_B1.lower(),
        contact_name="李总",
        contact_phone="139 1234 5678",
    )

    assert sourced.status == SourcedLeadStatus.SUBMITTED
    assert (sourced.company_name, sourced.uscc) == ("示例 储能 科技有限公司", USCC_B1)
    assert AuditRecord.objects.filter(
        action="exchange.sourced_lead_submit", object_id=str(sourced.pk)
    ).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"company_name": " "}, "企业名称：请填写"),
        ({"summary": ""}, "项目情况：请填写"),
        ({"uscc": USCC}, "统一社会信用代码"),
        ({"contact_phone": "电话13912345678"}, "联系电话"),
        ({"contact_name": "", "contact_phone": "13912345678"}, "联系人：填写了联系电话时请填写联系人"),
    ],
)
def test_a_submission_is_checked_field_by_field(scene, fields, message):
    values = {"company_name": "示例储能科技有限公司", "summary": "拟投资。", "contact_name": "李总"}
    values.update(fields)
    with pytest.raises(ServiceError, match=message):
        sourcing.submit(scene.secondment, by=scene.cadre, **values)
    assert not SourcedLead.objects.exists()


def test_only_the_cadre_of_the_secondment_submits(cast, scene):
    for who in (scene.cadre2, cast.supervisor_a, cast.promoter_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            sourcing.submit(scene.secondment, by=who, company_name="某公司", summary="拟投资。")


def test_the_cadre_corrects_its_lead_while_it_waits_and_a_stale_edit_loses(scene, sourced):
    sourcing.update_sourced(sourced, by=scene.cadre, version=1, industry="新型储能")
    with pytest.raises(Conflict):
        sourcing.update_sourced(sourced, by=scene.cadre, version=1, industry="储能")
    with pytest.raises(NotAllowed):
        sourcing.update_sourced(sourced, by=scene.cadre2, version=2, industry="储能")
    assert SourcedLead.objects.get(pk=sourced.pk).industry == "新型储能"


# --- take --------------------------------------------------------------------------------------------


def test_a_promoter_takes_it_into_an_investment_lead_with_source_seconded_cadre(cast, scene, sourced):
    lead = sourcing.take(sourced, by=cast.promoter_a)

    stored = SourcedLead.objects.get(pk=sourced.pk)
    assert (stored.status, stored.lead, stored.decided_by) == (SourcedLeadStatus.TAKEN, lead, cast.promoter_a)
    assert stored.version == 2
    assert (lead.source, lead.status, lead.owner, lead.zone) == (
        LeadSource.SECONDED_CADRE,
        LeadStatus.NEW,
        cast.promoter_a,
        cast.zone_a,
    )
    assert str(scene.cadre) in lead.source_detail and "昆山高新区管委会" in lead.source_detail
    assert "储能" in lead.summary and "储能电池生产基地" in lead.summary
    target = lead.target
    assert (target.zone, target.name) == (cast.zone_a, "示例储能科技有限公司")
    contact = lead.contacts.get()
    assert (contact.name, contact.phone) == ("李总", "13912345678")
    assert lead.sourced_from == stored
    assert AuditRecord.objects.filter(action="exchange.sourced_lead_take", object_id=str(sourced.pk)).exists()


def test_a_take_reuses_the_zones_target_with_the_same_uscc_or_name(cast, scene):
    by_code = make_target(cast.zone_a, "示例物流股份有限公司", uscc=USCC_B1)
    by_name = make_target(cast.zone_a, "示例储能科技有限公司")
    make_target(cast.zone_b, "示例氢能有限公司")  # zone B's library is not zone A's

    first = sourcing.take(
        make_sourced_lead(scene.secondment, company_name="示例物流有限公司", uscc=USCC_B1), by=cast.promoter_a
    )
    second = sourcing.take(make_sourced_lead(scene.secondment), by=cast.promoter_a)
    third = sourcing.take(
        make_sourced_lead(scene.secondment, company_name="示例氢能有限公司"), by=cast.promoter_a
    )

    assert first.target == by_code
    assert second.target == by_name
    assert third.target.zone == cast.zone_a and third.target.name == "示例氢能有限公司"
    assert Target.objects.filter(zone=cast.zone_a).count() == 3


def test_the_taker_chooses_the_owner_among_the_zones_promoters_and_a_node(cast, scene, sourced):
    colleague = make_promoter("promoter_a2", cast.zone_a)
    chain = make_chain(cast.zone_a, cast.promoter_a)

    lead = sourcing.take(sourced, by=cast.promoter_a, owner=colleague, node=node(chain, "电芯"))

    assert (lead.owner, lead.node) == (colleague, node(chain, "电芯"))


def test_a_refused_take_leaves_nothing_behind(cast, scene, sourced):
    with pytest.raises(ServiceError, match="负责人"):
        sourcing.take(sourced, by=cast.promoter_a, owner=cast.leader_a)

    stored = SourcedLead.objects.get(pk=sourced.pk)
    assert (stored.status, stored.lead, stored.version) == (SourcedLeadStatus.SUBMITTED, None, 1)
    assert sourced.status == SourcedLeadStatus.SUBMITTED  # the caller's copy too
    assert not Lead.objects.exists() and not Target.objects.exists()


def test_only_a_promoter_of_the_zone_takes(cast, scene, sourced):
    promoter_b = make_promoter("promoter_b", cast.zone_b)
    for who in (promoter_b, cast.leader_a, cast.supervisor_a, scene.cadre):
        with pytest.raises(NotAllowed):
            sourcing.take(sourced, by=who)
    assert not Lead.objects.exists()


def test_a_sourced_lead_is_taken_once(cast, scene, sourced):
    again = SourcedLead.objects.get(pk=sourced.pk)
    sourcing.take(sourced, by=cast.promoter_a)

    with pytest.raises(Conflict, match="已由 promoter_a 转为招商线索"):
        sourcing.take(again, by=cast.promoter_a)
    with pytest.raises(Conflict):
        sourcing.decline(sourced, by=cast.promoter_a, reason="x")
    assert Lead.objects.count() == 1
    with pytest.raises(ServiceError, match="不能再修改"):
        sourcing.update_sourced(sourced, by=scene.cadre, version=sourced.version, industry="x")


# --- decline -----------------------------------------------------------------------------------------


def test_a_decline_needs_a_reason(cast, sourced):
    with pytest.raises(ServiceError, match="不予跟进原因：请填写"):
        sourcing.decline(sourced, by=cast.promoter_a, reason="  ")
    assert SourcedLead.objects.get(pk=sourced.pk).status == SourcedLeadStatus.SUBMITTED

    sourcing.decline(sourced, by=cast.promoter_a, reason="不符合产业定位")

    stored = SourcedLead.objects.get(pk=sourced.pk)
    assert (stored.status, stored.decline_reason, stored.decided_by) == (
        SourcedLeadStatus.DECLINED,
        "不符合产业定位",
        cast.promoter_a,
    )
    with pytest.raises(Conflict, match="不予跟进"):
        sourcing.take(SourcedLead.objects.get(pk=sourced.pk), by=cast.promoter_a)


def test_only_a_promoter_of_the_zone_declines(cast, scene, sourced):
    for who in (cast.leader_a, cast.supervisor_a, scene.cadre):
        with pytest.raises(NotAllowed):
            sourcing.decline(sourced, by=who, reason="不跟进")


def test_a_stale_decline_loses(cast, sourced):
    with pytest.raises(Conflict):
        sourcing.decline(sourced, by=cast.promoter_a, reason="不跟进", version=5)


# --- who sees the contact's phone --------------------------------------------------------------------


def test_the_contacts_phone_is_masked_for_leaders_only(cast, scene, sourced):
    assert sourcing.contact_phone_for(cast.leader_a, sourced) == "139****5678"
    assert sourcing.contact_phone_for(None, sourced) == "139****5678"
    for who in (cast.promoter_a, cast.supervisor_a, scene.cadre):
        assert sourcing.contact_phone_for(who, sourced) == "13912345678"
