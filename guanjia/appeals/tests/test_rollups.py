"""The daily rollups (guanjia.appeals.rollups): kept by the services in the same transaction, equal to a
rebuild from scratch, and giving the KPI module's fast path exactly the direct path's figures."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from guanjia.appeals import escalation, kpi, lifecycle, rollups
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.kpi import Period, Scope
from guanjia.appeals.models import (
    OPEN_STATUSES,
    Appeal,
    Assignment,
    Channel,
    DailyRollup,
    Escalation,
    Extension,
    Handling,
    Outcome,
    Rating,
    Review,
    Status,
)
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import build_cast, make_user, run_concurrently

SOURCES_AGREE_CODES = list(kpi.KPIS)


def fresh_rollups(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that write appeal rows directly, not through the services: every reading of the fast
    path counts the rollups afresh first, and must give the direct path's figures."""
    original = kpi._from_rollups

    def counted_afresh(scope, period, now, unit, codes):  # type: ignore[no-untyped-def]
        rollups.rebuild()
        fast = original(scope, period, now, unit, codes)
        direct = kpi._evaluate(scope, period, now, unit, "direct")
        if unit is not None:
            assert set(fast) == {key for key in direct if key}, (set(fast), set(direct))
        for key, values in fast.items():
            for code in codes:
                assert values[code] == direct[key][code], (key, code, values[code], direct[key][code])
        return fast

    monkeypatch.setattr(kpi, "_from_rollups", counted_afresh)


# --- The world of the random sequences ---------------------------------------------------------------


class World:
    """Two zones, two departments each (one handler per department), an enterprise user per enterprise."""

    def __init__(self) -> None:
        cast = build_cast()
        self.cast = cast
        categories = ensure_default_categories()
        self.categories = [None, *sorted(categories.values(), key=lambda c: c.pk)[:3]]
        zone_b = cast.zone_b
        market_b = OrgUnit.objects.create(
            name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=zone_b
        )
        self.departments = {
            cast.zone_a.pk: [cast.market_a, cast.centre_a],
            zone_b.pk: [market_b, cast.centre_b],
        }
        self.handlers = {cast.market_a.pk: cast.handler_a}
        for unit in (cast.centre_a, market_b, cast.centre_b):
            self.handlers[unit.pk] = make_user(f"handler_{unit.code}", unit, Role.HANDLER)
        self.dispatchers = {
            cast.zone_a.pk: cast.dispatcher_a,
            zone_b.pk: make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER),
        }
        self.supervisors = {
            cast.zone_a.pk: cast.supervisor_a,
            zone_b.pk: make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR),
        }
        self.leaders = {cast.zone_a.pk: cast.leader_a, zone_b.pk: make_user("leader_b", zone_b, Role.LEADER)}
        self.enterprises = [cast.ent_a1, cast.ent_a2, cast.ent_b1]

    def appeals(self, *statuses: str) -> list[Appeal]:
        return list(Appeal.objects.filter(status__in=statuses).order_by("pk"))

    def lead(self, appeal: Appeal) -> Assignment | None:
        return appeal.assignments.filter(is_current=True, is_lead=True).first()


def _step(world: World, rng: random.Random) -> None:  # noqa: C901, PLR0912, PLR0915 - one dispatcher of actions
    pick = rng.choice
    action = pick(
        [
            "submit",
            "submit",
            "dispatch",
            "dispatch",
            "decline",
            "sign",
            "sign",
            "return",
            "answer",
            "answer",
            "opinion",
            "pause",
            "resume",
            "extension",
            "decide_extension",
            "rate",
            "rate",
            "dispute",
            "decide_review",
            "merge",
            "close_unrated",
            "sweep",
            "resume_overdue",
        ]
    )
    if action == "submit":
        enterprise = pick(world.enterprises)
        external = None
        if rng.random() < 0.3:  # a 12345 transfer's external deadline, at any hour
            external = (datetime.now(BEIJING) + timedelta(hours=rng.randint(5, 120))).replace(
                minute=0, second=0, microsecond=0
            )
        lifecycle.submit_appeal(
            enterprise,
            title="诉求",
            body="内容",
            channel=Channel.PHONE,
            by=world.dispatchers[enterprise.zone_id],
            category=pick(world.categories),
            handling=pick(list(Handling)),
            urgent=rng.random() < 0.2,
            external_ticket="12345-x" if external else "",
            external_due=external,
        )
    elif action == "dispatch" and (found := world.appeals(Status.SUBMITTED, Status.RETURNED)):
        appeal = pick(found)
        to, other = rng.sample(world.departments[appeal.zone_id], 2)
        co = [other] if rng.random() < 0.5 else []
        lifecycle.dispatch_appeal(appeal, to=to, co=co, by=world.dispatchers[appeal.zone_id])
    elif action == "decline" and (found := world.appeals(Status.SUBMITTED)):
        appeal = pick(found)
        lifecycle.decline_appeal(
            appeal, reason="不属于受理范围", advice="请咨询", by=world.dispatchers[appeal.zone_id]
        )
    elif action in ("sign", "return", "answer", "pause", "extension") and (
        found := world.appeals(
            *{"sign": [Status.DISPATCHED], "return": [Status.DISPATCHED, Status.SIGNED]}.get(
                action, [Status.SIGNED]
            )
        )
    ):
        appeal = pick(found)
        lead = world.lead(appeal)
        assert lead is not None
        handler = world.handlers[lead.department_id]
        if action == "sign":
            lifecycle.sign_appeal(appeal, by=handler)
        elif action == "return":
            lifecycle.return_appeal(appeal, reason="派错了", by=handler)
        elif action == "answer":
            if lifecycle.needs_coordination(appeal):
                lifecycle.coordinate_appeal(appeal, decision="按此办理", by=world.leaders[appeal.zone_id])
                appeal.refresh_from_db()
            lifecycle.answer_appeal(appeal, answer="已办", outcome=pick(list(Outcome)), by=handler)
        elif action == "pause":
            lifecycle.pause_appeal(appeal, request="请补充材料", by=handler)
        else:
            lifecycle.request_extension(appeal, days=rng.randint(1, 4), reason="情况复杂", by=handler)
    elif action == "opinion":
        rows = Assignment.objects.filter(
            is_current=True, is_lead=False, answered_at__isnull=True, appeal__status__in=lifecycle.HANDLING
        ).select_related("appeal")
        if found_rows := list(rows.order_by("pk")):
            row = pick(found_rows)
            lifecycle.give_opinion(row.appeal, opinion="同意", by=world.handlers[row.department_id])
    elif action == "resume" and (found := world.appeals(Status.WAITING)):
        appeal = pick(found)
        lead = world.lead(appeal)
        assert lead is not None
        lifecycle.resume_appeal(appeal, by=world.handlers[lead.department_id], reply="材料已补")
    elif action == "decide_extension":
        if pending := list(Extension.objects.filter(state=Extension.State.PENDING).order_by("pk")):
            extension = pick(pending)
            zone_id = Appeal.objects.get(pk=extension.appeal_id).zone_id
            lifecycle.decide_extension(
                extension, approve=rng.random() < 0.7, note="理由", by=world.supervisors[zone_id]
            )
    elif action == "rate" and (found := world.appeals(Status.ANSWERED, Status.DECLINED)):
        appeal = pick(found)
        lifecycle.rate_appeal(
            appeal,
            level=rng.randint(1, 5),
            solved=rng.random() < 0.6,
            by=world.dispatchers[appeal.zone_id],
            on_behalf=True,
        )
    elif action == "dispute":
        ratings = Rating.objects.filter(assignment__isnull=False, level__lte=3, reviews__isnull=True)
        if found_ratings := list(ratings.select_related("assignment", "appeal").order_by("pk")):
            rating = pick(found_ratings)
            assert rating.assignment is not None
            lifecycle.dispute_rating(
                rating, reason="已解决", by=world.handlers[rating.assignment.department_id]
            )
    elif action == "decide_review":
        if pending_reviews := list(
            Review.objects.filter(state=Review.State.PENDING).select_related("rating")
        ):
            review = pick(pending_reviews)
            zone_id = Appeal.objects.get(pk=review.appeal_id).zone_id
            if review.kind == Review.Kind.DECLINE:
                decision = pick([Review.State.UPHELD, Review.State.REOPENED])
                lifecycle.decide_review(review, decision=decision, note="复核", by=world.supervisors[zone_id])
            else:
                choice = pick([Review.State.UPHELD, Review.State.CHANGED])
                level = pick([lvl for lvl in range(1, 6) if lvl != review.rating.level])
                lifecycle.decide_review(
                    review, decision=choice, note="复核", level=level, by=world.supervisors[zone_id]
                )
    elif action == "merge" and (found := world.appeals(Status.SUBMITTED, Status.RETURNED)):
        child = pick(found)
        masters = [
            a
            for a in world.appeals(*lifecycle.HANDLING)
            if a.zone_id == child.zone_id and a.master_id is None and a.pk != child.pk
        ]
        if masters:
            lifecycle.merge_appeal(child, into=pick(masters), by=world.dispatchers[child.zone_id])
    elif action == "close_unrated":
        lifecycle.close_unrated()
    elif action == "sweep":
        escalation.sweep()
    elif action == "resume_overdue":
        lifecycle.resume_overdue_pauses()


def _drive(world: World, rng: random.Random, steps: int, clock: datetime) -> datetime:
    """Random steps, the clock moving on by 0 to 40 hours before each; returns where it stopped."""
    for _ in range(steps):
        clock += timedelta(hours=rng.randint(0, 40), minutes=rng.choice([0, 30]))
        with time_machine.travel(clock, tick=False), contextlib.suppress(ServiceError, Conflict, NotAllowed):
            _step(
                world, rng
            )  # a move the rules refuse (the return window passed, a 3rd pause) writes nothing
    return clock


def _assert_sources_agree(now: datetime) -> None:
    today = now.astimezone(BEIJING).date()
    month = today.replace(day=1)
    zone_ids = list(Appeal.objects.values_list("zone_id", flat=True).distinct())
    departments = list(Assignment.objects.values_list("department_id", flat=True).distinct())
    periods = [
        Period(month - timedelta(days=40), month),  # past
        Period(today - timedelta(days=6), today + timedelta(days=1)),  # the last week, today included
        Period(date(2026, 1, 1), date(2028, 1, 1)),  # everything
    ]
    scopes = [
        Scope(),
        *(Scope(zone_ids=[zone]) for zone in zone_ids),
        Scope(department_ids=departments[:1]),
        Scope(zone_ids=zone_ids[:1], department_ids=departments),
        Scope(zone_ids=[]),
    ]
    # Also just after a deadline at another hour than 24:00 (an external one) of a row not done yet.
    undone = Assignment.objects.filter(answered_at__isnull=True).values_list("answer_due", flat=True)
    odd = sorted(due for due in undone if due.astimezone(BEIJING).hour)[:2]
    for moment in (
        now,
        now - timedelta(hours=5),
        now + timedelta(hours=30),
        *(due + timedelta(hours=1) for due in odd),
    ):
        for period in periods:
            for scope in scopes:
                fast = kpi.all_kpis(scope, period, now=moment, source="rollups")
                assert fast == kpi.all_kpis(scope, period, now=moment, source="direct"), (
                    scope,
                    period,
                    moment,
                )
                for unit in ("by_department", "by_zone"):
                    read = getattr(kpi, unit)
                    assert read(scope, period, now=moment, source="rollups") == read(
                        scope, period, now=moment, source="direct"
                    ), (unit, scope, period, moment)
    scope, period = Scope(zone_ids=zone_ids[:1]), periods[1]
    for code in ("on_time_signing", "on_time_answering", "co_on_time_feedback"):
        function = getattr(kpi, code)
        assert function(scope, period, now=now, source="rollups") == function(
            scope, period, now=now, source="direct"
        )
    for code in (
        "first_satisfaction",
        "final_satisfaction",
        "praise_rate",
        "solved_rate",
        "reopen_rate",
        "mean_handling_days",
    ):
        function = getattr(kpi, code)
        assert function(scope, period, source="rollups") == function(scope, period, source="direct")


def _assert_readers(now: datetime) -> None:
    today = now.astimezone(BEIJING).date()
    period = Period(today - timedelta(days=20), today + timedelta(days=1))
    for zone_ids in (None, list(Appeal.objects.values_list("zone_id", flat=True).distinct()[:1])):
        appeals = Appeal.objects.all() if zone_ids is None else Appeal.objects.filter(zone_id__in=zone_ids)
        submitted = [
            a for a in appeals if period.start <= a.submitted_at.astimezone(BEIJING).date() < period.end
        ]
        days = Counter(a.submitted_at.astimezone(BEIJING).date() for a in submitted)
        by_day = rollups.volume(zone_ids, period, by="day")
        assert [day for day, _ in by_day] == [period.start + timedelta(days=i) for i in range(21)]
        assert dict(by_day) == {day: days.get(day, 0) for day, _ in by_day}
        weeks = rollups.volume(zone_ids, period, by="week")
        assert all(monday.weekday() == 0 for monday, _ in weeks) and sum(n for _, n in weeks) == len(
            submitted
        )
        assert dict(rollups.volume(zone_ids, period, by="category")) == Counter(
            a.category_id for a in submitted
        )
        assert dict(rollups.volume(zone_ids, period, by="channel")) == Counter(a.channel for a in submitted)
        ages: Counter[int] = Counter()
        for appeal in appeals.filter(status__in=OPEN_STATUSES):
            age = (today - appeal.submitted_at.astimezone(BEIJING).date()).days
            ages[
                next(
                    i
                    for i, (_, low, high) in enumerate(rollups.AGE_BANDS)
                    if low <= age and (high is None or age <= high)
                )
            ] += 1
        assert [n for _, n in rollups.open_by_age(zone_ids, today=today)] == [
            ages[i] for i in range(len(rollups.AGE_BANDS))
        ]
        cards = Escalation.objects.filter(
            level=Escalation.Level.RED,
            appeal__in=appeals,
            **{"created_at__gte": period.start_at, "created_at__lt": period.end_at},
        )
        assert rollups.red_cards(zone_ids, period) == cards.count()


@pytest.mark.parametrize(
    ("seed", "start"),
    [
        (1, datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)),
        (2, datetime(2026, 6, 15, 14, 30, tzinfo=BEIJING)),
        (3, datetime(2026, 12, 14, 10, 0, tzinfo=BEIJING)),  # deadlines reach into 2027: provisional
        (4, datetime(2026, 9, 25, 16, 0, tzinfo=BEIJING)),  # the National Day holidays
    ],
)
@pytest.mark.django_db
def test_random_transitions_keep_the_rollups_equal_to_a_rebuild_and_to_the_direct_path(seed, start):
    rng = random.Random(seed)
    with time_machine.travel(start, tick=False):
        world = World()
    now = start
    for _ in range(4):  # after each sequence
        now = _drive(world, rng, 30, now) + timedelta(hours=rng.randint(0, 30))
        with time_machine.travel(now, tick=False):
            result = rollups.check()
            assert result.ok, (result.differences[:5], result.stale_appeals[:5])
            _assert_sources_agree(now)
            _assert_readers(now)
    statuses = set(Appeal.objects.values_list("status", flat=True))
    assert {Status.CLOSED, Status.SIGNED} <= statuses, statuses  # the sequences went somewhere
    assert DailyRollup.objects.filter(metric="on_time_answering.d").exists()


# --- The fast path reads the rollups only -------------------------------------------------------------


@pytest.mark.django_db
def test_the_fast_path_never_reads_the_appeals_or_assignments_tables():
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        world = World()
    now = _drive(world, random.Random(7), 40, datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    zone = world.cast.zone_a.pk
    period = Period(date(2026, 3, 1), date(2026, 4, 1))
    with CaptureQueriesContext(connection) as queries:
        for scope in (Scope(), Scope(zone_ids=[zone]), Scope(department_ids=[world.cast.market_a.pk])):
            kpi.all_kpis(scope, period, now=now)
            kpi.by_department(scope, period, now=now)
            kpi.by_zone(scope, period, now=now)
            kpi.on_time_answering(scope, period, now=now)
            kpi.mean_handling_days(scope, period)
        for zone_ids in (None, [zone]):
            for by in ("day", "week", "category", "channel"):
                rollups.volume(zone_ids, period, by=by)
            rollups.open_by_age(zone_ids, today=now.date())
            rollups.red_cards(zone_ids, period)
    sql = " ".join(query["sql"] for query in queries.captured_queries).lower()
    assert "appeals_dailyrollup" in sql
    for table in ("appeals_appeal", "appeals_assignment", "appeals_rating", "appeals_escalation"):
        assert f'"{table}"' not in sql and f" {table} " not in sql, table
    # Two statements per KPI reading at most, whatever the number of appeals.
    assert len(queries.captured_queries) <= 15 * 2 + 2 * 6
    # And with an appeals queryset the direct path is taken, as before.
    with CaptureQueriesContext(connection) as queries:
        kpi.all_kpis(Appeal.objects.filter(zone_id=zone), period, now=now)
    assert '"appeals_assignment"' in " ".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_the_rollups_source_refuses_an_appeals_queryset():
    with pytest.raises(ValueError):
        kpi.all_kpis(Appeal.objects.all(), Period(date(2026, 3, 1), date(2026, 4, 1)), source="rollups")


# --- Concurrency ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_writers_adding_to_one_rollup_row_both_land():
    key = (1, "submitted", date(2026, 3, 2), 0, 0, "", 0)

    def add(amount: int) -> None:
        with transaction.atomic():
            rollups.add({key: amount})

    for round_ in range(3):  # the first round inserts the row at once, the others update it
        results = run_concurrently(lambda: add(1), lambda: add(2))
        assert results == [None, None], results
        assert DailyRollup.objects.get(zone_id=1, metric="submitted").value == 3 * (round_ + 1)


@pytest.mark.django_db(transaction=True)
def test_two_co_departments_giving_their_opinions_at_once_are_both_counted():
    # An opinion leaves the appeal's version alone: the refresh's lock makes the second count the first.
    cast = build_cast()
    land = ensure_default_categories()["land"]
    market_b = OrgUnit.objects.create(
        name="部门二", code="zone-a-two", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    market_c = OrgUnit.objects.create(
        name="部门三", code="zone-a-three", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    two, three = (make_user(f"h_{unit.code}", unit, Role.HANDLER) for unit in (market_b, market_c))
    appeal = lifecycle.submit_appeal(
        cast.ent_a1, title="t", body="b", channel=Channel.PHONE, by=cast.dispatcher_a, category=land
    )
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, co=[market_b, market_c], by=cast.dispatcher_a)
    copies = [Appeal.objects.get(pk=appeal.pk) for _ in range(2)]
    results = run_concurrently(
        lambda: lifecycle.give_opinion(copies[0], opinion="同意", by=two),
        lambda: lifecycle.give_opinion(copies[1], opinion="同意", by=three),
    )
    assert all(isinstance(result, Assignment) for result in results), results
    assert rollups.check().ok
    done = DailyRollup.objects.filter(metric="co_on_time_feedback.done").values_list("department_id", "value")
    assert sorted(done) == sorted([(market_b.pk, 1), (market_c.pk, 1)])


# --- rebuild and check ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_then_check_reports_nothing_and_a_tampered_row_is_reported():
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        world = World()
    _drive(world, random.Random(11), 40, datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    DailyRollup.objects.all().delete()  # as after a bulk load without the services
    out = StringIO()
    call_command("kpi", "rebuild", stdout=out)
    assert "corrected" in out.getvalue()
    out = StringIO()
    call_command("kpi", "check", stdout=out)
    assert out.getvalue().startswith("ok")

    row = DailyRollup.objects.filter(metric="submitted").order_by("pk").first()
    assert row is not None
    DailyRollup.objects.filter(pk=row.pk).update(value=row.value + 5)
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("kpi", "check", stdout=out)
    assert failure.value.returncode == 1
    assert (
        f"{row.day} zone {row.zone_id} submitted: expected {row.value}, found {row.value + 5}"
        in out.getvalue()
    )

    # A rebuild corrects it, and stale facts (written behind the services' back) are counted again.
    appeal = Appeal.objects.filter(status=Status.SUBMITTED).first() or Appeal.objects.first()
    assert appeal is not None
    Appeal.objects.filter(pk=appeal.pk).update(channel=Channel.API)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("kpi", "check", stdout=out)
    assert f"#{appeal.pk}" in out.getvalue()
    assert rollups.rebuild() >= 1
    assert rollups.check().ok


@pytest.mark.django_db
def test_a_deadline_at_another_hour_is_judged_once_it_passes():
    cast = build_cast()
    land = ensure_default_categories()["land"]
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        appeal = lifecycle.submit_appeal(
            cast.ent_a1,
            title="12345 转办",
            body="b",
            channel=Channel.PHONE,
            by=cast.dispatcher_a,
            category=land,
            external_ticket="12345-1",
            external_due=datetime(2026, 3, 3, 18, 0, tzinfo=BEIJING),
        )
        lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    scope, march = Scope(zone_ids=[cast.zone_a.pk]), Period(date(2026, 3, 1), date(2026, 4, 1))
    for hour, judged in ((17, 0), (18, 1), (23, 1)):
        now = datetime(2026, 3, 3, hour, 0, tzinfo=BEIJING)
        fast = kpi.on_time_answering(scope, march, now=now)
        assert fast == kpi.on_time_answering(scope, march, now=now, source="direct")
        assert fast.denominator == judged, hour


def test_the_age_bands_cover_every_age_once():
    ages = range(0, 400)
    for age in ages:
        assert (
            sum(1 for _, low, high in rollups.AGE_BANDS if low <= age and (high is None or age <= high)) == 1
        )


@pytest.mark.django_db
def test_the_calendar_changing_recounts_the_handling_days(django_capture_on_commit_callbacks):
    from guanjia.core import services as core_services

    cast = build_cast()
    land = ensure_default_categories()["land"]
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        appeal = lifecycle.submit_appeal(
            cast.ent_a1, title="t", body="b", channel=Channel.PHONE, by=cast.dispatcher_a, category=land
        )
        lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
        lifecycle.sign_appeal(appeal, by=cast.handler_a)
    with time_machine.travel(datetime(2026, 3, 6, 9, 0, tzinfo=BEIJING), tick=False):
        lifecycle.answer_appeal(appeal, answer="a", outcome=Outcome.SOLVED, by=cast.handler_a)
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    scope = Scope(zone_ids=[cast.zone_a.pk])
    assert kpi.mean_handling_days(scope, march) == kpi.KpiValue.of(4, 1)  # Tue–Fri
    # The admin makes Wednesday a day off; on commit the worker (immediate in tests) rebuilds.
    with django_capture_on_commit_callbacks(execute=True):
        core_services.set_calendar_day(date(2026, 3, 4), is_workday=False, name="停工", by=cast.sysadmin)
    assert kpi.mean_handling_days(scope, march) == kpi.KpiValue.of(3, 1)
    assert kpi.mean_handling_days(scope, march, source="direct") == kpi.KpiValue.of(3, 1)
    assert rollups.check().ok
