"""Routing suggestions of a zone: the model learned from its own answered appeals (promoted only when it
scores no worse on the newest fifth), the keyword rules while the history is short, the rounds recorded
for each dispatch, 一键交办 and the adoption figures."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    CategoryRoute,
    Channel,
    Status,
)
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit
from guanjia.core.roles import Role
from guanjia.dispatch import routing, tasks
from guanjia.dispatch.defaults import ensure_default_rules
from guanjia.dispatch.models import RoutingModel, Source, Suggestion
from guanjia.dispatch.tests.routing_helpers import build_history
from guanjia.testing import Cast, make_user

# A tax question that also names a loan and a patent: the rules rank 税费 (title words count twice),
# then 融资信贷 and 知识产权 (one title word each; the category tree's order breaks the tie).
MIXED_TITLE = "留抵退税到账前想申请贷款"
MIXED_BODY = "公司想用专利做质押，同时咨询增值税留抵退税什么时候能到账。"


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    routing.forget_cached_models()
    yield
    routing.forget_cached_models()


@dataclass
class Desk:
    cast: Cast
    tax: OrgUnit
    finance: OrgUnit
    ip: OrgUnit
    categories: dict[str, AppealCategory]


@pytest.fixture
def desk(cast) -> Desk:
    """Zone A with three more departments routed for 税费, 融资信贷 and 知识产权, and zone B's dispatcher."""
    rules = ensure_default_rules()
    categories = {code: rule.category for code, rule in rules.items()}
    units = {}
    for code, name in (("tax", "税务局"), ("finance", "金融工作局"), ("ip", "知识产权局")):
        units[code] = OrgUnit.objects.create(
            name=f"高新区{name}", code=f"zone-a-{code}", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
        )
        CategoryRoute.objects.create(category=categories[code], zone=cast.zone_a, lead_department=units[code])
    cast.dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    return Desk(cast=cast, tax=units["tax"], finance=units["finance"], ip=units["ip"], categories=categories)


def submit(cast: Cast, title: str = MIXED_TITLE, body: str = MIXED_BODY) -> Appeal:
    return lifecycle.submit_appeal(
        cast.ent_a1, title=title, body=body, channel=Channel.STEWARD, by=cast.steward_a
    )


# --- Training and the model's suggestions ---------------------------------------------------------------


def test_too_little_history_keeps_the_keyword_rules(desk):
    build_history(desk.cast, count=50)

    run = routing.retrain(desk.cast.zone_a, by=desk.cast.dispatcher_a)

    assert not run.is_active and bytes(run.blob) == b""
    assert run.samples == 50
    assert run.note == "历史数据不足（50 条，至少 100 条），继续使用关键词规则"
    assert AuditRecord.objects.filter(action="routing.retrain", actor=desk.cast.dispatcher_a).count() == 1
    shown = routing.suggest_text(desk.cast.zone_a, MIXED_TITLE, MIXED_BODY)
    assert shown.source == Source.RULES and shown.model is None
    assert [route.department for route in shown.routes] == [desk.tax, desk.finance, desk.ip]


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")  # the noise, on purpose
def test_a_first_model_is_promoted_and_a_worse_one_is_not(desk):
    cast = desk.cast
    built = build_history(cast, count=120)

    first = routing.retrain(cast.zone_a, by=cast.dispatcher_a)

    assert first.is_active and bytes(first.blob)
    assert (first.samples, first.held_out) == (120, 24)
    assert first.held_out_accuracy is not None and first.previous_accuracy is None
    assert first.note.endswith("已启用") and "低于" not in first.note

    # The model answers a new appeal of the zone: three routes to departments of the zone, with words.
    appeal = submit(
        cast,
        "增值税留抵退税申请提交两个月仍未到账",
        "我司去年四季度申请了增值税留抵退税，材料齐全，税务部门至今未办结，请协调尽快退税。",
    )
    shown = routing.suggest(appeal)
    assert shown.source == Source.MODEL and shown.model == first
    assert [route.rank for route in shown.routes] == [1, 2, 3]
    assert all(route.department.parent_id == cast.zone_a.pk for route in shown.routes)
    assert shown.routes[0].department == built.departments["税务局"]
    assert shown.routes[0].words and all(word in appeal.title + appeal.body for word in shown.routes[0].words)
    assert shown.routes[0].confidence >= shown.routes[1].confidence >= shown.routes[2].confidence
    # One round, one row: a second look shows what was first shown and records nothing new.
    assert routing.suggest(appeal).routes == shown.routes
    [row] = Suggestion.objects.filter(appeal=appeal)
    assert row.source == Source.MODEL and row.model == first and row.dispatched_at is None
    assert [entry["department"] for entry in row.ranked] == [r.department.pk for r in shown.routes]

    # A department that has left the zone is never suggested.
    leaving = shown.routes[0].department
    OrgUnit.objects.filter(pk=leaving.pk).update(parent=cast.zone_b)
    moved = routing.suggest_text(cast.zone_a, appeal.title, appeal.body)
    assert moved.source == Source.MODEL and len(moved.routes) == 3
    assert leaving.pk not in {route.department.pk for route in moved.routes}
    OrgUnit.objects.filter(pk=leaving.pk).update(parent=cast.zone_a)

    # The older history relabelled at random: the candidate learns noise, the held-out slice (the newest
    # fifth) stays true, so the candidate scores worse than the active model and is not promoted.
    rng = random.Random(7)
    departments = list(built.departments.values())
    categories = list(built.categories.values())
    for lead in built.leads[: 120 - 24]:
        Assignment.objects.filter(pk=lead.pk).update(department=rng.choice(departments))
        Appeal.objects.filter(pk=lead.appeal_id).update(category=rng.choice(categories))

    second = routing.retrain(cast.zone_a, by=cast.dispatcher_a)

    assert not second.is_active and bytes(second.blob) == b""
    worse, active = second.held_out_accuracy, second.previous_accuracy
    assert worse is not None and active is not None and worse < active
    assert second.note == f"留出集准确率 {worse * 100:.1f}% 低于当前模型的 {active * 100:.1f}%，未启用"
    assert list(RoutingModel.objects.filter(zone=cast.zone_a, is_active=True)) == [first]
    assert AuditRecord.objects.filter(action="routing.retrain").count() == 2

    # A model this scikit-learn cannot read (pickled by another version) falls back to the rules.
    RoutingModel.objects.filter(pk=first.pk).update(blob=b'GJRM1\n{"sklearn": "0.0"}\n')
    routing.forget_cached_models()
    fallback = routing.suggest_text(cast.zone_a, MIXED_TITLE, MIXED_BODY)
    assert fallback.source == Source.RULES and fallback.routes


def test_history_is_the_final_answering_department_and_leaves_merged_children_out(desk):
    cast = desk.cast
    built = build_history(cast, count=3)
    returned, reopened, plain = built.appeals
    # Returned by the wrong department, then answered by the tax office.
    Assignment.objects.filter(appeal=returned).update(
        answered_at=None, returned_at=timezone.now(), is_current=False
    )
    Assignment.objects.create(
        appeal=returned,
        department=desk.tax,
        kind=Assignment.Kind.REDISPATCH,
        dispatched_at=datetime(2026, 4, 1, tzinfo=UTC),
        sign_due=datetime(2026, 4, 2, tzinfo=UTC),
        answer_due=datetime(2026, 4, 8, tzinfo=UTC),
        original_answer_due=datetime(2026, 4, 8, tzinfo=UTC),
        answer_days=5,
        answered_at=datetime(2026, 4, 3, tzinfo=UTC),
    )
    # Reopened: answered twice by its department; one sample, not two.
    Assignment.objects.create(
        appeal=reopened,
        department=built.leads[1].department,
        kind=Assignment.Kind.REOPEN,
        dispatched_at=datetime(2026, 4, 5, tzinfo=UTC),
        sign_due=datetime(2026, 4, 6, tzinfo=UTC),
        answer_due=datetime(2026, 4, 12, tzinfo=UTC),
        original_answer_due=datetime(2026, 4, 12, tzinfo=UTC),
        answer_days=5,
        answered_at=datetime(2026, 4, 9, tzinfo=UTC),
    )
    # A merged child has no assignment of its own; a co-handling answer is not a lead's.
    Appeal.objects.create(
        zone=cast.zone_a,
        enterprise=cast.ent_a2,
        master=plain,
        title="子诉求",
        body="同上",
        channel=Channel.STEWARD,
        status=Status.CLOSED,
        submitted_by=cast.steward_a,
        submitted_at=datetime(2026, 4, 1, tzinfo=UTC),
        accept_due=datetime(2026, 4, 2, tzinfo=UTC),
    )
    Assignment.objects.create(
        appeal=plain,
        department=desk.ip,
        is_lead=False,
        dispatched_at=datetime(2026, 4, 20, tzinfo=UTC),
        sign_due=datetime(2026, 4, 21, tzinfo=UTC),
        answer_due=datetime(2026, 4, 28, tzinfo=UTC),
        original_answer_due=datetime(2026, 4, 28, tzinfo=UTC),
        answer_days=5,
        answered_at=datetime(2026, 4, 22, tzinfo=UTC),
    )

    data = routing.history(cast.zone_a)

    assert data.labels == [
        f"{reopened.category_id}:{built.leads[1].department_id}",
        f"{returned.category_id}:{desk.tax.pk}",
        f"{plain.category_id}:{built.leads[2].department_id}",
    ]
    assert data.texts[0] == f"{reopened.title}。{reopened.body}"
    assert routing.history(cast.zone_b).labels == []
    assert len(routing.history(cast.zone_a, cap=2)) == 2


def test_retraining_is_for_the_zones_keepers_and_the_nightly_run_skips_short_histories(desk):
    cast = desk.cast
    build_history(cast, count=30)
    for outsider in (cast.steward_a, cast.supervisor_a, cast.handler_a, cast.dispatcher_b, cast.auditor):
        with pytest.raises(NotAllowed):
            routing.retrain(cast.zone_a, by=outsider)
    assert not RoutingModel.objects.exists()

    run_id = tasks.retrain_zone(cast.zone_a.pk, cast.dispatcher_a.pk).get()

    assert RoutingModel.objects.get(pk=run_id).trained_by == cast.dispatcher_a
    assert tasks.zones_with_history() == []
    assert tasks.retrain_routing_models.call_local() == 0
    assert RoutingModel.objects.count() == 1


# --- Rounds, 一键交办 and adoption ----------------------------------------------------------------------


def test_each_dispatch_records_the_rank_it_took(desk):
    cast = desk.cast
    first, third, other = submit(cast), submit(cast), submit(cast)
    for appeal in (first, third, other):
        assert [r.department for r in routing.suggest(appeal).routes] == [desk.tax, desk.finance, desk.ip]

    for appeal, department in ((first, desk.tax), (third, desk.ip), (other, cast.market_a)):
        lifecycle.dispatch_appeal(appeal, to=department, by=cast.dispatcher_a)

    rows = {row.appeal_id: row for row in Suggestion.objects.all()}
    assert {appeal.pk: rows[appeal.pk].taken_rank for appeal in (first, third, other)} == {
        first.pk: 1,
        third.pk: 3,
        other.pk: 0,
    }
    assert rows[other.pk].dispatched_department == cast.market_a
    assert all(row.dispatched_at is not None and not row.one_click for row in rows.values())


def test_a_dispatch_without_suggestions_shown_counts_nothing_and_a_return_opens_a_new_round(desk):
    cast = desk.cast
    appeal = submit(cast)
    lifecycle.dispatch_appeal(appeal, to=desk.tax, by=cast.dispatcher_a)
    assert not Suggestion.objects.exists()

    handler = make_user("handler_tax", desk.tax, Role.HANDLER)
    lifecycle.return_appeal(Appeal.objects.get(pk=appeal.pk), reason="不属于本部门", by=handler)
    appeal.refresh_from_db()
    assert routing.suggest(appeal).routes
    lifecycle.dispatch_appeal(appeal, to=desk.finance, by=cast.dispatcher_a)
    appeal.refresh_from_db()

    [row] = Suggestion.objects.filter(appeal=appeal)
    assert (row.taken_rank, row.dispatched_department) == (2, desk.finance)
    # The round is closed: a later call for the same dispatch finds nothing open.
    assert routing.record_dispatch(appeal, desk.tax.pk, timezone.now()) is None


def test_take_dispatches_by_the_suggestion_and_marks_the_round(desk):
    cast = desk.cast
    appeal = submit(cast)
    routing.suggest(appeal)

    route = routing.take(appeal, 2, by=cast.dispatcher_a)

    appeal.refresh_from_db()
    assert route.department == desk.finance and route.category == desk.categories["finance"]
    assert appeal.status == Status.DISPATCHED and appeal.category == desk.categories["finance"]
    assert Assignment.objects.get(appeal=appeal, is_lead=True).department == desk.finance
    assert AppealEvent.objects.get(appeal=appeal, action="dispatch").note == "按智能分派建议第 2 项交办"
    [row] = Suggestion.objects.filter(appeal=appeal)
    assert (row.taken_rank, row.one_click) == (2, True)


def test_take_of_a_rank_that_was_not_suggested_is_refused(desk):
    appeal = submit(desk.cast)
    with pytest.raises(ServiceError, match="没有第 4 项建议"):
        routing.take(appeal, 4, by=desk.cast.dispatcher_a)
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED and not Assignment.objects.filter(appeal=appeal).exists()


@pytest.mark.parametrize(
    "who", ["steward_a", "supervisor_a", "leader_a", "handler_a", "dispatcher_b", "sysadmin"]
)
def test_take_is_for_the_zones_dispatchers_only(desk, who):
    appeal = submit(desk.cast)

    with pytest.raises(NotAllowed):
        routing.take(appeal, 1, by=getattr(desk.cast, who))

    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED
    assert not Assignment.objects.filter(appeal=appeal).exists()
    assert not Suggestion.objects.exists()


def test_adoption_counts_the_rounds_dispatched_in_the_period(desk):
    cast = desk.cast
    mine = submit(cast)
    theirs = lifecycle.submit_appeal(
        cast.ent_b1, title="物流园道路", body="货车限行", channel=Channel.STEWARD, by=cast.steward_b
    )
    since = datetime(2026, 5, 1, tzinfo=UTC)
    until = since + timedelta(days=7)

    def row(appeal, at, rank, one_click=False):
        Suggestion.objects.create(
            appeal=appeal,
            zone_id=appeal.zone_id,
            source=Source.RULES,
            created_at=(at or since) - timedelta(minutes=5),
            ranked=[{"department": desk.tax.pk}],
            dispatched_at=at,
            taken_rank=rank,
            one_click=one_click,
        )

    row(mine, since, 1, one_click=True)  # the first moment of the period counts
    row(mine, since + timedelta(days=1), 3)
    row(mine, since + timedelta(days=2), 0)
    row(mine, since - timedelta(seconds=1), 1)  # before the period
    row(mine, until, 1)  # the period ends before `until`
    row(mine, None, None)  # shown, not yet dispatched
    row(theirs, since + timedelta(days=1), 1)  # another zone

    figures = routing.adoption([cast.zone_a.pk], since, until)

    assert (figures.dispatched, figures.first, figures.top3, figures.one_click) == (3, 1, 2, 1)
    assert figures.first_rate == pytest.approx(1 / 3) and figures.top3_rate == pytest.approx(2 / 3)
    both = routing.adoption([cast.zone_a.pk, cast.zone_b.pk], since)
    assert (both.dispatched, both.first, both.top3, both.one_click) == (5, 3, 4, 1)
    nothing = routing.adoption([cast.zone_b.pk], until)
    assert nothing.dispatched == 0 and nothing.first_rate is None and nothing.top3_rate is None
