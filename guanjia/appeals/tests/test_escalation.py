"""督办: the sweep's 预警, 催办 and 红牌 at their working-day thresholds, once each, and 督办 by hand."""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanjia.appeals import escalation, lifecycle, services, tasks
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.escalation import Deadline, Level
from guanjia.appeals.models import AppealCategory, AppealEvent, Assignment, Channel, Escalation, Outcome
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, Notification, OutboxMessage, User
from guanjia.core.roles import Role
from guanjia.testing import build_cast, make_user, run_concurrently

BJ = ZoneInfo("Asia/Shanghai")
# Dispatched on Friday 2026-02-13 with 一般 (5 working days): Spring Festival is off 15–23 February,
# so the deadline is 24:00 on Friday 27 February (answer_due 28 February 00:00). Saturday 28 February
# is a 调休 working day, so the 3rd working day after the deadline is Tuesday 3 March.
DISPATCHED = datetime(2026, 2, 13, 15, 0, tzinfo=BJ)
ANSWER_DUE = datetime(2026, 2, 28, 0, 0, tzinfo=BJ)
SIGN_DUE = datetime(2026, 2, 15, 0, 0, tzinfo=BJ)  # 1 working day: Saturday 14 February (调休)


def at(year: int, month: int, day: int, hour: int, minute: int) -> time_machine.travel:
    return time_machine.travel(datetime(year, month, day, hour, minute, tzinfo=BJ), tick=False)


def _route(cast) -> AppealCategory:
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    cast.head_a = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    return land


@pytest.fixture
def routed(cast):
    # Not the shared `routed` of conftest.py: the concurrent test below builds the same cast by hand.
    cast.land = _route(cast)
    return cast


def _dispatched(cast, *, sign: bool = True, **kwargs):
    with time_machine.travel(DISPATCHED, tick=False):
        appeal = lifecycle.submit_appeal(
            cast.ent_a1,
            title="二期厂房容积率调整",
            body="想了解提高容积率的程序。",
            channel=Channel.PORTAL,
            by=cast.ent_user_a1,
            category=cast.land,
        )
        lead = lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a, **kwargs)[0]
        if sign:
            lifecycle.sign_appeal(appeal, by=cast.handler_a)
    assert (lead.answer_due, lead.sign_due) == (ANSWER_DUE, SIGN_DUE)
    return appeal


def _escalations(appeal) -> list[tuple[str, str]]:
    return list(Escalation.objects.filter(appeal=appeal).values_list("deadline", "level").order_by("id"))


def _inbox() -> list[tuple[str, str]]:
    return sorted(
        (n.user.username, n.title.split("】")[0] + "】") for n in Notification.objects.select_related("user")
    )


def test_warning_yellow_and_red_at_their_working_day_thresholds(routed):
    cast = routed
    appeal = _dispatched(cast)

    with at(2026, 2, 26, 23, 59):  # two working days left: nothing yet
        assert escalation.sweep().total == 0
    with at(2026, 2, 27, 9, 0):  # the deadline's own working day has begun: one working day left
        result = escalation.sweep()
    assert (result.warning, result.yellow, result.red) == (1, 0, 0)
    assert _escalations(appeal) == [(Deadline.ANSWER, Level.WARNING)]
    assert _inbox() == [("handler_a", "【预警】")]  # to the handler, not yet to the head

    with at(2026, 2, 27, 23, 59):
        assert escalation.sweep().total == 0
    with at(2026, 2, 28, 0, 1):  # just after the deadline
        result = escalation.sweep()
    assert (result.warning, result.yellow, result.red) == (0, 1, 0)
    assert _inbox() == [("handler_a", "【预警】"), ("head_a", "【催办】")]

    with at(2026, 3, 3, 23, 59):  # 2/28 (调休), 3/2 and 3/3 overdue: the third has not ended
        assert escalation.sweep().total == 0
    with at(2026, 3, 4, 0, 1):  # three working days overdue
        result = escalation.sweep()
    assert (result.warning, result.yellow, result.red) == (0, 0, 1)
    assert _inbox() == [("handler_a", "【预警】"), ("head_a", "【催办】"), ("leader_a", "【红牌】")]
    assert _escalations(appeal) == [
        (Deadline.ANSWER, Level.WARNING),
        (Deadline.ANSWER, Level.YELLOW),
        (Deadline.ANSWER, Level.RED),
    ]
    # Not the city's leader, nor the department's staff, for a red card of zone A.
    assert not Notification.objects.filter(user=cast.leader_city).exists()
    assert list(
        AppealEvent.objects.filter(appeal=appeal, action__startswith="escalate").values_list(
            "action", flat=True
        )
    ) == ["escalate.warning", "escalate.yellow", "escalate.red"]
    assert AuditRecord.objects.filter(action="appeal.escalate.red", object_id=str(appeal.pk)).count() == 1


def test_a_sweep_that_missed_days_catches_up_without_a_late_warning(routed):
    cast = routed
    appeal = _dispatched(cast)
    with at(2026, 3, 10, 9, 0):
        result = escalation.sweep()
    assert (result.warning, result.yellow, result.red) == (0, 1, 1)
    assert sorted(level for _, level in _escalations(appeal)) == [Level.RED, Level.YELLOW]


def test_red_card_tells_the_leader_by_mail_and_sms_in_the_morning_without_the_appeal_text(routed):
    cast = routed
    cast.leader_a.phone, cast.leader_a.email = "13700000009", "leader@example.cn"
    cast.leader_a.save()
    appeal = _dispatched(cast)
    with at(2026, 3, 4, 0, 1):
        escalation.sweep()
    sms = OutboxMessage.objects.get(channel="sms", recipient="13700000009")
    mail = OutboxMessage.objects.get(channel="email", recipient="leader@example.cn")
    assert sms.available_at == datetime(2026, 3, 4, 8, 0, tzinfo=BJ)  # not at midnight
    for message in (sms, mail):
        text = f"{message.subject} {message.payload}"
        assert "容积率" not in text and "红牌" not in text and "王经理" not in text
        assert message.payload["link"].endswith(f"/appeals/{appeal.pk}/")
    note = Notification.objects.get(user=cast.leader_a)
    assert f"#{appeal.pk}" in note.title and "容积率" not in note.title


def test_sign_deadline_passed_unsigned_goes_to_the_department_head(routed):
    cast = routed
    appeal = _dispatched(cast, sign=False)
    with at(2026, 2, 14, 23, 59):
        assert escalation.sweep().sign_yellow == 0
    with at(2026, 2, 15, 0, 1):
        assert escalation.sweep().sign_yellow == 1
        assert escalation.sweep().total == 0
    assert _escalations(appeal) == [(Deadline.SIGN, Level.YELLOW)]
    assert _inbox() == [("head_a", "【催办】")]
    with at(2026, 2, 28, 0, 1):  # the answer deadline's 催办 is a separate one
        assert escalation.sweep().yellow == 1


def test_a_department_without_a_head_escalates_to_the_zone_supervisors(routed):
    cast = routed
    cast.head_a.delete()
    _dispatched(cast)
    with at(2026, 2, 28, 0, 1):
        escalation.sweep()
    assert _inbox() == [("supervisor_a", "【催办】")]


def test_running_the_sweep_twice_escalates_and_notifies_once(routed):
    cast = routed
    _dispatched(cast)
    with at(2026, 3, 4, 0, 1):
        first, second = escalation.sweep(), escalation.sweep()
        assert tasks.sweep_escalations.call_local() == 0
    assert (first.total, second.total) == (2, 0)
    assert Escalation.objects.count() == 2
    assert Notification.objects.count() == 2


def test_answered_returned_and_co_handling_assignments_are_not_escalated(routed):
    cast = routed
    answered = _dispatched(cast)
    with at(2026, 2, 20, 10, 0):
        lifecycle.answer_appeal(
            answered, answer="请按程序申报。", outcome=Outcome.EXPLAINED, by=cast.handler_a
        )
    returned = _dispatched(cast, sign=False)
    with at(2026, 2, 14, 10, 0):
        lifecycle.return_appeal(returned, reason="不归本部门", by=cast.handler_a)
    co_handled = _dispatched(cast, co=[cast.centre_a])
    with at(2026, 3, 10, 9, 0):
        result = escalation.sweep()
    assert result.total == 2  # co_handled's lead: 催办 and 红牌
    assert set(Escalation.objects.values_list("appeal_id", flat=True)) == {co_handled.pk}
    assert all(e.assignment.is_lead for e in Escalation.objects.select_related("assignment"))


def test_supervisor_escalates_by_hand_and_others_may_not(routed):
    cast = routed
    appeal = _dispatched(cast)
    first = escalation.escalate_by_hand(appeal, note="请本周内答复", by=cast.supervisor_a)
    second = escalation.escalate_by_hand(appeal, note="再次督办", by=cast.supervisor_a)
    assert (first.level, second.level, first.by) == (Level.MANUAL, Level.MANUAL, cast.supervisor_a)
    assert _inbox() == [("handler_a", "【督办】")] * 2 + [("head_a", "【督办】")] * 2
    assert AuditRecord.objects.filter(action="appeal.escalate.manual", actor=cast.supervisor_a).count() == 2

    coordination = escalation.escalate_by_hand(
        appeal, note="跨部门协调", by=cast.supervisor_a, to_leader=True
    )
    assert coordination.level == Level.LEADER
    assert Notification.objects.filter(user=cast.leader_a).count() == 1
    with pytest.raises(Conflict):
        escalation.escalate_by_hand(appeal, note="again", by=cast.supervisor_a, to_leader=True)
    with pytest.raises(ServiceError):
        escalation.escalate_by_hand(appeal, note=" ", by=cast.supervisor_a)

    supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    for actor in (
        cast.steward_a,
        cast.handler_a,
        cast.head_a,
        cast.leader_a,
        cast.dispatcher_a,
        supervisor_b,
    ):
        with pytest.raises(NotAllowed):
            escalation.escalate_by_hand(appeal, note="督办", by=actor)
    assert Escalation.objects.count() == 3

    submitted = lifecycle.submit_appeal(
        cast.ent_a1, title="t", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1, category=cast.land
    )
    with pytest.raises(Conflict):
        escalation.escalate_by_hand(submitted, note="督办", by=cast.supervisor_a)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_and_notify_once():
    cast: Any = build_cast()  # with the routed fixture's extras: land, head_a
    cast.land = _route(cast)
    appeals = [_dispatched(cast) for _ in range(3)] + [_dispatched(cast, sign=False)]
    with at(2026, 3, 4, 0, 1):
        results = run_concurrently(escalation.sweep, escalation.sweep, escalation.sweep)
    assert not [r for r in results if isinstance(r, Exception)], results
    # Each appeal: 催办 and 红牌 on the answer deadline; the unsigned one also 催办 on signing.
    assert sum(r.total for r in results) == 2 * len(appeals) + 1
    assert Escalation.objects.count() == 2 * len(appeals) + 1
    # Every escalation reaches its people once: on its own, or counted in one digest of its batch.
    assert _covered(cast.head_a) == len(appeals) + 1
    assert _covered(cast.leader_a) == len(appeals)
    assert sum(_covered(user) for user in (cast.head_a, cast.leader_a)) == 2 * len(appeals) + 1
    assert Notification.objects.exclude(user__in=[cast.head_a, cast.leader_a]).count() == 0


def _covered(user) -> int:
    """How many escalations a user's notices speak of: a digest says "N 件", one appeal's says one."""
    total = 0
    for title in Notification.objects.filter(user=user).values_list("title", flat=True):
        digest = re.search(r"】(\d+) 件", title)
        total += int(digest.group(1)) if digest else 1
    return total


def test_a_batch_that_meets_an_escalation_written_meanwhile_writes_each_other_one_once(routed, monkeypatch):
    cast = routed
    appeals = [_dispatched(cast) for _ in range(3)]
    # A concurrent sweep wrote the second one's 催办 after this sweep read its rows, before it wrote.
    taken = Assignment.objects.get(appeal=appeals[1], is_current=True)
    real = escalation._escalate_many
    raced: list[Escalation] = []

    def race_then_write(items, **kwargs):
        if not raced:  # the other sweep's row lands between this sweep's reading and its writing
            raced.append(
                Escalation.objects.create(
                    assignment=taken,
                    appeal=appeals[1],
                    level=Level.YELLOW,
                    deadline=Deadline.ANSWER,
                    due=ANSWER_DUE,
                    created_at=ANSWER_DUE,
                )
            )
        return real(items, **kwargs)

    monkeypatch.setattr(escalation, "_escalate_many", race_then_write)
    pokes = []
    monkeypatch.setattr("guanjia.core.outbox._poke_worker", lambda: pokes.append(1))
    with at(2026, 2, 28, 9, 0):
        result = escalation.sweep()
    # The batch was undone by the unique constraint and written again one by one: the other two once.
    assert result.yellow == 2
    for appeal in appeals:
        assert _escalations(appeal) == [(Deadline.ANSWER, Level.YELLOW)]
    assert AppealEvent.objects.filter(action="escalate.yellow").count() == 2
    assert AuditRecord.objects.filter(action="appeal.escalate.yellow").count() == 2
    # Redone one by one, so each of the two is told on its own (the racing sweep told its own).
    assert Notification.objects.filter(title__startswith="【催办】诉求 #").count() == 2


def test_a_sweep_writes_its_batch_in_a_few_statements_and_pokes_the_worker_once(
    routed, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    cast = routed
    User.objects.filter(pk=cast.head_a.pk).update(email="head_a@zone-a.example.cn")
    for _ in range(12):
        _dispatched(cast)
    # Not one set of inserts per escalation: a few statements for the whole batch.
    with (
        at(2026, 2, 28, 9, 0),
        django_capture_on_commit_callbacks() as callbacks,
        django_assert_max_num_queries(40),
    ):
        assert escalation.sweep().yellow == 12
    # One digest for the head, not twelve messages: its inbox and its mail point to the overdue tab.
    (digest,) = Notification.objects.filter(user=cast.head_a)
    assert (digest.title, digest.link) == (
        "【催办】12 件诉求已超过答复期限",
        "/appeals/worklist/?tab=overdue",
    )
    assert OutboxMessage.objects.filter(channel=OutboxMessage.Channel.EMAIL).count() == 1
    # One transaction: the worker is poked once.
    assert [c.__name__ for c in callbacks].count("_poke_worker") == 1


def test_a_deadline_moved_by_an_extension_is_warned_and_chased_again(routed):
    cast = routed
    appeal = _dispatched(cast)
    with at(2026, 2, 27, 9, 0):
        assert escalation.sweep().warning == 1
        extension = lifecycle.request_extension(appeal, days=2, reason="需现场核查", by=cast.handler_a)
        lifecycle.decide_extension(extension, approve=True, note="同意", by=cast.supervisor_a)
    # 24:00 Friday 27 February + 2 working days: Saturday 28 February (调休) and Monday 2 March.
    new_due = datetime(2026, 3, 3, 0, 0, tzinfo=BJ)
    assert Assignment.objects.get(appeal=appeal, is_current=True).answer_due == new_due
    with at(2026, 2, 28, 9, 0):
        assert escalation.sweep().total == 0  # the old deadline has passed, but it is no longer the deadline
    with at(2026, 3, 2, 9, 0):
        assert escalation.sweep().warning == 1  # the new deadline is warned in its turn
    with at(2026, 3, 3, 0, 1):
        assert escalation.sweep().yellow == 1
        assert escalation.sweep().total == 0
    warned = Escalation.objects.filter(appeal=appeal, level=Level.WARNING).order_by("id")
    assert [e.due for e in warned] == [ANSWER_DUE, new_due]
