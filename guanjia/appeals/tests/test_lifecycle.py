"""The appeal lifecycle through its services: who may, who may not, deadlines, reopen, races."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanjia.appeals import lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import (
    Appeal,
    AppealEvent,
    Assignment,
    Channel,
    Escalation,
    Handling,
    Outcome,
    RatingLevel,
    Status,
)
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OutboxMessage
from guanjia.core.roles import Role
from guanjia.testing import build_cast, make_user, run_concurrently

BJ = ZoneInfo("Asia/Shanghai")
FRIDAY_BEFORE_SPRING_FESTIVAL = datetime(2026, 2, 13, 15, 0, tzinfo=BJ)


def _submit(cast, land, **kwargs):
    return lifecycle.submit_appeal(
        cast.ent_a1,
        title="二期厂房容积率调整",
        body="想了解提高容积率的程序。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        **kwargs,
    )


def _timeline(appeal: Appeal) -> list[str]:
    return list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True))


def test_who_may_submit_and_through_which_channel(routed, land):
    cast = routed
    assert _submit(cast, land).status == Status.SUBMITTED
    lifecycle.submit_appeal(cast.ent_a1, title="t", body="b", channel=Channel.STEWARD, by=cast.steward_a)
    lifecycle.submit_appeal(
        cast.ent_a1,
        title="t",
        body="b",
        channel=Channel.PHONE,
        by=cast.dispatcher_a,
        external_ticket="12345-2026-0001",
    )
    for actor, channel in [
        (cast.ent_user_a1, Channel.STEWARD),
        (cast.steward_a2, Channel.STEWARD),  # another enterprise's steward
        (cast.steward_b, Channel.PORTAL),
        (cast.handler_a, Channel.PHONE),
        (cast.outsider, Channel.PORTAL),
    ]:
        with pytest.raises(NotAllowed):
            lifecycle.submit_appeal(cast.ent_a1, title="t", body="b", channel=channel, by=actor)
    with pytest.raises(NotAllowed):  # an enterprise user of another enterprise
        lifecycle.submit_appeal(cast.ent_a2, title="t", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1)


def test_deadlines_follow_the_work_calendar(routed, land):
    cast = routed
    with time_machine.travel(FRIDAY_BEFORE_SPRING_FESTIVAL, tick=False):
        appeal = _submit(cast, land)
        # Accept within 1 working day: the next working day is Saturday 2026-02-14 (调休), 24:00.
        assert appeal.accept_due == datetime(2026, 2, 15, 0, 0, tzinfo=BJ)
        lead = lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)[0]
    assert lead.department == cast.market_a  # from the routing table
    assert lead.sign_due == datetime(2026, 2, 15, 0, 0, tzinfo=BJ)
    # 一般: 5 working days after Friday 2026-02-13 is Friday 2026-02-27 (Spring Festival 15–23 off).
    assert lead.answer_due == datetime(2026, 2, 28, 0, 0, tzinfo=BJ)
    assert (lead.answer_days, lead.provisional) == (5, False)


def test_urgent_and_external_deadlines(routed, land):
    cast = routed
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BJ), tick=False):
        urgent = _submit(cast, land, urgent=True, handling=Handling.COMPLEX)
        lead = lifecycle.dispatch_appeal(urgent, by=cast.dispatcher_a)[0]
        assert lead.answer_due == datetime(2026, 3, 4, 0, 0, tzinfo=BJ)  # 紧急: 1 working day
        external = datetime(2026, 3, 5, 18, 0, tzinfo=BJ)
        transfer = lifecycle.submit_appeal(
            cast.ent_a1,
            title="12345 转办",
            body="b",
            channel=Channel.PHONE,
            by=cast.dispatcher_a,
            category=land,
            external_ticket="12345-1",
            external_due=external,
        )
        assert lifecycle.dispatch_appeal(transfer, by=cast.dispatcher_a)[0].answer_due == external


def test_deadline_in_an_uncovered_year_is_provisional(routed, land):
    cast = routed
    with time_machine.travel(datetime(2026, 12, 30, 10, 0, tzinfo=BJ), tick=False):
        appeal = _submit(cast, land)
        lead = lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)[0]
    assert lead.provisional and appeal.accept_due_provisional is False


def test_the_whole_loop_with_two_reopens(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    lifecycle.answer_appeal(appeal, answer="请按程序申报。", outcome=Outcome.EXPLAINED, by=cast.handler_a)
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.recipient == "13812345678" and "容积率" not in str(sms.payload)

    lifecycle.rate_appeal(appeal, level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
    assert appeal.status == Status.SIGNED and appeal.reopen_count == 1
    second = Assignment.objects.get(appeal=appeal, is_current=True)
    assert second.kind == Assignment.Kind.REOPEN and second.department == cast.market_a
    first = Assignment.objects.get(appeal=appeal, kind=Assignment.Kind.DISPATCH)
    assert (
        first.answered_at is not None and not first.is_current
    )  # the first deadline is kept, not overwritten

    lifecycle.answer_appeal(appeal, answer="再次答复", outcome=Outcome.PARTLY, by=cast.head_a)
    lifecycle.rate_appeal(appeal, level=RatingLevel.VERY_DISSATISFIED, solved=False, by=cast.ent_user_a1)
    assert appeal.reopen_count == 2
    # 领导协调: the zone's leaders are asked, and the department cannot answer before a leader decides.
    third = Assignment.objects.get(appeal=appeal, is_current=True)
    assert Escalation.objects.filter(assignment=third, level=Escalation.Level.LEADER).count() == 1
    with pytest.raises(ServiceError, match="领导协调"):
        lifecycle.answer_appeal(appeal, answer="最终答复", outcome=Outcome.SOLVED, by=cast.handler_a)
    with pytest.raises(NotAllowed):
        lifecycle.coordinate_appeal(appeal, decision="由市场监管局牵头", by=cast.supervisor_a)
    lifecycle.coordinate_appeal(appeal, decision="由市场监管局牵头，一周内上门", by=cast.leader_a)
    with pytest.raises(Conflict):
        lifecycle.coordinate_appeal(appeal, decision="再次协调", by=cast.leader_a)
    lifecycle.answer_appeal(appeal, answer="最终答复", outcome=Outcome.SOLVED, by=cast.handler_a)
    lifecycle.rate_appeal(appeal, level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED  # the answer after the second reopen is final
    assert Assignment.objects.filter(appeal=appeal).count() == 3
    assert _timeline(appeal) == [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "answer",
        "reopen",
        "answer",
        "reopen",
        "escalate.leader",
        "coordinate",
        "answer",
        "close",
    ]
    assert AuditRecord.objects.filter(object_type="appeals.appeal", object_id=str(appeal.pk)).count() >= 9


def test_satisfied_rating_closes_and_unrated_closes_after_three_working_days(routed, land):
    cast = routed
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BJ), tick=False):
        rated = _submit(cast, land)
        unrated = _submit(cast, land)
        for appeal in (rated, unrated):
            lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
            lifecycle.sign_appeal(appeal, by=cast.handler_a)
            lifecycle.answer_appeal(appeal, answer="已办理", outcome=Outcome.SOLVED, by=cast.handler_a)
        lifecycle.rate_appeal(
            rated, level=RatingLevel.SATISFIED, solved=True, by=cast.steward_a, on_behalf=True
        )
    assert rated.status == Status.CLOSED and rated.ratings.get().on_behalf
    with time_machine.travel(datetime(2026, 3, 5, 23, 0, tzinfo=BJ), tick=False):
        assert lifecycle.close_unrated() == 0  # Thursday: the third working day has not ended
    with time_machine.travel(datetime(2026, 3, 6, 0, 1, tzinfo=BJ), tick=False):
        assert lifecycle.close_unrated() == 1
        assert lifecycle.close_unrated() == 0  # running twice closes nothing twice
    unrated.refresh_from_db()
    assert unrated.status == Status.CLOSED and not unrated.ratings.exists()


def test_who_may_not_handle(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    for actor in (cast.steward_a, cast.handler_a, cast.supervisor_a, cast.leader_a, cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            lifecycle.dispatch_appeal(appeal, by=actor)
    other_zone_dispatcher = cast.dispatcher_b
    with pytest.raises(NotAllowed):
        lifecycle.dispatch_appeal(appeal, by=other_zone_dispatcher)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    wrong_department = cast.handler_centre
    for actor in (wrong_department, cast.steward_a, cast.ent_user_a1, cast.outsider, cast.leader_a):
        with pytest.raises(NotAllowed):
            lifecycle.sign_appeal(appeal, by=actor)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    with pytest.raises(NotAllowed):
        lifecycle.answer_appeal(appeal, answer="x", outcome=Outcome.SOLVED, by=wrong_department)
    lifecycle.answer_appeal(appeal, answer="x", outcome=Outcome.SOLVED, by=cast.handler_a)
    for actor, on_behalf in ((cast.steward_a2, True), (cast.handler_a, False), (cast.leader_a, True)):
        with pytest.raises(NotAllowed):
            lifecycle.rate_appeal(appeal, level=5, solved=True, by=actor, on_behalf=on_behalf)


def test_decline_and_return_rules(routed, land):
    cast = routed
    declined = _submit(cast, land)
    with pytest.raises(ServiceError, match="理由和办理建议"):
        lifecycle.decline_appeal(declined, reason="不属于政务服务范围", advice="", by=cast.dispatcher_a)
    lifecycle.decline_appeal(
        declined, reason="属于民事纠纷", advice="建议通过法律途径解决", by=cast.dispatcher_a
    )
    assert declined.status == Status.DECLINED

    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BJ), tick=False):
        misrouted = _submit(cast, land)
        lifecycle.dispatch_appeal(misrouted, by=cast.dispatcher_a)
        lifecycle.sign_appeal(misrouted, by=cast.handler_a)
    with (
        time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=BJ), tick=False),
        pytest.raises(ServiceError, match="不能再退回"),
    ):
        lifecycle.return_appeal(misrouted, reason="不归本部门", by=cast.handler_a)
    with time_machine.travel(datetime(2026, 3, 3, 20, 0, tzinfo=BJ), tick=False):
        lifecycle.return_appeal(misrouted, reason="不归本部门", by=cast.handler_a)
    assert misrouted.status == Status.RETURNED
    redispatched = lifecycle.dispatch_appeal(misrouted, to=cast.centre_a, by=cast.dispatcher_a)[0]
    assert redispatched.kind == Assignment.Kind.REDISPATCH
    first = Assignment.objects.get(appeal=misrouted, kind=Assignment.Kind.DISPATCH)
    assert first.returned_at is not None and first.return_reason == "不归本部门"


def test_a_stale_state_is_refused(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    with pytest.raises(Conflict, match="没有主办部门"):  # not dispatched yet
        lifecycle.sign_appeal(appeal, by=cast.handler_a)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    stale = Appeal.objects.get(pk=appeal.pk)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    with pytest.raises(Conflict):
        lifecycle.sign_appeal(stale, by=cast.handler_a)


@pytest.mark.django_db(transaction=True)
def test_two_handlers_signing_at_once_one_wins_and_no_event_is_lost():
    cast = build_cast()
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    second = make_user("handler_a2", cast.market_a, Role.HANDLER)
    appeal = _submit(cast, land)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    copies = [Appeal.objects.get(pk=appeal.pk) for _ in range(2)]
    results = run_concurrently(
        lambda: lifecycle.sign_appeal(copies[0], by=cast.handler_a),
        lambda: lifecycle.sign_appeal(copies[1], by=second),
    )
    winners = [r for r in results if isinstance(r, Assignment)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict) and "刷新" in str(losers[0])
    appeal.refresh_from_db()
    assert appeal.status == Status.SIGNED and appeal.version == 3
    assert _timeline(appeal).count("sign") == 1


def test_who_sees_which_appeal(routed, land):
    cast = routed
    appeal = _submit(cast, land)
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    handler_centre, dispatcher_b = cast.handler_centre, cast.dispatcher_b
    for user in (
        cast.ent_user_a1,
        cast.steward_a,
        cast.dispatcher_a,
        cast.supervisor_a,
        cast.leader_a,
        cast.leader_city,
        cast.handler_a,
        cast.head_a,
    ):
        assert Appeal.objects.visible_to(user).filter(pk=appeal.pk).exists(), user
    for user in (
        cast.steward_a2,
        handler_centre,
        dispatcher_b,
        cast.promoter_a,
        cast.sysadmin,
        cast.auditor,
        cast.outsider,
        None,
    ):
        assert not Appeal.objects.visible_to(user).filter(pk=appeal.pk).exists(), user
