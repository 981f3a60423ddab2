"""The effect of an adoption (guanjia.exchange.effects) over hand-built appeals, worked out by hand.

高新区市场监管局 (market_a) put 早九晚五、中午不下班 on trial on Fri 2026-05-15, so 2026 Q2 is left out
of both sides; two quarters on each side: 2025 Q4 and 2026 Q1 before, 2026 Q3 and 2026 Q4 after.
Category 用地规划 is routed to market_a. Each appeal is dispatched at 09:00, signed at 10:00, answered
at 16:00 `days` later (calendar days, all on working days: no holiday falls between) and rated at
17:00 the same day, which closes it (a satisfied rating). market_a's appeals:

    dispatched     answered       working days   rated        closed in
    2025-11-10 Mon 2025-11-12 Wed      2         满意          2025 Q4
    2025-12-08 Mon 2025-12-11 Thu      3         基本满意      2025 Q4
    2026-03-09 Mon 2026-03-10 Tue      1         基本满意      2026 Q1
    2026-04-20 Mon 2026-04-20 Mon      0         非常满意      2026 Q2 (left out)
    2026-07-13 Mon 2026-07-14 Tue      1         非常满意      2026 Q3
    2026-08-10 Mon 2026-08-10 Mon      0         满意          2026 Q3
    (nothing in 2026 Q4)

Beside them, in 2026 Q3, the service centre's (centre_a, zone A) appeal rated 基本满意 and zone B's
rated 基本满意: neither is market_a's.

好评率 (非常满意 + 满意) / rated, for market_a:
    2025 Q4: 1 of 2 = 50.0%      2026 Q1: 0 of 1 = 0.0%       before: 1 of 3 = 33.3%
    2026 Q3: 2 of 2 = 100.0%     2026 Q4: n = 0 → "—"         after:  2 of 2 = 100.0%
    change +66.7 percentage points: better.
平均办理时长 for market_a: before (2 + 3 + 1) / 3 = 2.0; after (1 + 0) / 2 = 0.5; change −1.5: better
(a fall is the improvement).
For the whole zone A (its adoption of the same practice), 2026 Q3 also counts centre_a's: 2 of 3.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from guanjia.appeals import kpi, lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Channel, Outcome, RatingLevel
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.exchange import effects
from guanjia.exchange import practices as services
from guanjia.exchange.effects import Quarter, QuarterState
from guanjia.exchange.models import AdoptionStage
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
TRIAL = date(2026, 5, 15)
NOW = datetime(2027, 1, 10, 10, 0, tzinfo=BJ)


def at(day: date, hour: int) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BJ), tick=False)


def closed_rated(
    enterprise, user, dispatcher, handler, day: date, days: int, level: int, to: OrgUnit | None = None
) -> Appeal:
    """An appeal dispatched on `day`, answered `days` calendar days later and rated `level` that day."""
    with at(day, 9):
        appeal = lifecycle.submit_appeal(
            enterprise,
            title="厂房消防验收",
            body="想了解验收程序。",
            channel=Channel.PORTAL,
            by=user,
            category=ensure_default_categories()["land"],
        )
        lifecycle.dispatch_appeal(appeal, to=to, by=dispatcher)
    with at(day, 10):
        lifecycle.sign_appeal(appeal, by=handler)
    answered = day + timedelta(days=days)
    with at(answered, 16):
        lifecycle.answer_appeal(appeal, answer="已按程序办理。", outcome=Outcome.SOLVED, by=handler)
    with at(answered, 17):
        lifecycle.rate_appeal(appeal, level=level, solved=True, by=user)
    return appeal


@pytest.fixture
def history(cast):
    """The appeals of the module docstring, and the practice with its adoptions (market_a: 好评率 and
    on trial since TRIAL; zone A: 好评率, only 借鉴 on 2026-02-02)."""
    land = ensure_default_categories()["land"]
    appeal_services.set_route(land, cast.zone_a, cast.market_a, by=None)
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    appeal_services.set_route(land, cast.zone_b, market_b, by=None)
    handler_centre = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    handler_b = make_user("handler_b", market_b, Role.HANDLER)
    ours = (cast.ent_a1, cast.ent_user_a1, cast.dispatcher_a, cast.handler_a)
    L = RatingLevel
    for day, days, level in (
        (date(2025, 11, 10), 2, L.SATISFIED),
        (date(2025, 12, 8), 3, L.FAIRLY_SATISFIED),
        (date(2026, 3, 9), 1, L.FAIRLY_SATISFIED),
        (date(2026, 4, 20), 0, L.VERY_SATISFIED),
        (date(2026, 7, 13), 1, L.VERY_SATISFIED),
        (date(2026, 8, 10), 0, L.SATISFIED),
    ):
        closed_rated(*ours, day, days, level)
    closed_rated(
        cast.ent_a1,
        cast.ent_user_a1,
        cast.dispatcher_a,
        handler_centre,
        date(2026, 7, 20),
        0,
        L.FAIRLY_SATISFIED,
        to=cast.centre_a,
    )
    ent_user_b1 = make_user("ent_user_b1", None, Role.ENTERPRISE_USER)
    from guanjia.enterprises.models import EnterpriseMembership

    EnterpriseMembership.objects.create(user=ent_user_b1, enterprise=cast.ent_b1)
    closed_rated(cast.ent_b1, ent_user_b1, dispatcher_b, handler_b, date(2026, 7, 20), 0, L.FAIRLY_SATISFIED)
    with time_machine.travel(NOW, tick=False):
        practice = services.create_practice(
            by=cast.supervisor_a,
            zone=cast.zone_a,
            title="早九晚五、中午不下班",
            description="窗口中午轮流就餐，不停办。",
            seen_at="昆山高新区",
            learned_by="考察组",
        )
        market = services.add_adoption(
            practice,
            unit=cast.market_a,
            kpi="praise_rate",
            referenced_on=date(2026, 2, 2),
            by=cast.supervisor_a,
        )
        services.advance(market, to_stage=AdoptionStage.TRIAL, on=TRIAL, by=cast.supervisor_a, version=1)
        zone = services.add_adoption(
            practice,
            unit=cast.zone_a,
            kpi="praise_rate",
            referenced_on=date(2026, 2, 2),
            by=cast.supervisor_a,
        )
    cast.practice, cast.market_adoption, cast.zone_adoption = practice, market, zone
    return cast


def _figures(effect: effects.Effect) -> list[tuple[str, int, int, str]]:
    return [
        (f.quarter.short_label, f.value.numerator, f.value.denominator, f.state)
        for f in (*effect.before, *effect.after)
    ]


def test_quarters_are_calendar_quarters():
    assert Quarter.of(date(2026, 5, 15)) == Quarter(2026, 2)
    assert (Quarter(2026, 2).start, Quarter(2026, 2).end) == (date(2026, 4, 1), date(2026, 7, 1))
    assert Quarter(2026, 1).shifted(-1) == Quarter(2025, 4)
    assert Quarter(2026, 4).shifted(1) == Quarter(2027, 1)
    assert Quarter(2026, 4).end == date(2027, 1, 1)
    assert Quarter(2025, 4).label == "2025年第4季度"


def test_praise_rate_before_and_after_the_trial_by_hand(history):
    effect = services.effect(history.market_adoption, on=NOW.date())
    assert (effect.pivot, effect.pivot_stage, effect.excluded) == (
        TRIAL,
        AdoptionStage.TRIAL,
        Quarter(2026, 2),
    )
    assert _figures(effect) == [
        ("2025Q4", 1, 2, QuarterState.DONE),
        ("2026Q1", 0, 1, QuarterState.DONE),
        ("2026Q3", 2, 2, QuarterState.DONE),
        ("2026Q4", 0, 0, QuarterState.DONE),
    ]
    assert [effects.shown_value("praise_rate", f.value.value) for f in (*effect.before, *effect.after)] == [
        "50.0%",
        "0.0%",
        "100.0%",
        "—",  # n = 0: no figure, not 0%
    ]
    assert (effect.before_total.numerator, effect.before_total.denominator) == (1, 3)
    assert (effect.after_total.numerator, effect.after_total.denominator) == (2, 2)
    assert effect.change == pytest.approx(2 / 3)
    assert effects.shown_change("praise_rate", effect.change) == "+66.7 个百分点"
    assert effect.improved is True


def test_the_pivot_quarter_is_left_out_and_wider_spans_reach_further(history):
    effect = services.effect(history.market_adoption, quarters=3, on=NOW.date())
    labels = [f.quarter.short_label for f in (*effect.before, *effect.after)]
    assert labels == ["2025Q3", "2025Q4", "2026Q1", "2026Q3", "2026Q4", "2027Q1"]
    assert "2026Q2" not in labels  # the 2026-04-20 appeal (非常满意) counts on neither side
    assert (effect.before_total.numerator, effect.before_total.denominator) == (1, 3)
    assert _figures(effect)[-1] == ("2027Q1", 0, 0, QuarterState.RUNNING)


def test_mean_handling_days_falls_and_a_fall_is_better(history):
    adoption = history.market_adoption
    adoption.kpi = "mean_handling_days"  # the same unit and dates, measured by another KPI
    effect = services.effect(adoption, on=NOW.date())
    assert [(f.value.numerator, f.value.denominator) for f in effect.before] == [(5, 2), (1, 1)]
    assert [(f.value.numerator, f.value.denominator) for f in effect.after] == [(1, 2), (0, 0)]
    assert effect.before_total.value == pytest.approx(2.0)
    assert effect.after_total.value == pytest.approx(0.5)
    assert effects.shown_value("mean_handling_days", effect.before[0].value.value) == "2.5"
    assert effects.shown_change("mean_handling_days", effect.change) == "−1.5 个工作日"
    assert effect.improved is True


def test_a_zone_adoption_counts_all_its_departments_and_pivots_on_the_reference_while_only_referenced(
    history,
):
    effect = services.effect(history.zone_adoption, on=NOW.date())
    # Only 借鉴 (2026-02-02): the pivot's quarter is 2026 Q1.
    assert (effect.pivot, effect.pivot_stage, effect.excluded) == (
        date(2026, 2, 2),
        AdoptionStage.REFERENCE,
        Quarter(2026, 1),
    )
    assert _figures(effect) == [
        ("2025Q3", 0, 0, QuarterState.DONE),
        ("2025Q4", 1, 2, QuarterState.DONE),
        ("2026Q2", 1, 1, QuarterState.DONE),
        ("2026Q3", 2, 3, QuarterState.DONE),  # centre_a's 基本满意 is zone A's too; zone B's is not
    ]


def test_quarters_not_begun_are_not_counted_and_the_running_one_is_counted_so_far(history):
    effect = services.effect(history.market_adoption, on=date(2026, 8, 20))
    assert _figures(effect)[2:] == [
        ("2026Q3", 2, 2, QuarterState.RUNNING),
        ("2026Q4", 0, 0, QuarterState.FUTURE),
    ]


def test_the_rollups_and_the_direct_count_agree(history, monkeypatch):
    fast = services.effect(history.market_adoption, on=NOW.date())
    monkeypatch.setattr(kpi, "USE_ROLLUPS", False)
    direct = services.effect(history.market_adoption, on=NOW.date())
    assert _figures(fast) == _figures(direct)


def test_the_effect_page_shows_the_figures_side_by_side(history, login):
    with time_machine.travel(NOW, tick=False):
        html = login(history.leader_a).get(reverse("exchange:adoption", args=[history.market_adoption.pk]))
    text = html.content.decode()
    assert "以试行日期 2026-05-15 为界。试行日期所在的2026年第2季度不计入前后任何一侧" in text
    for side, quarter, value, n in (
        ("before", "2025Q4", "50.0%", 2),
        ("before", "2026Q1", "0.0%", 1),
        ("after", "2026Q3", "100.0%", 2),
        ("after", "2026Q4", "—", 0),
    ):
        row = text.split(f'data-testid="{side}-{quarter}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-testid="value">{value}<' in row and f'data-testid="n">{n}<' in row, (quarter, row)
    assert 'data-testid="before-total">33.3%<' in text and 'data-testid="before-total-n">3<' in text
    assert 'data-testid="after-total">100.0%<' in text and 'data-testid="after-total-n">2<' in text
    assert 'data-testid="effect-change">+66.7 个百分点<' in text
    assert '"values": [50.0, 0.0, null, null]' in text and '"n": [2, 1, 2, 0]' in text
