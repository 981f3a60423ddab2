"""The handling steps on the pages — 补充材料, 延期, 协办意见, 答复审核, 领导协调, 申诉复核, 不予受理的评价,
合并 — and the approvals page: the right actor succeeds, each wrong actor is refused, and each page
shows only the buttons its reader may use."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from guanjia.appeals import lifecycle, permissions
from guanjia.appeals.models import (
    Appeal,
    Assignment,
    Channel,
    Extension,
    Outcome,
    Pause,
    Rating,
    RatingLevel,
    Review,
    Status,
)
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=BJ)  # 2–6 March 2026 are ordinary working days


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=BJ)


def add_people(cast):
    """The routed cast, plus: a co-handling department (税务局) with its handler and head, a second
    handler of the lead department, an enterprise user of ent_a2, and zone B's supervisor and leader."""
    cast.tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    cast.handler_tax = make_user("handler_tax", cast.tax_a, Role.HANDLER)
    cast.head_tax = make_user("head_tax", cast.tax_a, Role.DEPARTMENT_HEAD)
    cast.handler_a2 = make_user("handler_a2", cast.market_a, Role.HANDLER)
    cast.ent_user_a2 = make_user("ent_user_a2", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=cast.ent_user_a2, enterprise=cast.ent_a2)
    cast.supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    cast.leader_b = make_user("leader_b", cast.zone_b, Role.LEADER)
    return cast


@pytest.fixture
def people(routed):
    return add_people(routed)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def submit(cast, land, *, enterprise=None, by=None, channel=Channel.PORTAL, title="厂区周边道路破损", **kw):
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title=title,
        body="影响货车进出，请协调修复。",
        channel=channel,
        by=by or cast.ent_user_a1,
        category=land,
        **kw,
    )


def dispatched(cast, land, **kw) -> Appeal:
    co = kw.pop("co", ())
    appeal = submit(cast, land, **kw)
    lifecycle.dispatch_appeal(appeal, co=list(co), by=cast.dispatcher_a)
    return appeal


def signed(cast, land, **kw) -> Appeal:
    appeal = dispatched(cast, land, **kw)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    return appeal


def answered(cast, land, **kw) -> Appeal:
    appeal = signed(cast, land, **kw)
    lifecycle.answer_appeal(appeal, answer="已安排修复。", outcome=Outcome.SOLVED, by=cast.handler_a)
    return appeal


def lead(appeal: Appeal) -> Assignment:
    return Assignment.objects.get(appeal=appeal, is_current=True, is_lead=True)


def fresh(appeal: Appeal) -> Appeal:
    return Appeal.objects.get(pk=appeal.pk)


def page(client, appeal) -> str:
    response = client.get(reverse("appeals:detail", args=[appeal.pk]))
    assert response.status_code == 200
    return response.content.decode()


def act(client, appeal, action, data=None, **extra):
    version = fresh(appeal).version
    return client.post(
        reverse("appeals:act", args=[appeal.pk, action]), {"version": version, **(data or {})}, **extra
    )


def flash(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def act_url(appeal, action) -> str:
    return reverse("appeals:act", args=[appeal.pk, action])


def refused(client, appeal, action, data=None) -> str:
    """POST a step the user may not take: out of scope is 404; in scope, the service refuses."""
    response = act(client, appeal, action, data, follow=True)
    if response.status_code == 404:
        return "404"
    assert response.status_code == 200
    text = flash(response)
    assert "未成功" in text or "未提交" in text, text
    return text


# --- 补充材料 ----------------------------------------------------------------------------------------


def test_the_lead_department_pauses_and_the_enterprise_resumes(people, land, login, monday):
    cast = people
    appeal = signed(cast, land, co=[cast.tax_a])
    assert act_url(appeal, "pause") in page(login(cast.handler_a), appeal)
    for reader in (cast.ent_user_a1, cast.steward_a, cast.supervisor_a, cast.handler_tax, cast.dispatcher_a):
        assert act_url(appeal, "pause") not in page(login(reader), appeal), reader
    body = {"pause-request": "请提供道路破损位置照片"}
    for wrong in (
        cast.handler_centre,  # a department the appeal was not given to: 404
        cast.handler_tax,  # the co-department: sees it, may not pause it
        cast.ent_user_a1,
        cast.ent_user_a2,
        cast.steward_a,
        cast.steward_a2,
        cast.supervisor_a,
        cast.outsider,
    ):
        refused(login(wrong), appeal, "pause", body)
    assert fresh(appeal).status == Status.SIGNED and not Pause.objects.exists()

    response = act(login(cast.handler_a), appeal, "pause", {"pause-request": " "})
    assert "要求补充材料未提交：需要补充的材料：该字段是必填项。" in response.content.decode()
    response = act(login(cast.handler_a), appeal, "pause", body, follow=True)
    assert "已要求补充材料" in flash(response)
    assert fresh(appeal).status == Status.WAITING

    owner = page(login(cast.ent_user_a1), appeal)
    assert "请提供道路破损位置照片" in owner and act_url(appeal, "resume") in owner
    assert act_url(appeal, "resume") in page(login(cast.steward_a), appeal)
    assert act_url(appeal, "resume") in page(login(cast.handler_a), appeal)
    for reader in (cast.supervisor_a, cast.dispatcher_a, cast.handler_tax, cast.leader_a):
        assert act_url(appeal, "resume") not in page(login(reader), appeal), reader
    for wrong in (
        cast.supervisor_a,
        cast.dispatcher_a,
        cast.handler_tax,
        cast.ent_user_a2,
        cast.steward_a2,
        cast.handler_centre,
        cast.outsider,
    ):
        refused(login(wrong), appeal, "resume", {"resume-reply": "已补充"})
    assert fresh(appeal).status == Status.WAITING

    monday.move_to(at(4))  # Wednesday: the clock stood still Tuesday and Wednesday
    due = lead(appeal).answer_due
    response = act(login(cast.ent_user_a1), appeal, "resume", {"resume-reply": "照片已上传"}, follow=True)
    assert "已恢复办理" in flash(response)
    assert fresh(appeal).status == Status.SIGNED
    pause = Pause.objects.get()
    assert (pause.resumed_by, pause.working_days, pause.reply) == (cast.ent_user_a1, 2, "照片已上传")
    assert lead(appeal).paused_days == 2 and lead(appeal).answer_due > due
    handler = page(login(cast.handler_a), appeal)
    assert "暂停 2 个工作日" in handler and "原答复期限" in handler


def test_a_confidential_pause_does_not_name_the_enterprise_to_the_department(people, land, login):
    cast = people
    appeal = signed(cast, land, confidential=True)
    lifecycle.pause_appeal(appeal, request="请补充营业执照副本", by=cast.handler_a)
    lifecycle.resume_appeal(fresh(appeal), reply="已补充", by=cast.ent_user_a1)
    handler = page(login(cast.handler_a), appeal)
    assert "请补充营业执照副本" in handler and "企业 补充后恢复计时" in handler
    assert "ent_user_a1" not in handler and cast.ent_a1.name not in handler
    assert "ent_user_a1" in page(login(cast.dispatcher_a), appeal)


def test_after_two_pauses_the_department_may_not_pause_again(people, land, login):
    cast = people
    appeal = signed(cast, land)
    for _ in range(2):
        lifecycle.pause_appeal(fresh(appeal), request="补充材料", by=cast.handler_a)
        lifecycle.resume_appeal(fresh(appeal), reply="好", by=cast.ent_user_a1)
    assert "pause" not in permissions.available_actions(fresh(appeal), cast.handler_a)
    assert "最多要求补充材料 2 次" in refused(
        login(cast.handler_a), appeal, "pause", {"pause-request": "再补"}
    )


# --- 延期 ------------------------------------------------------------------------------------------


def test_the_department_asks_for_an_extension_and_a_supervisor_of_the_zone_decides(
    people, land, login, monday
):
    cast = people
    appeal = signed(cast, land, co=[cast.tax_a])
    body = {"extend-days": "3", "extend-reason": "需现场勘查"}
    for wrong in (cast.handler_tax, cast.handler_centre, cast.steward_a, cast.ent_user_a1, cast.supervisor_a):
        refused(login(wrong), appeal, "extend", body)
    response = act(login(cast.handler_a), appeal, "extend", {"extend-days": "31", "extend-reason": "x"})
    assert "申请延期未提交：延期工作日：最多还能申请 30 个工作日" in response.content.decode()
    assert not Extension.objects.exists()
    response = act(login(cast.handler_a), appeal, "extend", body, follow=True)
    assert "延期申请已提交，等待效能督查审批" in flash(response)
    extension = Extension.objects.get()
    assert extension.state == Extension.State.PENDING
    assert "extend" not in permissions.available_actions(fresh(appeal), cast.handler_a)  # one at a time

    decide = reverse("appeals:extension-decide", args=[appeal.pk, extension.pk])
    assert decide in page(login(cast.supervisor_a), appeal)
    for reader in (cast.handler_a, cast.head_a, cast.leader_a, cast.dispatcher_a, cast.ent_user_a1):
        assert decide not in page(login(reader), appeal), reader
    approve = {f"extension-{extension.pk}-decision": "approve", "version": extension.version}
    assert login(cast.supervisor_b).post(decide, approve).status_code == 404  # another zone
    for wrong in (
        cast.leader_a,
        cast.dispatcher_a,
        cast.handler_a,
        cast.head_a,
        cast.steward_a,
        cast.ent_user_a1,
    ):
        assert login(wrong).post(decide, approve).status_code == 403, wrong
    assert login(cast.outsider).post(decide, approve).status_code == 404
    deny = {f"extension-{extension.pk}-decision": "deny", "version": extension.version}
    response = login(cast.supervisor_a).post(decide, deny)
    assert "延期审批未提交：审批意见：不批准延期时请写明理由" in response.content.decode()
    assert Extension.objects.get().state == Extension.State.PENDING

    due = lead(appeal).answer_due
    response = login(cast.supervisor_a).post(
        decide, {**approve, f"extension-{extension.pk}-note": "同意"}, follow=True
    )
    assert "已批准延期" in flash(response)
    extension.refresh_from_db()
    assert (extension.state, extension.decided_by) == (Extension.State.APPROVED, cast.supervisor_a)
    assert lead(appeal).answer_due == extension.new_due and extension.previous_due == due
    handler = page(login(cast.handler_a), appeal)
    assert (
        "已批准" in handler
        and "原答复期限" in handler
        and decide not in page(login(cast.supervisor_a), appeal)
    )
    # A second decision on the same row: the service refuses, nothing changes.
    response = login(cast.supervisor_a).post(
        decide, deny | {f"extension-{extension.pk}-note": "不同意"}, follow=True
    )
    assert "未成功" in flash(response)
    assert Extension.objects.get().state == Extension.State.APPROVED


# --- 协办意见 --------------------------------------------------------------------------------------


def test_a_co_department_gives_its_opinion_once(people, land, login):
    cast = people
    appeal = dispatched(cast, land, co=[cast.tax_a])
    assert act_url(appeal, "opinion") in page(login(cast.handler_tax), appeal)
    assert act_url(appeal, "opinion") in page(login(cast.head_tax), appeal)
    for reader in (cast.handler_a, cast.head_a, cast.dispatcher_a):
        assert act_url(appeal, "opinion") not in page(login(reader), appeal), reader
    body = {"opinion-opinion": "符合税收优惠条件"}
    for wrong in (cast.handler_a, cast.handler_centre, cast.steward_a, cast.ent_user_a1, cast.outsider):
        refused(login(wrong), appeal, "opinion", body)
    response = act(login(cast.handler_tax), appeal, "opinion", body, follow=True)
    assert "已提交协办意见" in flash(response)
    co = Assignment.objects.get(appeal=appeal, is_lead=False)
    assert (co.answer, co.answered_by) == ("符合税收优惠条件", cast.handler_tax)
    assert fresh(appeal).status == Status.DISPATCHED
    lead_page = page(login(cast.handler_a), appeal)
    assert "协办意见" in lead_page and "符合税收优惠条件" in lead_page
    assert act_url(appeal, "opinion") not in page(login(cast.handler_tax), appeal)
    assert "已提交过协办意见" in refused(login(cast.head_tax), appeal, "opinion", body)


# --- 答复审核 --------------------------------------------------------------------------------------


def test_the_department_head_approves_or_sends_back_the_answer(people, land, login):
    cast = people
    OrgUnit.objects.filter(pk=cast.market_a.pk).update(answers_need_approval=True)
    appeal = signed(cast, land)
    answer = {"answer-outcome": Outcome.SOLVED, "answer-answer": "三日内修复"}
    response = act(login(cast.handler_a), appeal, "answer", answer, follow=True)
    assert "答复已提交部门负责人审核" in flash(response)
    assert fresh(appeal).status == Status.SIGNED and lead(appeal).answered_at is None

    head = page(login(cast.head_a), appeal)
    assert "待部门负责人审核的答复" in head and "三日内修复" in head
    assert act_url(appeal, "approve_answer") in head and act_url(appeal, "reject_answer") in head
    writer = page(login(cast.handler_a), appeal)
    assert "待部门负责人审核的答复" in writer and act_url(appeal, "approve_answer") not in writer
    for reader in (cast.handler_a2, cast.dispatcher_a, cast.supervisor_a, cast.ent_user_a1, cast.steward_a):
        text = page(login(reader), appeal)
        assert "待部门负责人审核的答复" not in text and act_url(appeal, "approve_answer") not in text, reader
    for wrong in (
        cast.handler_a,
        cast.handler_a2,
        cast.head_tax,
        cast.supervisor_a,
        cast.ent_user_a1,
        cast.outsider,
    ):
        refused(login(wrong), appeal, "approve_answer")
        refused(login(wrong), appeal, "reject_answer", {"reject_answer-note": "重写"})
    assert fresh(appeal).status == Status.SIGNED and lead(appeal).draft_answer == "三日内修复"

    response = act(login(cast.head_a), appeal, "reject_answer", {"reject_answer-note": ""})
    assert "退回答复修改未提交：退回修改意见：该字段是必填项。" in response.content.decode()
    response = act(
        login(cast.head_a), appeal, "reject_answer", {"reject_answer-note": "写明修复日期"}, follow=True
    )
    assert "已退回答复修改" in flash(response) and lead(appeal).draft_answer == ""
    assert act_url(appeal, "approve_answer") not in page(login(cast.head_a), appeal)

    act(login(cast.handler_a), appeal, "answer", {**answer, "answer-answer": "3 月 6 日前修复"})
    response = act(
        login(cast.head_a),
        appeal,
        "approve_answer",
        {"approve_answer-answer": "3 月 6 日前修复完毕"},
        follow=True,
    )
    assert "已审核通过答复" in flash(response)
    row = lead(appeal)
    assert fresh(appeal).status == Status.ANSWERED
    assert (row.answer, row.answered_by, row.approved_by) == (
        "3 月 6 日前修复完毕",
        cast.handler_a,
        cast.head_a,
    )


# --- 领导协调 --------------------------------------------------------------------------------------


def _reopened_twice(cast, land) -> Appeal:
    appeal = answered(cast, land)
    for text in ("第二次答复", None):
        lifecycle.rate_appeal(
            fresh(appeal), level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1
        )
        if text:
            lifecycle.answer_appeal(fresh(appeal), answer=text, outcome=Outcome.SOLVED, by=cast.handler_a)
    appeal = fresh(appeal)
    assert (appeal.status, appeal.reopen_count) == (Status.SIGNED, 2)
    return appeal


def test_a_leader_of_the_zone_records_the_coordination_before_the_final_answer(people, land, login):
    cast = people
    appeal = _reopened_twice(cast, land)
    handler = page(login(cast.handler_a), appeal)
    assert "须由领导协调" in handler and act_url(appeal, "answer") not in handler
    assert act_url(appeal, "coordinate") in page(login(cast.leader_a), appeal)
    assert act_url(appeal, "coordinate") in page(login(cast.leader_city), appeal)
    for reader in (cast.supervisor_a, cast.dispatcher_a, cast.head_a):
        assert act_url(appeal, "coordinate") not in page(login(reader), appeal), reader
    body = {"coordinate-decision": "由市场监管局牵头，一周内上门"}
    for wrong in (
        cast.leader_b,
        cast.supervisor_a,
        cast.dispatcher_a,
        cast.head_a,
        cast.ent_user_a1,
        cast.outsider,
    ):
        refused(login(wrong), appeal, "coordinate", body)
    assert fresh(appeal).coordinated_at is None

    # From the approvals page, back to it.
    approvals = reverse("appeals:approvals")
    listed = login(cast.leader_a).get(approvals).content.decode()
    assert f"#{appeal.pk} " in listed and act_url(appeal, "coordinate") in listed
    assert f"#{appeal.pk} " not in login(cast.leader_b).get(approvals).content.decode()
    response = act(login(cast.leader_a), appeal, "coordinate", {**body, "next": approvals})
    assert response.status_code == 302 and response["Location"] == approvals
    appeal = fresh(appeal)
    assert (appeal.coordination, appeal.coordinated_by) == (body["coordinate-decision"], cast.leader_a)
    handler = page(login(cast.handler_a), appeal)
    assert "领导协调意见" in handler and "一周内上门" in handler and act_url(appeal, "answer") in handler
    assert f"#{appeal.pk} " not in login(cast.leader_a).get(approvals).content.decode()
    assert "该诉求已有领导协调意见" in refused(login(cast.leader_city), appeal, "coordinate", body)


# --- 申诉复核 --------------------------------------------------------------------------------------


def test_the_rated_department_disputes_a_rating_and_a_supervisor_changes_it(people, land, login, monday):
    cast = people
    appeal = answered(cast, land)
    lifecycle.rate_appeal(fresh(appeal), level=RatingLevel.FAIRLY_SATISFIED, solved=True, by=cast.ent_user_a1)
    rating = Rating.objects.get()
    dispute = reverse("appeals:rating-dispute", args=[appeal.pk, rating.pk])
    assert dispute in page(login(cast.handler_a), appeal) and dispute in page(login(cast.head_a), appeal)
    for reader in (cast.ent_user_a1, cast.steward_a, cast.supervisor_a, cast.dispatcher_a):
        assert dispute not in page(login(reader), appeal), reader
    body = {f"dispute-{rating.pk}-reason": "问题已解决，企业误选"}
    for wrong in (cast.ent_user_a1, cast.steward_a, cast.supervisor_a, cast.dispatcher_a, cast.leader_a):
        assert login(wrong).post(dispute, body).status_code == 403, wrong
    for wrong in (cast.handler_centre, cast.steward_a2, cast.ent_user_a2, cast.outsider, cast.supervisor_b):
        assert login(wrong).post(dispute, body).status_code == 404, wrong
    response = login(cast.handler_a).post(dispute, {f"dispute-{rating.pk}-reason": ""})
    assert "申请评价复核未提交：申请复核理由：该字段是必填项。" in response.content.decode()
    assert not Review.objects.exists()

    response = login(cast.handler_a).post(dispute, body, follow=True)
    assert "已申请复核" in flash(response)
    review = Review.objects.get()
    assert (review.kind, review.requested_by) == (Review.Kind.RATING, cast.handler_a)
    assert dispute not in page(login(cast.head_a), appeal)  # once per rating
    assert "已申请过复核" in flash(login(cast.head_a).post(dispute, body, follow=True))
    assert Review.objects.count() == 1

    decide = reverse("appeals:review-decide", args=[appeal.pk, review.pk])
    assert decide in page(login(cast.supervisor_a), appeal)
    assert decide in login(cast.supervisor_a).get(reverse("appeals:approvals")).content.decode()
    for reader in (cast.handler_a, cast.leader_a, cast.ent_user_a1):
        assert decide not in page(login(reader), appeal), reader
    changed = {
        f"review-{review.pk}-decision": Review.State.CHANGED,
        f"review-{review.pk}-note": "核实已解决",
        "version": review.version,
    }
    assert login(cast.supervisor_b).post(decide, changed).status_code == 404
    for wrong in (cast.leader_a, cast.dispatcher_a, cast.handler_a, cast.head_a):
        assert login(wrong).post(decide, changed).status_code == 403, wrong
    response = login(cast.supervisor_a).post(decide, changed)
    assert "复核未提交：复核后评价：改判时请选择复核后的评价" in response.content.decode()
    response = login(cast.supervisor_a).post(
        decide, {**changed, f"review-{review.pk}-level": RatingLevel.SATISFIED}, follow=True
    )
    assert "已作出复核决定：改判评价" in flash(response)
    assert Rating.objects.get().reviewed_level == RatingLevel.SATISFIED
    owner = page(login(cast.ent_user_a1), appeal)
    assert "申诉复核后改判：基本满意 → 满意" in owner and "核实已解决" in owner


def test_a_satisfied_rating_or_one_past_the_window_cannot_be_disputed(people, land, login, monday):
    cast = people
    appeal = answered(cast, land)
    lifecycle.rate_appeal(fresh(appeal), level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1)
    rating = Rating.objects.get()
    dispute = reverse("appeals:rating-dispute", args=[appeal.pk, rating.pk])
    assert dispute not in page(login(cast.handler_a), appeal)
    body = {f"dispute-{rating.pk}-reason": "不服"}
    assert "基本满意" in flash(login(cast.handler_a).post(dispute, body, follow=True))
    other = answered(cast, land, title="另一件")
    lifecycle.rate_appeal(fresh(other), level=RatingLevel.FAIRLY_SATISFIED, solved=False, by=cast.ent_user_a1)
    late = Rating.objects.get(appeal=other)
    monday.move_to(at(10, 10))  # rated Monday: the window closed at 24:00 of the next Monday
    url = reverse("appeals:rating-dispute", args=[other.pk, late.pk])
    assert url not in page(login(cast.handler_a), other)
    text = flash(login(cast.handler_a).post(url, {f"dispute-{late.pk}-reason": "不服"}, follow=True))
    assert "5 个工作日内" in text and not Review.objects.exists()


# --- 不予受理的评价 ----------------------------------------------------------------------------------


def test_a_decline_is_rated_and_a_dissatisfied_rating_goes_to_a_supervisor(people, land, login):
    cast = people
    appeal = submit(cast, land)
    lifecycle.decline_appeal(appeal, reason="属民事纠纷", advice="建议诉讼解决", by=cast.dispatcher_a)
    owner = page(login(cast.ent_user_a1), appeal)
    assert act_url(appeal, "rate") in owner and "评价不予受理决定" in owner and "评价期限" in owner
    assert act_url(appeal, "rate_on_behalf") in page(login(cast.steward_a), appeal)
    assert act_url(appeal, "rate_on_behalf") in page(login(cast.dispatcher_a), appeal)
    for reader in (cast.supervisor_a, cast.leader_a):
        assert "act/rate" not in page(login(reader), appeal), reader
    rate = {"rate-level": RatingLevel.DISSATISFIED, "rate-solved": "0", "rate-comment": "理由不成立"}
    for wrong in (cast.ent_user_a2, cast.steward_a2, cast.handler_a, cast.outsider, cast.supervisor_a):
        refused(login(wrong), appeal, "rate", rate)
    assert not Rating.objects.exists()

    act(login(cast.ent_user_a1), appeal, "rate", rate)
    appeal = fresh(appeal)
    assert appeal.status == Status.DECLINED and appeal.rate_due is None
    assert "act/rate" not in page(login(cast.ent_user_a1), appeal)  # rated once
    review = Review.objects.get()
    assert review.kind == Review.Kind.DECLINE
    decide = reverse("appeals:review-decide", args=[appeal.pk, review.pk])
    supervisor = page(login(cast.supervisor_a), appeal)
    assert decide in supervisor and "退回重新受理" in supervisor and "改判评价" not in supervisor
    body = {f"review-{review.pk}-decision": Review.State.REOPENED, f"review-{review.pk}-note": "应予受理"}
    assert login(cast.supervisor_b).post(decide, body).status_code == 404
    assert login(cast.dispatcher_a).post(decide, body).status_code == 403
    response = login(cast.supervisor_a).post(decide, {**body, f"review-{review.pk}-decision": "changed"})
    assert "复核决定：" in response.content.decode() and fresh(appeal).status == Status.DECLINED
    login(cast.supervisor_a).post(decide, body)
    assert fresh(appeal).status == Status.SUBMITTED


# --- 合并 ------------------------------------------------------------------------------------------


def test_the_dispatcher_merges_a_duplicate_into_a_master_of_its_zone(people, land, login):
    cast = people
    master = dispatched(cast, land, title="主诉求：道路破损")
    child = submit(
        cast, land, enterprise=cast.ent_a2, by=cast.steward_a2, channel=Channel.STEWARD, title="重复：道路"
    )
    waiting = submit(cast, land, title="尚未交办的诉求")
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    other_zone = lifecycle.submit_appeal(
        cast.ent_b1, title="经开区诉求", body="b", channel=Channel.STEWARD, by=cast.steward_b
    )
    lifecycle.dispatch_appeal(other_zone, to=market_b, by=cast.dispatcher_b)

    assert act_url(child, "merge") in page(login(cast.dispatcher_a), child)
    for reader in (cast.steward_a2, cast.ent_user_a2, cast.supervisor_a, cast.leader_a):
        assert act_url(child, "merge") not in page(login(reader), child), reader
    for wrong in (cast.dispatcher_b, cast.steward_a2, cast.ent_user_a2, cast.supervisor_a, cast.outsider):
        refused(login(wrong), child, "merge", {"merge-master": master.pk})
    assert fresh(child).status == Status.SUBMITTED

    dispatcher = login(cast.dispatcher_a)
    for number, message in (
        (other_zone.pk, f"主诉求编号：#{other_zone.pk} 不是本园区的诉求"),
        (child.pk, "主诉求编号：不能合并到本诉求自身"),
        (waiting.pk, "主诉求须为已交办、尚未答复的诉求"),
    ):
        response = act(dispatcher, child, "merge", {"merge-master": number})
        assert "合并未提交" in response.content.decode() and message in response.content.decode(), number
    response = act(
        dispatcher, child, "merge", {"merge-master": master.pk, "merge-note": "同一路段"}, follow=True
    )
    assert f"已合并到诉求 #{master.pk}" in flash(response)
    child = fresh(child)
    assert (child.status, child.master_id) == (Status.MERGED, master.pk)

    owner = page(login(cast.ent_user_a2), child)
    assert f"已合并到 #{master.pk}" in owner and "已交办" in owner
    assert reverse("appeals:detail", args=[master.pk]) not in owner  # not its appeal to open
    assert reverse("appeals:detail", args=[master.pk]) in page(login(cast.dispatcher_a), child)
    assert reverse("appeals:detail", args=[child.pk]) in page(login(cast.dispatcher_a), master)
    handler = page(login(cast.handler_a), master)
    assert reverse("appeals:detail", args=[child.pk]) in handler  # its answer will be the child's too
    wrong_department = login(cast.handler_centre).get(reverse("appeals:detail", args=[child.pk]))
    assert wrong_department.status_code == 404

    lifecycle.sign_appeal(fresh(master), by=cast.handler_a)
    lifecycle.answer_appeal(
        fresh(master), answer="3 月 6 日前修复", outcome=Outcome.SOLVED, by=cast.handler_a
    )
    owner = page(login(cast.ent_user_a2), child)
    assert "3 月 6 日前修复" in owner and act_url(child, "rate") in owner


# --- 审批与协调 -------------------------------------------------------------------------------------


def test_the_approvals_page_is_for_the_zones_supervisors_and_leaders(people, land, login):
    cast = people
    appeal = signed(cast, land)
    extension = lifecycle.request_extension(fresh(appeal), days=2, reason="需会商", by=cast.handler_a)
    url = reverse("appeals:approvals")
    decide = reverse("appeals:extension-decide", args=[appeal.pk, extension.pk])
    supervisor = login(cast.supervisor_a).get(url).content.decode()
    assert decide in supervisor and "需会商" in supervisor and cast.ent_a1.name in supervisor
    assert decide not in login(cast.supervisor_b).get(url).content.decode()
    leader = login(cast.leader_a).get(url)
    assert leader.status_code == 200 and decide not in leader.content.decode()
    for user in (
        cast.dispatcher_a,
        cast.handler_a,
        cast.head_a,
        cast.steward_a,
        cast.ent_user_a1,
        cast.promoter_a,
        cast.outsider,
        cast.sysadmin,
        cast.auditor,
    ):
        assert login(user).get(url).status_code == 403, user
    for user in (cast.supervisor_a, cast.leader_a):
        assert "审批与协调" in login(user).get(reverse("home")).content.decode(), user
    for user in (cast.dispatcher_a, cast.handler_a, cast.ent_user_a1):
        assert "审批与协调" not in login(user).get(reverse("home")).content.decode(), user

    body = {f"extension-{extension.pk}-decision": "approve", "version": extension.version, "next": url}
    response = login(cast.supervisor_a).post(decide, body)
    assert response.status_code == 302 and response["Location"] == url
    assert Extension.objects.get().state == Extension.State.APPROVED
    assert decide not in login(cast.supervisor_a).get(url).content.decode()


# --- the buttons mirror the services ------------------------------------------------------------------


def test_available_actions_of_the_steps_mirror_the_services(people, land):
    cast = people
    appeal = signed(cast, land, co=[cast.tax_a])
    ns = SimpleNamespace(**{u: getattr(cast, u) for u in ("handler_a", "head_a", "handler_tax", "steward_a")})
    assert "opinion" in permissions.available_actions(fresh(appeal), ns.handler_tax)
    assert {"pause", "extend"} <= set(permissions.available_actions(fresh(appeal), ns.head_a))
    assert permissions.available_actions(fresh(appeal), ns.steward_a) == []
    Assignment.objects.filter(pk=lead(appeal).pk).update(extension_days=30)  # the cap is used up
    assert "extend" not in permissions.available_actions(fresh(appeal), ns.handler_a)
    lifecycle.pause_appeal(fresh(appeal), request="补材料", by=cast.handler_a)
    waiting = fresh(appeal)
    assert permissions.available_actions(waiting, ns.steward_a) == ["resume"]
    assert permissions.available_actions(waiting, cast.ent_user_a1) == ["resume"]
    assert "pause" not in permissions.available_actions(waiting, ns.handler_a)
    assert "answer" not in permissions.available_actions(waiting, ns.handler_a)


def test_a_merge_into_a_master_answered_meanwhile_is_refused(people, land):
    from guanjia.core.errors import Conflict

    cast = people
    master = signed(cast, land, title="主诉求")
    child = submit(cast, land, enterprise=cast.ent_a2, by=cast.steward_a2, channel=Channel.STEWARD)
    seen = fresh(master)  # what the dispatcher's page showed
    lifecycle.answer_appeal(fresh(master), answer="已修复", outcome=Outcome.SOLVED, by=cast.handler_a)
    with pytest.raises(Conflict):
        lifecycle.merge_appeal(fresh(child), into=seen, by=cast.dispatcher_a)
    # Otherwise the child would wait, 已合并, for an answer that was already given.
    assert (fresh(child).status, fresh(child).master_id) == (Status.SUBMITTED, None)
