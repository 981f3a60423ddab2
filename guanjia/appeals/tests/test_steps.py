"""The lifecycle steps beyond the main loop, through the services: 补充材料, 延期, 协办意见, 答复审核,
不予受理的评价与复核, 评价申诉, 合并, and provisional deadlines recomputed when a year is entered."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from guanjia.appeals import escalation, lifecycle, presentation
from guanjia.appeals.models import (
    Appeal,
    AppealEvent,
    Assignment,
    Channel,
    Extension,
    Outcome,
    Pause,
    RatingLevel,
    Review,
    Status,
)
from guanjia.core import services as core_services
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import DepartmentWebhook, Notification, OrgUnit, OutboxMessage
from guanjia.core.roles import Role
from guanjia.testing import make_user, run_concurrently

BJ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=BJ)  # an ordinary week: 2–6 March 2026 are working days


def _at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=BJ)


def _submit(cast, land, *, enterprise=None, by=None, channel=Channel.PORTAL, at=MONDAY):
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title="厂区周边道路破损",
        body="影响货车进出，请协调修复。",
        channel=channel,
        by=by or cast.ent_user_a1,
        category=land,
        at=at,
    )


def _signed(cast, land, at=MONDAY):
    appeal = _submit(cast, land, at=at)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a, at=at)
    lifecycle.sign_appeal(appeal, by=cast.handler_a, at=at)
    return appeal


def _lead(appeal):
    return Assignment.objects.get(appeal=appeal, is_current=True, is_lead=True)


def _actions(appeal):
    return list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True))


# --- 补充材料 -----------------------------------------------------------------------------------------


def test_a_pause_stops_the_clock_and_moves_the_deadline_by_the_paused_working_days(routed, land):
    cast = routed
    appeal = _signed(cast, land)
    assert _lead(appeal).answer_due == datetime(2026, 3, 10, 0, 0, tzinfo=BJ)  # 5 working days: Mon 9 March

    for wrong in (cast.handler_centre, cast.ent_user_a1, cast.steward_a, cast.dispatcher_a, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.pause_appeal(appeal, request="营业执照复印件", by=wrong, at=_at(2))
    with pytest.raises(ServiceError, match="材料"):
        lifecycle.pause_appeal(appeal, request=" ", by=cast.handler_a, at=_at(2))
    pause = lifecycle.pause_appeal(appeal, request="营业执照复印件", by=cast.handler_a, at=_at(2, 11))
    assert appeal.status == Status.WAITING
    assert pause.resume_by == datetime(2026, 3, 10, 0, 0, tzinfo=BJ)  # 5 working days at most
    assert Notification.objects.filter(user=cast.ent_user_a1, link=f"/appeals/{appeal.pk}/").exists()

    # While it waits, the deadline passing escalates nothing, and no list counts it overdue.
    assert escalation.sweep(now=_at(11)).total == 0
    assert not Appeal.objects.filter(presentation.overdue_q(_at(11))).exists()
    assert presentation.row_due(appeal, _lead(appeal)) is None

    for wrong in (cast.steward_a2, cast.steward_b, cast.handler_centre, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.resume_appeal(appeal, by=wrong, reply="已上传", at=_at(4, 15))
    lifecycle.resume_appeal(appeal, by=cast.ent_user_a1, reply="已上传营业执照", at=_at(4, 15))
    assert appeal.status == Status.SIGNED
    lead = _lead(appeal)
    # Paused Monday, resumed Wednesday: Tuesday and Wednesday stood still, 2 working days.
    assert (lead.paused_days, Pause.objects.get().working_days) == (2, 2)
    assert lead.answer_due == datetime(2026, 3, 12, 0, 0, tzinfo=BJ)
    assert lead.original_answer_due == datetime(2026, 3, 10, 0, 0, tzinfo=BJ)  # the first is kept
    with pytest.raises(Conflict):
        lifecycle.resume_appeal(appeal, by=cast.ent_user_a1, at=_at(4, 16))


def test_at_most_two_pauses_and_a_pause_resumes_itself_after_five_working_days(routed, land):
    cast = routed
    appeal = _signed(cast, land)
    lifecycle.pause_appeal(appeal, request="材料一", by=cast.handler_a, at=_at(2, 11))
    assert lifecycle.resume_overdue_pauses(now=_at(9, 23)) == 0  # the 5th working day is not over
    assert lifecycle.resume_overdue_pauses(now=_at(10, 0)) == 1
    assert lifecycle.resume_overdue_pauses(now=_at(10, 1)) == 0  # once
    appeal.refresh_from_db()
    assert appeal.status == Status.SIGNED
    lead = _lead(appeal)
    assert lead.paused_days == 5
    assert lead.answer_due == datetime(2026, 3, 17, 0, 0, tzinfo=BJ)  # Mon 9 March + 5 working days
    assert AppealEvent.objects.filter(appeal=appeal, action="resume", actor=None).count() == 1

    lifecycle.pause_appeal(appeal, request="材料二", by=cast.head_a, at=_at(10, 11))
    lifecycle.resume_appeal(appeal, by=cast.handler_a, at=_at(10, 16))  # same day: 0 working days
    appeal.refresh_from_db()
    assert _lead(appeal).paused_days == 5
    with pytest.raises(ServiceError, match="最多"):
        lifecycle.pause_appeal(appeal, request="材料三", by=cast.handler_a, at=_at(11))


# --- 延期 ---------------------------------------------------------------------------------------------


def test_extensions_are_asked_by_the_department_and_decided_by_a_supervisor_within_the_cap(routed, land):
    cast = routed
    supervisor_b = make_user("supervisor_b", cast.zone_b, Role.SUPERVISOR)
    appeal = _signed(cast, land)
    for wrong in (cast.handler_centre, cast.ent_user_a1, cast.supervisor_a, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.request_extension(appeal, days=5, reason="需现场踏勘", by=wrong, at=_at(3))
    with pytest.raises(ServiceError, match="1 到 30"):
        lifecycle.request_extension(appeal, days=31, reason="需现场踏勘", by=cast.handler_a, at=_at(3))
    extension = lifecycle.request_extension(
        appeal, days=10, reason="需现场踏勘", by=cast.handler_a, at=_at(3)
    )
    assert Notification.objects.filter(user=cast.supervisor_a).exists()
    with pytest.raises(Conflict, match="待审批"):
        lifecycle.request_extension(appeal, days=3, reason="再延", by=cast.handler_a, at=_at(3, 11))

    for wrong in (supervisor_b, cast.handler_a, cast.leader_a, cast.dispatcher_a):
        with pytest.raises(NotAllowed):
            lifecycle.decide_extension(extension, approve=True, by=wrong, at=_at(4))
    lifecycle.decide_extension(extension, approve=True, note="同意", by=cast.supervisor_a, at=_at(4))
    appeal.refresh_from_db()  # the decision moved the appeal's version on
    lead = _lead(appeal)
    # Mon 9 March + 10 working days = Mon 23 March.
    assert lead.answer_due == datetime(2026, 3, 24, 0, 0, tzinfo=BJ)
    assert lead.extension_days == 10
    extension.refresh_from_db()
    assert (extension.state, extension.previous_due) == (
        Extension.State.APPROVED,
        datetime(2026, 3, 10, tzinfo=BJ),
    )
    with pytest.raises(Conflict):
        lifecycle.decide_extension(extension, approve=False, note="重复", by=cast.supervisor_a, at=_at(4))

    # 30 in all: 20 are left.
    with pytest.raises(ServiceError, match="1 到 20"):
        lifecycle.request_extension(appeal, days=21, reason="还需要", by=cast.handler_a, at=_at(5))
    second = lifecycle.request_extension(appeal, days=20, reason="还需要", by=cast.handler_a, at=_at(5))
    with pytest.raises(ServiceError, match="理由"):
        lifecycle.decide_extension(second, approve=False, by=cast.supervisor_a, at=_at(5))
    lifecycle.decide_extension(second, approve=False, note="请按期办结", by=cast.supervisor_a, at=_at(5))
    assert _lead(appeal).answer_due == datetime(2026, 3, 24, 0, 0, tzinfo=BJ)  # a denial moves nothing


def test_a_pending_extension_lapses_when_the_department_answers(routed, land):
    cast = routed
    appeal = _signed(cast, land)
    extension = lifecycle.request_extension(appeal, days=5, reason="需会商", by=cast.handler_a, at=_at(3))
    lifecycle.answer_appeal(appeal, answer="已答复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(4))
    extension.refresh_from_db()
    assert extension.state == Extension.State.DENIED
    with pytest.raises(Conflict):
        lifecycle.decide_extension(extension, approve=True, by=cast.supervisor_a, at=_at(5))


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_one_extension_at_once_one_wins(cast):
    from guanjia.appeals import services
    from guanjia.appeals.defaults import ensure_default_categories

    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    second_supervisor = make_user("supervisor_a2", cast.zone_a, Role.SUPERVISOR)
    appeal = _signed(cast, land)
    extension = lifecycle.request_extension(appeal, days=5, reason="需会商", by=cast.handler_a, at=_at(3))

    def decide(by, approve):
        return lambda: lifecycle.decide_extension(
            Extension.objects.select_related("appeal").get(pk=extension.pk),
            approve=approve,
            note="意见",
            by=by,
            at=_at(4),
        )

    results = run_concurrently(decide(cast.supervisor_a, True), decide(second_supervisor, False))
    assert sum(isinstance(r, Extension) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    extension.refresh_from_db()
    decided = AppealEvent.objects.filter(appeal=appeal, action__in=("extension_approved", "extension_denied"))
    assert decided.count() == 1
    moved = _lead(appeal).extension_days
    assert moved == (5 if extension.state == Extension.State.APPROVED else 0)


# --- 协办意见 and 答复审核 ----------------------------------------------------------------------------


def test_a_co_department_gives_its_opinion_once(routed, land):
    cast = routed
    tax = OrgUnit.objects.create(
        name="税务分局", code="zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    tax_handler = make_user("tax_handler", tax, Role.HANDLER)
    appeal = _submit(cast, land)
    lifecycle.dispatch_appeal(appeal, co=[tax], by=cast.dispatcher_a, at=MONDAY)
    for wrong in (cast.handler_a, cast.handler_centre, cast.ent_user_a1, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.give_opinion(appeal, opinion="同意", by=wrong, at=_at(3))
    with pytest.raises(ServiceError):
        lifecycle.give_opinion(appeal, opinion="", by=tax_handler, at=_at(3))
    mine = lifecycle.give_opinion(appeal, opinion="税收政策可以支持", by=tax_handler, at=_at(3))
    co = Assignment.objects.get(pk=mine.pk)
    assert (co.is_lead, co.answer, co.answered_by) == (False, "税收政策可以支持", tax_handler)
    assert appeal.status == Status.DISPATCHED  # an opinion moves no state
    with pytest.raises(Conflict):
        lifecycle.give_opinion(appeal, opinion="再说一次", by=tax_handler, at=_at(3, 11))


def test_where_the_department_requires_it_the_head_approves_the_answer(routed, land):
    cast = routed
    OrgUnit.objects.filter(pk=cast.market_a.pk).update(answers_need_approval=True)
    appeal = _signed(cast, land)
    lead = lifecycle.answer_appeal(
        appeal, answer="草稿答复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(3)
    )
    assert lead.answered_at is None and appeal.status == Status.SIGNED
    assert Notification.objects.filter(user=cast.head_a).exists()
    for wrong in (cast.handler_a, cast.handler_centre, cast.supervisor_a, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.approve_answer(appeal, by=wrong, at=_at(3, 11))
    with pytest.raises(ServiceError, match="意见"):
        lifecycle.reject_answer(appeal, note="", by=cast.head_a, at=_at(3, 11))
    lifecycle.reject_answer(appeal, note="请补充政策依据", by=cast.head_a, at=_at(3, 11))
    assert _lead(appeal).draft_answer == ""
    with pytest.raises(Conflict):
        lifecycle.approve_answer(appeal, by=cast.head_a, at=_at(3, 12))

    lifecycle.answer_appeal(
        appeal, answer="修改后的答复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(4)
    )
    appeal.refresh_from_db()
    lifecycle.approve_answer(appeal, by=cast.head_a, at=_at(4, 11))
    lead = _lead(appeal)
    assert appeal.status == Status.ANSWERED
    assert (lead.answer, lead.answered_by, lead.approved_by) == ("修改后的答复", cast.handler_a, cast.head_a)
    assert [a for a in _actions(appeal) if a.startswith("answer")] == [
        "answer_draft",
        "answer_rejected",
        "answer_draft",
        "answer",
    ]


# --- 不予受理的评价, 申诉复核 --------------------------------------------------------------------------


def test_a_dissatisfied_decline_goes_to_review_and_may_be_sent_back(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    lifecycle.decline_appeal(
        appeal, reason="不属于本园区职能", advice="请向市自然资源局咨询", by=cast.dispatcher_a, at=MONDAY
    )
    assert appeal.rate_due == datetime(2026, 3, 6, 0, 0, tzinfo=BJ)
    with pytest.raises(NotAllowed):
        lifecycle.rate_appeal(
            appeal, level=RatingLevel.DISSATISFIED, solved=False, by=cast.steward_a2, at=_at(3)
        )
    lifecycle.rate_appeal(
        appeal,
        level=RatingLevel.DISSATISFIED,
        solved=False,
        comment="园区有权处理",
        by=cast.ent_user_a1,
        at=_at(3),
    )
    assert appeal.status == Status.DECLINED
    review = Review.objects.get(appeal=appeal)
    assert review.kind == Review.Kind.DECLINE and review.state == Review.State.PENDING
    with pytest.raises(Conflict):  # a decline is rated once
        lifecycle.rate_appeal(
            appeal, level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(3, 11)
        )
    assert lifecycle.close_unrated(now=_at(20)) == 0  # a decline under review does not close

    supervisor_b = make_user("supervisor_b", cast.zone_b, Role.SUPERVISOR)
    for wrong in (supervisor_b, cast.dispatcher_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            lifecycle.decide_review(
                review, decision=Review.State.REOPENED, note="重新受理", by=wrong, at=_at(4)
            )
    with pytest.raises(ServiceError):
        lifecycle.decide_review(
            review, decision=Review.State.CHANGED, note="x", level=4, by=cast.supervisor_a, at=_at(4)
        )
    lifecycle.decide_review(
        review, decision=Review.State.REOPENED, note="属本园区职能，重新受理", by=cast.supervisor_a, at=_at(4)
    )
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED and appeal.rate_due is None
    # Accepted and dispatched like any other from here.
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a, at=_at(5))
    assert appeal.status == Status.DISPATCHED


def test_a_decline_rated_satisfied_or_not_rated_closes(routed, land):
    cast = routed
    rated, unrated = _submit(cast, land), _submit(cast, land)
    for appeal in (rated, unrated):
        lifecycle.decline_appeal(
            appeal, reason="重复提交", advice="请查看原诉求", by=cast.dispatcher_a, at=MONDAY
        )
    lifecycle.rate_appeal(rated, level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(3))
    assert rated.status == Status.CLOSED
    assert lifecycle.close_unrated(now=_at(5, 23)) == 0
    assert lifecycle.close_unrated(now=_at(6, 0)) == 1
    unrated.refresh_from_db()
    assert unrated.status == Status.CLOSED and not unrated.ratings.exists()


def test_a_department_disputes_a_rating_and_the_supervisor_decision_replaces_it(routed, land):
    cast = routed
    appeal = _signed(cast, land)
    lifecycle.answer_appeal(appeal, answer="已修复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(3))
    rating = lifecycle.rate_appeal(
        appeal, level=RatingLevel.FAIRLY_SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(4)
    )
    assert appeal.status == Status.CLOSED
    for wrong in (cast.handler_centre, cast.ent_user_a1, cast.supervisor_a, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.dispute_rating(rating, reason="已按期修复", by=wrong, at=_at(5))
    with pytest.raises(ServiceError, match="工作日"):
        lifecycle.dispute_rating(rating, reason="已按期修复", by=cast.handler_a, at=_at(12))
    review = lifecycle.dispute_rating(rating, reason="已按期修复，附照片", by=cast.handler_a, at=_at(5))
    with pytest.raises(Conflict):
        lifecycle.dispute_rating(rating, reason="再申请", by=cast.head_a, at=_at(5, 11))
    with pytest.raises(ServiceError, match="相同"):
        lifecycle.decide_review(
            review, decision=Review.State.CHANGED, level=3, note="x", by=cast.supervisor_a, at=_at(6)
        )
    lifecycle.decide_review(
        review,
        decision=Review.State.CHANGED,
        level=RatingLevel.SATISFIED,
        note="照片为证",
        by=cast.supervisor_a,
        at=_at(6),
    )
    rating.refresh_from_db()
    assert (rating.level, rating.reviewed_level) == (RatingLevel.FAIRLY_SATISFIED, RatingLevel.SATISFIED)
    assert _actions(appeal)[-2:] == ["dispute", "review_decided"]


def test_a_satisfied_rating_cannot_be_disputed(routed, land):
    cast = routed
    appeal = _signed(cast, land)
    lifecycle.answer_appeal(appeal, answer="已修复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(3))
    rating = lifecycle.rate_appeal(
        appeal, level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(4)
    )
    with pytest.raises(ServiceError, match="基本满意"):
        lifecycle.dispute_rating(rating, reason="x", by=cast.handler_a, at=_at(5))


# --- 合并 ---------------------------------------------------------------------------------------------


def test_a_merged_child_mirrors_its_master_until_answered_then_goes_on_alone(routed, land):
    cast = routed
    master = _signed(cast, land)
    child = _submit(cast, land, enterprise=cast.ent_a2, by=cast.steward_a2, channel=Channel.STEWARD)
    fresh = _submit(cast, land)
    for wrong in (cast.dispatcher_b, cast.handler_a, cast.supervisor_a, cast.outsider):
        with pytest.raises(NotAllowed):
            lifecycle.merge_appeal(child, into=master, by=wrong, at=_at(3))
    with pytest.raises(ServiceError):
        lifecycle.merge_appeal(child, into=child, by=cast.dispatcher_a, at=_at(3))
    with pytest.raises(ServiceError):  # the master must be in hand, not waiting to be accepted
        lifecycle.merge_appeal(child, into=fresh, by=cast.dispatcher_a, at=_at(3))
    lifecycle.merge_appeal(child, into=master, by=cast.dispatcher_a, at=_at(3))
    assert (child.status, child.master_id) == (Status.MERGED, master.pk)
    with pytest.raises(Conflict):
        lifecycle.dispatch_appeal(child, by=cast.dispatcher_a, at=_at(3))

    lifecycle.answer_appeal(master, answer="已统一修复", outcome=Outcome.SOLVED, by=cast.handler_a, at=_at(4))
    child.refresh_from_db()
    assert child.status == Status.ANSWERED and child.rate_due == datetime(2026, 3, 10, 0, 0, tzinfo=BJ)
    assert not Assignment.objects.filter(appeal=child).exists()  # timed by its master's assignment

    # Each is rated by its own enterprise; the child's dissatisfaction reopens the child alone.
    with pytest.raises(NotAllowed):
        lifecycle.rate_appeal(child, level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(5))
    lifecycle.rate_appeal(master, level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1, at=_at(5))
    rating = lifecycle.rate_appeal(
        child, level=RatingLevel.DISSATISFIED, solved=False, by=cast.steward_a2, on_behalf=True, at=_at(5)
    )
    assert rating.assignment == Assignment.objects.get(appeal=master, is_lead=True)
    child.refresh_from_db()
    master.refresh_from_db()
    assert (master.status, child.status, child.reopen_count) == (Status.CLOSED, Status.SIGNED, 1)
    own = _lead(child)
    assert (own.kind, own.department) == (Assignment.Kind.REOPEN, cast.market_a)
    assert "merge_child" in _actions(master)
    assert _actions(child)[-3:] == ["merge", "mirror_answer", "reopen"]
    # The master's department answered the child too: it sees the child and may dispute its rating.
    assert child in Appeal.objects.visible_to(cast.handler_a)
    assert child not in Appeal.objects.visible_to(cast.handler_centre)
    review = lifecycle.dispute_rating(rating, reason="已统一修复", by=cast.handler_a, at=_at(6))
    assert review.appeal == child


# --- provisional deadlines ----------------------------------------------------------------------------


def test_provisional_deadlines_are_recomputed_when_an_admin_enters_the_year(
    routed, land, django_capture_on_commit_callbacks
):
    cast = routed
    at = datetime(2026, 12, 30, 10, 0, tzinfo=BJ)
    appeal = _submit(cast, land, at=at)
    lead = lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a, at=at)[0]
    assert lead.provisional
    # Monday–Friday fallback: Thu 31 Dec, Fri 1, Mon 4, Tue 5, Wed 6 Jan 2027.
    assert lead.answer_due == datetime(2027, 1, 7, 0, 0, tzinfo=BJ)
    with django_capture_on_commit_callbacks(execute=True):
        core_services.set_calendar_day(date(2027, 1, 1), is_workday=False, name="元旦", by=None)
        core_services.set_calendar_day(date(2027, 1, 4), is_workday=False, name="元旦调休", by=None)
        core_services.declare_calendar_year(2027, note="国务院办公厅通知", by=None)
    lead.refresh_from_db()
    assert not lead.provisional
    # 1 and 4 January are holidays now: Thu 31 Dec, Tue 5, Wed 6, Thu 7, Fri 8.
    assert lead.answer_due == datetime(2027, 1, 9, 0, 0, tzinfo=BJ)
    assert lead.original_answer_due == lead.answer_due


# --- department robots ----------------------------------------------------------------------------


def test_the_department_robot_hears_of_dispatch_reopen_and_extension_by_number_only(routed, land):
    cast = routed
    DepartmentWebhook.objects.create(
        unit=cast.market_a,
        kind=DepartmentWebhook.Kind.WECOM,
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )
    appeal = _signed(cast, land)
    lifecycle.request_extension(appeal, days=3, reason="需会商", by=cast.handler_a, at=_at(3))
    messages = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.WEBHOOK).order_by("id")
    assert [m.payload["event"] for m in messages] == ["dispatched", "extension_requested"]
    for message in messages:
        assert message.payload["ref"] == appeal.pk and appeal.title not in str(message.payload)
