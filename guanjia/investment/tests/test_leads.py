"""Leads (招商线索): the services — the transition table, creating and changing a lead, its contacts and
contact log, and who may do each."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.investment import leads
from guanjia.investment.access import today
from guanjia.investment.models import Lead, LeadContact, LeadLog, LeadSource, LeadStatus, LeadTransition
from guanjia.investment.tests.helpers import make_chain, make_lead, make_promoter, make_target, node

S = LeadStatus


@pytest.fixture
def lead(cast, target):
    """A bare lead of zone A's promoter: no contact, no link (the shared fixture has both)."""
    return make_lead(target, cast.promoter_a)


def in_state(lead: Lead, status: str) -> Lead:
    """The lead put straight into `status` (the scene, not the move under test)."""
    reason = "投资意向转向海外" if status == S.ABANDONED else ""
    Lead.objects.filter(pk=lead.pk).update(status=status, abandon_reason=reason)
    return Lead.objects.get(pk=lead.pk)


# --- the transition table ----------------------------------------------------------------------------

ALLOWED = {
    (S.NEW, S.CONTACTING),
    (S.CONTACTING, S.NEGOTIATING),
    (S.NEW, S.ABANDONED),
    (S.CONTACTING, S.ABANDONED),
    (S.NEGOTIATING, S.ABANDONED),
    (S.ABANDONED, S.CONTACTING),
}


def test_the_table_in_code_is_the_one_the_design_names():
    in_code = {(start, to) for start, targets in leads.TRANSITIONS.items() for to in targets}
    assert in_code == ALLOWED
    assert all(to != S.CONVERTED for _start, to in in_code)


@pytest.mark.parametrize(("start", "to"), sorted(ALLOWED))
def test_every_allowed_move_works_and_leaves_a_transition_and_an_audit_record(cast, lead, start, to):
    lead = in_state(lead, start)
    reason = "对方暂停扩产计划" if to == S.ABANDONED else ""
    leads.move_lead(lead, to=to, reason=reason, by=cast.promoter_a)

    stored = Lead.objects.get(pk=lead.pk)
    assert stored.status == to
    assert stored.version == lead.version == 2
    move = LeadTransition.objects.get(lead=lead)
    assert (move.from_status, move.to_status, move.by, move.note) == (start, to, cast.promoter_a, reason)
    verb = {S.ABANDONED: "investment.lead_abandon"}.get(to, "investment.lead_move")
    if start == S.ABANDONED:
        verb = "investment.lead_reactivate"
    assert AuditRecord.objects.filter(action=verb, actor=cast.promoter_a).count() == 1


REFUSED = [
    (start, to) for start, to in product(S.values, S.values) if (start, to) not in ALLOWED and start != to
]


@pytest.mark.parametrize(("start", "to"), REFUSED)
def test_every_other_move_is_refused_naming_both_states(cast, lead, start, to):
    lead = in_state(lead, start)
    with pytest.raises(ServiceError) as refused:
        leads.move_lead(lead, to=to, reason="原因", by=cast.promoter_a)

    message = str(refused.value)
    if to == S.CONVERTED and start in leads.OPEN_STATUSES:
        assert "转为项目" in message and "创建项目" in message
    else:
        assert str(S(start).label) in message and str(S(to).label) in message, message
    assert Lead.objects.get(pk=lead.pk).status == start
    assert not LeadTransition.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("status", S.values)
def test_a_move_to_the_state_it_is_in_is_refused(cast, lead, status):
    lead = in_state(lead, status)
    with pytest.raises(ServiceError, match=str(S(status).label)):
        leads.move_lead(lead, to=status, reason="原因", by=cast.promoter_a)


def test_an_unknown_state_is_refused_by_name(cast, lead):
    with pytest.raises(ServiceError, match="目标状态"):
        leads.move_lead(lead, to="signed", by=cast.promoter_a)


def test_abandoning_needs_a_reason_which_is_kept_on_the_lead_and_in_the_history(cast, lead):
    with pytest.raises(ServiceError, match="放弃原因：请填写"):
        leads.move_lead(lead, to=S.ABANDONED, reason="   ", by=cast.promoter_a)
    assert Lead.objects.get(pk=lead.pk).status == S.NEW

    leads.move_lead(lead, to=S.ABANDONED, reason="企业决定落户他市", by=cast.promoter_a)
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.abandon_reason) == (S.ABANDONED, "企业决定落户他市")
    assert LeadTransition.objects.get(lead=lead).note == "企业决定落户他市"


def test_a_reason_longer_than_the_column_is_refused(cast, lead):
    with pytest.raises(ServiceError, match="200"):
        leads.move_lead(lead, to=S.ABANDONED, reason="很" * 201, by=cast.promoter_a)


def test_reactivating_clears_the_reason_on_the_lead_but_keeps_it_in_the_history(cast, lead):
    leads.move_lead(lead, to=S.ABANDONED, reason="预算冻结", by=cast.promoter_a)
    leads.move_lead(lead, to=S.CONTACTING, reason="预算已恢复", by=cast.promoter_a)

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.abandon_reason) == (S.CONTACTING, "")
    notes = list(LeadTransition.objects.filter(lead=lead).values_list("to_status", "note"))
    assert notes == [(S.ABANDONED, "预算冻结"), (S.CONTACTING, "预算已恢复")]
    assert AuditRecord.objects.filter(action="investment.lead_reactivate").count() == 1


def test_converted_is_reached_only_through_mark_converted_and_left_by_nothing(cast, lead):
    lead = in_state(lead, S.NEGOTIATING)
    with pytest.raises(ServiceError):
        leads.move_lead(lead, to=S.CONVERTED, by=cast.promoter_a)

    leads.mark_converted(lead, by=cast.promoter_a, note="创建项目")
    assert Lead.objects.get(pk=lead.pk).status == S.CONVERTED
    assert leads.allowed_moves(lead) == ()
    for to in (S.NEW, S.CONTACTING, S.NEGOTIATING, S.ABANDONED):
        with pytest.raises(ServiceError, match="转为项目"):
            leads.move_lead(lead, to=to, reason="原因", by=cast.promoter_a)
    with pytest.raises(ServiceError, match="不能转为项目"):
        leads.mark_converted(lead, by=cast.promoter_a)


def test_an_abandoned_lead_cannot_be_converted(cast, lead):
    lead = in_state(lead, S.ABANDONED)
    with pytest.raises(ServiceError, match="放弃"):
        leads.mark_converted(lead, by=cast.promoter_a)


def test_a_move_with_a_stale_version_loses(cast, lead):
    with pytest.raises(Conflict):
        leads.move_lead(lead, to=S.CONTACTING, version=lead.version + 1, by=cast.promoter_a)
    stale = Lead.objects.get(pk=lead.pk)
    leads.move_lead(lead, to=S.CONTACTING, by=cast.promoter_a)
    with pytest.raises(Conflict, match="刷新"):
        leads.move_lead(stale, to=S.ABANDONED, reason="重复线索", by=cast.promoter_a)
    assert Lead.objects.get(pk=lead.pk).status == S.CONTACTING


@pytest.mark.parametrize("who", ["leader_a", "leader_city", "steward_a", "dispatcher_a", "outsider"])
def test_only_promoters_move_leads(cast, lead, who):
    with pytest.raises(NotAllowed):
        leads.move_lead(lead, to=S.CONTACTING, by=getattr(cast, who))
    assert Lead.objects.get(pk=lead.pk).status == S.NEW


def test_another_zones_promoter_moves_nothing(cast, lead, promoter_b):
    with pytest.raises(NotAllowed):
        leads.move_lead(lead, to=S.CONTACTING, by=promoter_b)
    with pytest.raises(NotAllowed):
        leads.mark_converted(lead, by=promoter_b)


# --- creating a lead ---------------------------------------------------------------------------------


def test_a_promoter_records_a_lead_with_its_contacts(cast, target):
    lead = leads.create_lead(
        target=target,
        source=LeadSource.FUND,
        source_detail="产业基金推荐",
        summary="拟新建 10GWh 电芯产线",
        contacts=[
            {"name": "李总", "position": "投资总监", "phone": "13912345678", "email": "li@example.com"}
        ],
        by=cast.promoter_a,
    )
    assert lead.zone == cast.zone_a
    assert lead.status == S.NEW
    assert lead.owner == cast.promoter_a  # the recorder, unless another owner is named
    assert list(lead.contacts.values_list("name", "phone")) == [("李总", "13912345678")]
    assert AuditRecord.objects.filter(action="investment.lead_create", actor=cast.promoter_a).count() == 1


def test_the_node_defaults_to_the_single_link_the_target_covers(cast, chain, target):
    lead = leads.create_lead(target=target, source=LeadSource.EXPO, by=cast.promoter_a)
    assert lead.node == node(chain, "电芯")


def test_a_target_covering_several_links_leaves_the_node_open(cast, chain):
    wide = make_target(cast.zone_a, "示例储能集团", node(chain, "电芯"), node(chain, "储能系统"))
    lead = leads.create_lead(target=wide, source=LeadSource.EXPO, by=cast.promoter_a)
    assert lead.node is None
    chosen = leads.create_lead(
        target=wide, node=node(chain, "储能系统"), source=LeadSource.EXPO, by=cast.promoter_a
    )
    assert chosen.node == node(chain, "储能系统")


def test_the_owner_must_be_a_promoter_of_the_zone(cast, target, promoter_b):
    colleague = make_promoter("promoter_a2", cast.zone_a)
    lead = leads.create_lead(target=target, source=LeadSource.EXPO, owner=colleague, by=cast.promoter_a)
    assert lead.owner == colleague
    for wrong in (promoter_b, cast.steward_a, cast.leader_a):
        with pytest.raises(ServiceError, match="负责人"):
            leads.create_lead(target=target, source=LeadSource.EXPO, owner=wrong, by=cast.promoter_a)


def test_a_target_or_node_of_another_zone_is_refused(cast, target, promoter_b):
    chain_b = make_chain(cast.zone_b, promoter_b, name="生物医药")
    target_b = make_target(cast.zone_b, "示例医药股份有限公司")
    with pytest.raises(NotAllowed, match="目标企业"):
        leads.create_lead(target=target_b, source=LeadSource.EXPO, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="链环节"):
        leads.create_lead(
            target=target, node=node(chain_b, "电芯"), source=LeadSource.EXPO, by=cast.promoter_a
        )
    assert not Lead.objects.exists()


@pytest.mark.parametrize("who", ["leader_a", "steward_a", "ent_user_a1", "outsider", "sysadmin"])
def test_only_promoters_record_leads(cast, target, who):
    with pytest.raises(NotAllowed):
        leads.create_lead(target=target, source=LeadSource.EXPO, by=getattr(cast, who))


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"name": ""}, "联系人：请填写"),
        ({"name": "李总", "phone": "call me"}, "联系电话"),
        ({"name": "李总", "email": "not-an-address"}, "邮箱"),
        ({"name": "李" * 51}, "联系人：不能超过 50 个字"),
    ],
)
def test_a_bad_contact_is_refused_by_field_and_nothing_is_written(cast, target, contact, field):
    with pytest.raises(ServiceError, match=field):
        leads.create_lead(target=target, source=LeadSource.EXPO, contacts=[contact], by=cast.promoter_a)
    assert not Lead.objects.exists()


def test_an_unknown_source_is_refused(cast, target):
    with pytest.raises(ServiceError, match="线索来源"):
        leads.create_lead(target=target, source="newspaper", by=cast.promoter_a)


# --- changing a lead ---------------------------------------------------------------------------------


def test_an_edit_changes_what_was_given_and_a_stale_edit_loses(cast, chain, lead):
    stale = Lead.objects.get(pk=lead.pk)
    leads.update_lead(lead, by=cast.promoter_a, version=1, summary="对方来访", node=node(chain, "电芯"))
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.summary, stored.node, stored.source, stored.version) == (
        "对方来访",
        node(chain, "电芯"),
        LeadSource.EXPO,
        2,
    )
    with pytest.raises(Conflict):
        leads.update_lead(stale, by=cast.promoter_a, version=stale.version, summary="覆盖")
    assert Lead.objects.get(pk=lead.pk).summary == "对方来访"


def test_an_edit_may_not_move_the_lead_to_another_zone(cast, lead, promoter_b):
    target_b = make_target(cast.zone_b, "示例医药股份有限公司")
    with pytest.raises(ServiceError, match="目标企业"):
        leads.update_lead(lead, by=cast.promoter_a, version=lead.version, target=target_b)
    with pytest.raises(NotAllowed):
        leads.update_lead(lead, by=promoter_b, version=lead.version, summary="越权")
    with pytest.raises(NotAllowed):
        leads.update_lead(lead, by=cast.leader_a, version=lead.version, summary="越权")


def test_a_converted_lead_is_not_edited_any_more(cast, lead):
    leads.mark_converted(lead, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="已转为项目"):
        leads.update_lead(lead, by=cast.promoter_a, version=lead.version, summary="改")
    with pytest.raises(ServiceError, match="已转为项目"):
        leads.add_log(lead, happened_on=today(), mode=LeadLog.Mode.PHONE, summary="回访", by=cast.promoter_a)


def test_the_owner_is_reassigned_to_another_promoter_of_the_zone(cast, lead, promoter_b):
    colleague = make_promoter("promoter_a2", cast.zone_a)
    leads.reassign_owner(lead, owner=colleague, by=cast.promoter_a)
    assert Lead.objects.get(pk=lead.pk).owner == colleague
    assert AuditRecord.objects.filter(action="investment.lead_reassign").count() == 1
    with pytest.raises(ServiceError, match="已是本线索的负责人"):
        leads.reassign_owner(lead, owner=colleague, by=cast.promoter_a)
    with pytest.raises(ServiceError, match="负责人"):
        leads.reassign_owner(lead, owner=promoter_b, by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        leads.reassign_owner(lead, owner=cast.promoter_a, by=cast.leader_a)


# --- contacts and the contact log --------------------------------------------------------------------


def test_contacts_are_added_and_removed_by_the_zones_promoters(cast, lead, promoter_b):
    contact = leads.add_contact(lead, name="张经理", phone="0512-66881234", by=cast.promoter_a)
    assert contact.phone == "0512-66881234"
    with pytest.raises(NotAllowed):
        leads.add_contact(lead, name="王经理", by=cast.leader_a)
    with pytest.raises(NotAllowed):
        leads.remove_contact(contact, by=promoter_b)

    leads.remove_contact(contact, by=cast.promoter_a)
    assert not LeadContact.objects.exists()
    with pytest.raises(Conflict, match="已被他人删除"):
        leads.remove_contact(contact, by=cast.promoter_a)


def test_a_log_may_not_be_dated_in_the_future_and_needs_a_mode_and_a_summary(cast, lead):
    log = leads.add_log(
        lead, happened_on=today(), mode=LeadLog.Mode.VISIT, summary="上门拜访，对方有意向", by=cast.promoter_a
    )
    assert (log.by, log.lead) == (cast.promoter_a, lead)
    with pytest.raises(ServiceError, match="日期：不能晚于今天"):
        leads.add_log(
            lead,
            happened_on=today() + timedelta(days=1),
            mode=LeadLog.Mode.PHONE,
            summary="x",
            by=cast.promoter_a,
        )
    with pytest.raises(ServiceError, match="方式"):
        leads.add_log(lead, happened_on=today(), mode="letter", summary="x", by=cast.promoter_a)
    with pytest.raises(ServiceError, match="内容：请填写"):
        leads.add_log(lead, happened_on=today(), mode=LeadLog.Mode.PHONE, summary="  ", by=cast.promoter_a)
    with pytest.raises(NotAllowed):
        leads.add_log(lead, happened_on=today(), mode=LeadLog.Mode.PHONE, summary="x", by=cast.leader_a)
    assert LeadLog.objects.count() == 1


# --- who sees the contacts' phones -------------------------------------------------------------------


def test_the_zones_promoters_see_a_contacts_phone_in_full_and_everyone_else_masked(cast, lead, promoter_b):
    phone = "13912345678"
    assert leads.contact_phone_for(cast.promoter_a, lead, phone) == phone
    for who in (cast.leader_a, cast.leader_city, promoter_b, None):
        assert leads.contact_phone_for(who, lead, phone) == "139****5678"


def test_state_counts_list_every_state(cast, target, lead):
    other = make_lead(target, cast.promoter_a)
    in_state(other, S.ABANDONED)
    counts = leads.state_counts(Lead.objects.all())
    assert counts == {S.NEW: 1, S.CONTACTING: 0, S.NEGOTIATING: 0, S.CONVERTED: 0, S.ABANDONED: 1}
