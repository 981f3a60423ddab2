"""The KPIs (guanjia.appeals.kpi) over a hand-built month, worked out by hand; and their API.

The appeals are placed in March and April 2026 (no holiday in March; 清明 4–6 April
off). Category "land": sign within 1 working day, answer (一般) within 5. A deadline
is 24:00 Beijing time, stored as 00:00 of the next day.

Zone A, lead department 市场监管局 (market_a) unless said:

A1  dispatched Mon 03-02 09:00  sign_due 03-04 00:00  answer_due 03-10 00:00
    signed 03-02 10:00 (on time), answered Wed 03-04 (on time, 2 working days),
    rated 非常满意 / solved → closed 03-04.
A2  dispatched Mon 03-02 09:00, same deadlines
    signed Wed 03-04 09:00 (late), answered Wed 03-11 (late, 7 working days),
    rated 不满意 / not solved → reopened 03-11 10:00 as A2r (starts signed,
    answer_due Wed 03-18 24:00 = 03-19 00:00), answered Fri 03-13 (on time, 2 days),
    rated 满意 / solved → closed 03-13. First rating 不满意, last 满意.
A3  dispatched Mon 03-02 09:00, signed 03-02 (on time), answered Tue 03-03 (on time,
    1 day), never rated: closed 未评价 when its 3 working days ran out (03-07 00:01).
A4  dispatched Mon 03-30 09:00  sign_due 24:00 Tue 03-31 = 04-01 00:00 (a March deadline)
    answer_due: 5 working days after 03-30 skipping 清明 = Tue 04-07 24:00 = 04-08 00:00
    signed 03-31 20:00 (on time), answered 03-31 21:00 (1 day), rated 基本满意 /
    not solved at 23:30 Beijing → closed in March (15:30 UTC, still March either way).
A5  dispatched Mon 03-30 09:00, same deadlines as A4
    signed Wed 04-01 00:30 (late: after 24:00 of 03-31), answered 04-01 01:00 (2 days),
    rated 非常满意 / solved at 02:00 Beijing → closed in April (in UTC it is still 31 March).
A6  dispatched Mon 03-02 09:00 to market_a, returned unsigned at 12:00 (before sign_due:
    not judged), redispatched at 13:00 to the service centre (centre_a) as A6r:
    sign_due 03-04 00:00, answer_due 03-10 00:00, never signed nor answered (late, late).
A7  dispatched Wed 04-01 09:00  sign_due 24:00 Thu 04-02 = 04-03 00:00
    answer_due 5 working days after 04-01 skipping 清明 = Thu 04-09 24:00 = 04-10 00:00
    never signed nor answered: not judged before its deadlines, late after them.
B1  zone B: dispatched 03-02 to zone B's 市场监管局, never signed: outside zone A's scope.

"Now" is 04-15 unless said, so every March and April deadline has passed.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import time_machine
import yaml
from django.conf import settings
from django.db.models import F
from django.test import Client

from guanjia.appeals import kpi, lifecycle, services
from guanjia.appeals.api import KpiSetSerializer
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.kpi import KpiValue, Period, Scope
from guanjia.appeals.models import (
    Appeal,
    Assignment,
    Channel,
    Extension,
    Outcome,
    Pause,
    Rating,
    RatingLevel,
    Status,
)
from guanjia.core import workcalendar
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))
APRIL = Period(date(2026, 4, 1), date(2026, 5, 1))
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=BJ)
SCHEMA_PATH = Path(settings.BASE_DIR).parent / "docs" / "openapi.yaml"


@pytest.fixture(autouse=True)
def _rollups_counted_afresh(monkeypatch):
    """Some of these tests write rows directly, not through the services: each reading of the rollups
    (the fast path of zone and department scopes) counts them afresh and must equal the direct path."""
    from guanjia.appeals.tests.test_rollups import fresh_rollups

    fresh_rollups(monkeypatch)


def at(month: int, day: int, hour: int, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(datetime(2026, month, day, hour, minute, tzinfo=BJ), tick=False)


def _submit(cast, land, enterprise=None, by=None, channel=Channel.PORTAL) -> Appeal:
    return lifecycle.submit_appeal(
        enterprise or cast.ent_a1,
        title="厂房消防验收",
        body="想了解验收程序。",
        channel=channel,
        by=by or cast.ent_user_a1,
        category=land,
    )


def _answer(appeal: Appeal, by, outcome: str = Outcome.SOLVED) -> None:
    lifecycle.answer_appeal(appeal, answer="已按程序办理。", outcome=outcome, by=by)


@pytest.fixture
def month(cast):
    """The appeals of the module docstring; returns the cast with the extra actors and the appeals."""
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    services.set_route(land, cast.zone_b, market_b, by=None)
    cast.market_b = market_b
    cast.head_a = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    cast.dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    handler, user = cast.handler_a, cast.ent_user_a1
    a = {}

    # A3 first: close_unrated closes every answered appeal whose time to rate has run out.
    with at(3, 2, 9):
        for name in ("A1", "A2", "A3", "A6"):
            a[name] = _submit(cast, land)
            lifecycle.dispatch_appeal(a[name], by=cast.dispatcher_a)
        a["B1"] = _submit(cast, land, enterprise=cast.ent_b1, by=cast.steward_b, channel=Channel.STEWARD)
        lifecycle.dispatch_appeal(a["B1"], by=cast.dispatcher_b)
    with at(3, 2, 10):
        lifecycle.sign_appeal(a["A1"], by=handler)
        lifecycle.sign_appeal(a["A3"], by=handler)
    with at(3, 2, 12):
        lifecycle.return_appeal(a["A6"], reason="不归本部门", by=handler)
    with at(3, 2, 13):
        lifecycle.dispatch_appeal(a["A6"], to=cast.centre_a, by=cast.dispatcher_a)
    with at(3, 3, 9):
        _answer(a["A3"], handler)
    with at(3, 7, 0, 1):
        assert lifecycle.close_unrated() == 1  # A3, 未评价

    with at(3, 4, 9):
        lifecycle.sign_appeal(a["A2"], by=handler)
    with at(3, 4, 10):
        _answer(a["A1"], handler)
    with at(3, 4, 11):
        lifecycle.rate_appeal(a["A1"], level=RatingLevel.VERY_SATISFIED, solved=True, by=user)
    with at(3, 11, 9):
        _answer(a["A2"], handler, Outcome.PARTLY)
    with at(3, 11, 10):
        lifecycle.rate_appeal(a["A2"], level=RatingLevel.DISSATISFIED, solved=False, by=user)
    with at(3, 13, 9):
        _answer(a["A2"], handler)
    with at(3, 13, 10):
        lifecycle.rate_appeal(a["A2"], level=RatingLevel.SATISFIED, solved=True, by=user)

    with at(3, 30, 9):
        a["A4"] = _submit(cast, land)
        a["A5"] = _submit(cast, land)
        lifecycle.dispatch_appeal(a["A4"], by=cast.dispatcher_a)
        lead = lifecycle.dispatch_appeal(a["A5"], by=cast.dispatcher_a)[0]
    # The hand computation above rests on these two deadlines.
    assert lead.sign_due == datetime(2026, 4, 1, 0, 0, tzinfo=BJ)
    assert lead.answer_due == datetime(2026, 4, 8, 0, 0, tzinfo=BJ)
    with at(3, 31, 20):
        lifecycle.sign_appeal(a["A4"], by=handler)
    with at(3, 31, 21):
        _answer(a["A4"], handler)
    with at(3, 31, 23, 30):
        lifecycle.rate_appeal(a["A4"], level=RatingLevel.FAIRLY_SATISFIED, solved=False, by=user)
    with at(4, 1, 0, 30):
        lifecycle.sign_appeal(a["A5"], by=handler)
    with at(4, 1, 1):
        _answer(a["A5"], handler)
    with at(4, 1, 2):
        lifecycle.rate_appeal(a["A5"], level=RatingLevel.VERY_SATISFIED, solved=True, by=user)
    with at(4, 1, 9):
        a["A7"] = _submit(cast, land)
        lead = lifecycle.dispatch_appeal(a["A7"], by=cast.dispatcher_a)[0]
    assert (lead.sign_due, lead.answer_due) == (
        datetime(2026, 4, 3, 0, 0, tzinfo=BJ),
        datetime(2026, 4, 10, 0, 0, tzinfo=BJ),
    )
    cast.appeals = a
    return cast


def zone_a(cast) -> Scope:
    return Scope(zone_ids=[cast.zone_a.pk])


def test_march_in_zone_a_by_hand(month):
    got = kpi.all_kpis(zone_a(month), MARCH, now=NOW)
    assert got == {
        # sign_due in March (up to 04-01 00:00 included): A1 ✓, A2 ✗, A3 ✓, A4 ✓, A5 ✗ (signed 00:30
        # after its 24:00 deadline), A6r ✗. Not counted: A2r (a reopen starts signed), A6 (returned
        # unsigned before its deadline).
        "on_time_signing": KpiValue(3, 6, 0.5),
        # answer_due in March: A1 ✓, A2 ✗, A2r ✓ (a reopen judged on its own), A3 ✓, A6r ✗.
        # A4 and A5 are due 04-08; A6 was returned.
        "on_time_answering": KpiValue(3, 5, 0.6),
        # Closed in March: A1, A2, A3 (未评价), A4. Rated: A1, A2, A4.
        # First ratings 非常满意, 不满意, 基本满意 → 2 of 3.
        "first_satisfaction": KpiValue(2, 3, 2 / 3),
        # Last ratings 非常满意, 满意, 基本满意 → 3 of 3.
        "final_satisfaction": KpiValue(3, 3, 1.0),
        # 非常满意 or 满意 in the last rating: A1, A2 → 2 of 3.
        "praise_rate": KpiValue(2, 3, 2 / 3),
        # Last rating solved: A1, A2; A4 not solved; A3 unrated stays in the denominator → 2 of 4.
        "solved_rate": KpiValue(2, 4, 0.5),
        # Reopened: A2 → 1 of 4.
        "reopen_rate": KpiValue(1, 4, 0.25),
        # Answered in March: A1 2 + A2 7 + A2r 2 + A3 1 + A4 1 = 13 working days over 5.
        "mean_handling_days": KpiValue(13, 5, 2.6),
        # No co-handling department on any of them.
        "co_on_time_feedback": KpiValue(0, 0, None),
    }


def test_april_and_the_period_boundary(month):
    got = kpi.all_kpis(zone_a(month), APRIL, now=NOW)
    # A4's and A5's 24:00 31 March deadline (stored 04-01 00:00) is March's, not April's: only A7 ✗.
    assert got["on_time_signing"] == KpiValue(0, 1, 0.0)
    # answer_due in April: A4 ✓ (answered 03-31), A5 ✓ (04-01), A7 ✗ (due 04-10, never answered).
    assert got["on_time_answering"] == KpiValue(2, 3, 2 / 3)
    # A5 closed at 02:00 Beijing on 1 April (still 31 March in UTC): April's.
    for code in ("first_satisfaction", "final_satisfaction", "praise_rate", "solved_rate"):
        assert got[code] == KpiValue(1, 1, 1.0), code
    assert got["reopen_rate"] == KpiValue(0, 1, 0.0)
    # A5: dispatched Mon 03-30, answered Wed 04-01 → 03-31 and 04-01: 2 working days.
    assert got["mean_handling_days"] == KpiValue(2, 1, 2.0)


def test_a_deadline_still_ahead_is_not_judged_yet(month):
    scope = zone_a(month)
    # On 04-02 09:00 A7 is neither due to be signed (04-03 00:00) nor answered (04-10 00:00).
    early = datetime(2026, 4, 2, 9, 0, tzinfo=BJ)
    assert kpi.on_time_signing(scope, APRIL, now=early) == KpiValue(0, 0, None)
    assert kpi.on_time_answering(scope, APRIL, now=early) == KpiValue(2, 2, 1.0)
    # At 24:00 of 04-09 both deadlines have passed: A7 counts as late on both.
    due = datetime(2026, 4, 10, 0, 0, tzinfo=BJ)
    assert kpi.on_time_signing(scope, APRIL, now=due) == KpiValue(0, 1, 0.0)
    assert kpi.on_time_answering(scope, APRIL, now=due) == KpiValue(2, 3, 2 / 3)


def test_single_kpi_functions_agree_with_all_kpis(month):
    scope = zone_a(month)
    with time_machine.travel(NOW, tick=False):
        every = kpi.all_kpis(scope, MARCH)
        singles = {
            "on_time_signing": kpi.on_time_signing(scope, MARCH),
            "on_time_answering": kpi.on_time_answering(scope, MARCH),
            "first_satisfaction": kpi.first_satisfaction(scope, MARCH),
            "final_satisfaction": kpi.final_satisfaction(scope, MARCH),
            "praise_rate": kpi.praise_rate(scope, MARCH),
            "solved_rate": kpi.solved_rate(scope, MARCH),
            "reopen_rate": kpi.reopen_rate(scope, MARCH),
            "mean_handling_days": kpi.mean_handling_days(scope, MARCH),
            "co_on_time_feedback": kpi.co_on_time_feedback(scope, MARCH),
        }
    assert singles == every
    assert list(every) == list(kpi.KPIS)


def test_scopes_zones_and_departments(month):
    cast = month
    # The whole city adds B1: one more late signing (due 03-04) and one more late answer (due 03-10).
    city = kpi.all_kpis(Scope(), MARCH, now=NOW)
    assert city["on_time_signing"] == KpiValue(3, 7, 3 / 7)
    assert city["on_time_answering"] == KpiValue(3, 6, 0.5)
    # A queryset scope is the same as a Scope with it: the zone A leader sees zone A.
    visible = Appeal.objects.visible_to(cast.leader_a)
    assert kpi.all_kpis(visible, MARCH, now=NOW) == kpi.all_kpis(zone_a(cast), MARCH, now=NOW)

    by_department = {row.unit_id: row.kpis for row in kpi.by_department(Scope(), MARCH, now=NOW)}
    assert set(by_department) == {cast.market_a.pk, cast.centre_a.pk, cast.market_b.pk}
    market = by_department[cast.market_a.pk]
    # market_a: A1 ✓ A2 ✗ A3 ✓ A4 ✓ A5 ✗ signing; A1 ✓ A2 ✗ A2r ✓ A3 ✓ answering; all closed appeals.
    assert market["on_time_signing"] == KpiValue(3, 5, 0.6)
    assert market["on_time_answering"] == KpiValue(3, 4, 0.75)
    assert market["solved_rate"] == KpiValue(2, 4, 0.5)
    assert market["mean_handling_days"] == KpiValue(13, 5, 2.6)
    centre = by_department[cast.centre_a.pk]  # A6r only: late on both counts, nothing closed
    assert centre["on_time_signing"] == KpiValue(0, 1, 0.0)
    assert centre["on_time_answering"] == KpiValue(0, 1, 0.0)
    assert centre["final_satisfaction"] == KpiValue(0, 0, None)
    assert centre["mean_handling_days"] == KpiValue(0, 0, None)
    # A department scope counts its own assignments, not the other departments' on the same appeals.
    assert kpi.all_kpis(Scope(department_ids=[cast.market_a.pk]), MARCH, now=NOW) == market

    by_zone = {row.unit_id: row.kpis for row in kpi.by_zone(Scope(), MARCH, now=NOW)}
    assert by_zone[cast.zone_a.pk] == kpi.all_kpis(zone_a(cast), MARCH, now=NOW)
    assert by_zone[cast.zone_b.pk]["on_time_signing"] == KpiValue(0, 1, 0.0)


def test_an_empty_scope_gives_none_never_a_division_by_zero(month):
    for scope in (Appeal.objects.none(), Scope(zone_ids=[]), Scope(department_ids=[month.market_b.pk])):
        got = kpi.all_kpis(scope, Period(date(2026, 1, 1), date(2026, 2, 1)), now=NOW)
        assert set(got) == set(kpi.KPIS)
        assert all(value == KpiValue(0, 0, None) for value in got.values()), got
    assert kpi.by_department(Appeal.objects.none(), MARCH, now=NOW) == []


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ValueError):
        Period(date(2026, 3, 1), date(2026, 3, 1))


def test_the_queries_stay_few(month, django_assert_max_num_queries):
    # One query per kind of row (signing, answering, co-handling, closed appeals, answered pairs),
    # plus the work calendar's version token, which tests read on every call (one per distinct
    # group of days).
    with django_assert_max_num_queries(5 + 6):
        kpi.all_kpis(Scope(), MARCH, now=NOW, source="direct")  # the rollups' reading: test_rollups.py


# --- API -----------------------------------------------------------------------------------------

URL = "/api/kpis/"


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative, objects are closed."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("type") == "object" and "properties" in node:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _check_schema(path: str, status: int, body: Any) -> None:
    openapi = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    content = openapi["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]
    schema = {**copy.deepcopy(content["schema"]), "components": _as_json_schema(openapi["components"])}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_api_gives_every_kpi_of_the_callers_scope(month, login):
    with time_machine.travel(NOW, tick=False):
        response = login(month.leader_a).get(URL, {"start": "2026-03-01", "end": "2026-04-01"})
    assert response.status_code == 200, response.content
    body = response.json()
    _check_schema("/api/kpis/", 200, body)
    assert (body["start"], body["end"], body["zone"], body["department"]) == (
        "2026-03-01",
        "2026-04-01",
        None,
        None,
    )
    assert body["kpis"]["on_time_signing"] == {
        "name": "按时签收率",
        "numerator": 3,
        "denominator": 6,
        "value": 0.5,
        "provisional": 0,
    }
    assert body["kpis"]["mean_handling_days"]["value"] == 2.6
    assert body["kpis"]["first_satisfaction"]["denominator"] == 3


def test_api_narrows_to_a_zone_or_a_department(month, login):
    cast = month
    march = {"start": "2026-03-01", "end": "2026-04-01"}
    with time_machine.travel(NOW, tick=False):
        city = login(cast.leader_city)
        assert city.get(URL, march).json()["kpis"]["on_time_signing"]["denominator"] == 7
        assert (
            city.get(URL, {**march, "zone": cast.zone_a.pk}).json()["kpis"]["on_time_signing"]["denominator"]
            == 6
        )
        narrowed = city.get(URL, {**march, "department": cast.centre_a.pk}).json()
        assert narrowed["kpis"]["on_time_signing"] == {
            "name": "按时签收率",
            "numerator": 0,
            "denominator": 1,
            "value": 0.0,
            "provisional": 0,
        }
        # A department head sees its own department, whatever it asks for.
        head = login(cast.head_a).get(URL, march).json()
        assert head["department"] == cast.market_a.pk
        assert head["kpis"]["on_time_signing"]["denominator"] == 5
        refused = login(cast.head_a).get(URL, {**march, "department": cast.centre_a.pk})
        assert refused.status_code == 400 and "本部门" in refused.json()["department"][0]
        # zone A's leader may not look into zone B.
        other = login(cast.leader_a).get(URL, {**march, "zone": cast.zone_b.pk})
        assert other.status_code == 400 and "zone" in other.json()["zone"][0]


def test_api_by_department(month, login):
    cast = month
    with time_machine.travel(NOW, tick=False):
        response = login(cast.dispatcher_a).get(
            f"{URL}by-department/", {"start": "2026-03-01", "end": "2026-04-01"}
        )
    assert response.status_code == 200, response.content
    body = response.json()
    _check_schema("/api/kpis/by-department/", 200, body)
    rows = {row["department"]: row for row in body["departments"]}
    assert set(rows) == {cast.market_a.pk, cast.centre_a.pk}  # not zone B's
    assert rows[cast.market_a.pk]["department_name"] == "高新区市场监管局"
    assert rows[cast.market_a.pk]["kpis"]["on_time_answering"]["numerator"] == 3
    assert rows[cast.market_a.pk]["kpis"]["on_time_answering"]["denominator"] == 4
    assert rows[cast.centre_a.pk]["kpis"]["on_time_signing"]["value"] == 0.0


def test_who_may_read_the_kpis(month, login):
    cast = month
    march = {"start": "2026-03-01", "end": "2026-04-01"}
    for user in (cast.leader_a, cast.leader_city, cast.supervisor_a, cast.dispatcher_a, cast.head_a):
        for url in (URL, f"{URL}by-department/"):
            assert login(user).get(url, march).status_code == 200, (user, url)
    for user in (
        cast.ent_user_a1,
        cast.steward_a,
        cast.handler_a,
        cast.promoter_a,
        cast.sysadmin,
        cast.secadmin,
        cast.auditor,
        cast.outsider,
    ):
        for url in (URL, f"{URL}by-department/"):
            response = login(user).get(url, march)
            assert response.status_code == 403, (user, url)
            assert "考核指标" in response.json()["detail"]
    assert Client().get(URL, march).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"end": "2026-04-01"}, "start", "开始日期 start"),
        ({"start": "2026-13-01", "end": "2026-04-01"}, "start", "开始日期 start"),
        ({"start": "2026-03-01", "end": "04/01/2026"}, "end", "结束日期 end"),
        ({"start": "2026-03-01", "end": "2026-03-01"}, "end", "必须晚于开始日期"),
        ({"start": "2026-03-01", "end": "2026-04-01", "zone": "高新区"}, "zone", "园区 zone"),
    ],
)
def test_api_refuses_bad_parameters_naming_the_field(cast, login, params, field, words):
    response = login(cast.leader_a).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {field} and words in body[field][0], body


def test_the_serializer_lists_every_kpi():
    assert list(KpiSetSerializer().fields) == list(kpi.KPIS)


def test_on_time_is_strictly_before_the_deadline(month):
    # A signature at the very instant of the deadline (24:00) is late, as everywhere in the code.
    a1 = Assignment.objects.get(appeal=month.appeals["A1"])
    Assignment.objects.filter(pk=a1.pk).update(signed_at=a1.sign_due)
    assert kpi.on_time_signing(zone_a(month), MARCH, now=NOW) == KpiValue(2, 6, 1 / 3)


# --- The rest of the loop, on rows written by hand ------------------------------------------------
#
# These tests write Appeal, Assignment, Pause, Extension and Rating rows directly, with the values
# the lifecycle services write (answer_due with extensions and pauses applied, paused_days,
# reviewed_level, master, Rating.assignment), so that each figure can be worked out by hand. They
# are placed in June 2026 (Mon 1 June; 端午 Fri 19 June off, no other holiday), judged on 15 July.

JUNE = Period(date(2026, 6, 1), date(2026, 7, 1))
JULY_15 = datetime(2026, 7, 15, 12, 0, tzinfo=BJ)


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BJ)


def end_of(month: int, day: int, year: int = 2026) -> datetime:
    """A deadline of 24:00 on that day, stored as 00:00 of the next."""
    return bj(month, day, year=year) + timedelta(days=1)


def _appeal(cast, *, closed: datetime | None = None, enterprise=None, **fields) -> Appeal:
    """An appeal (of zone A unless said), closed at `closed` (else still in hand)."""
    fields.setdefault("status", Status.CLOSED if closed else Status.SIGNED)
    fields.setdefault("zone", cast.zone_a)
    return Appeal.objects.create(
        enterprise=enterprise or cast.ent_a1,
        title="厂房消防验收",
        body="想了解验收程序。",
        channel=Channel.PORTAL,
        submitted_by=cast.ent_user_a1,
        submitted_at=bj(5, 29, 9),
        accept_due=end_of(6, 1),
        closed_at=closed,
        **fields,
    )


def _assignment(
    appeal: Appeal,
    department: OrgUnit,
    *,
    dispatched: datetime,
    answer_due: datetime,
    answered: datetime | None = None,
    lead: bool = True,
    **fields,
) -> Assignment:
    """Signed at once; signing is not what these tests look at."""
    fields.setdefault("sign_due", workcalendar.deadline(dispatched, 1).due)
    fields.setdefault("signed_at", dispatched)
    fields.setdefault("original_answer_due", answer_due)
    return Assignment.objects.create(
        appeal=appeal,
        department=department,
        is_lead=lead,
        dispatched_at=dispatched,
        answer_due=answer_due,
        answer_days=5,
        answered_at=answered,
        **fields,
    )


def _rate(
    appeal: Appeal,
    level: int,
    at: datetime,
    *,
    by,
    assignment: Assignment | None = None,
    solved: bool = True,
    reviewed: int | None = None,
) -> Rating:
    return Rating.objects.create(
        appeal=appeal,
        assignment=assignment,
        level=level,
        solved=solved,
        rated_by=by,
        at=at,
        reviewed_level=reviewed,
    )


def test_answering_reads_the_deadline_in_force_and_handling_time_leaves_pauses_out(cast):
    market = cast.market_a
    # EXT  dispatched Mon 06-01 09:00, first due 24:00 Mon 06-08 (5 working days) = 06-09 00:00;
    #      3 days' extension approved Fri 06-05 → due 24:00 Thu 06-11 = 06-12 00:00.
    #      Answered Thu 06-11 16:00: on time (late against the first deadline).
    #      Handling: (06-01, 06-11] = 2 3 4 5 8 9 10 11 = 8 working days, nothing paused → 8.
    ext = _assignment(
        _appeal(cast),
        market,
        dispatched=bj(6, 1, 9),
        original_answer_due=end_of(6, 8),
        answer_due=end_of(6, 11),
        extension_days=3,
        answered=bj(6, 11, 16),
    )
    Extension.objects.create(
        assignment=ext,
        appeal=ext.appeal,
        days=3,
        reason="需现场核查",
        requested_by=cast.handler_a,
        requested_at=bj(6, 4, 9),
        state=Extension.State.APPROVED,
        decided_at=bj(6, 5, 10),
        previous_due=end_of(6, 8),
        new_due=end_of(6, 11),
    )
    # PAU  dispatched Mon 06-01 09:00, first due 06-09 00:00; paused Tue 06-02 10:00 to Thu 06-04
    #      10:00 = (06-02, 06-04] = 2 working days → due 24:00 Wed 06-10 = 06-11 00:00.
    #      Answered Wed 06-10 15:00: on time (late against the first deadline).
    #      Handling: (06-01, 06-10] = 7, less 2 paused → 5.
    pau = _assignment(
        _appeal(cast),
        market,
        dispatched=bj(6, 1, 9),
        original_answer_due=end_of(6, 8),
        answer_due=end_of(6, 10),
        paused_days=2,
        answered=bj(6, 10, 15),
    )
    Pause.objects.create(
        assignment=pau,
        appeal=pau.appeal,
        request="营业执照副本",
        requested_by=cast.handler_a,
        started_at=bj(6, 2, 10),
        resume_by=end_of(6, 9),
        resumed_at=bj(6, 4, 10),
        working_days=2,
    )
    # LATE dispatched Mon 06-01 09:00, paused 1 working day → due 24:00 Tue 06-09 = 06-10 00:00.
    #      Answered Wed 06-10 09:00: late even with the pause. Handling: 7 less 1 → 6.
    _assignment(
        _appeal(cast),
        market,
        dispatched=bj(6, 1, 9),
        original_answer_due=end_of(6, 8),
        answer_due=end_of(6, 9),
        paused_days=1,
        answered=bj(6, 10, 9),
    )
    # ODD  dispatched Fri 06-12 09:00, due 24:00 Mon 06-22 (端午 06-19 skipped) = 06-23 00:00, answered
    #      Mon 06-15 10:00: on time. Its paused_days (3) exceed the (06-12, 06-15] = 1 working day
    #      between dispatch and answer, as a hand correction could leave it: 1 - 3 counts 0, not -2.
    _assignment(
        _appeal(cast),
        market,
        dispatched=bj(6, 12, 9),
        answer_due=end_of(6, 22),
        paused_days=3,
        answered=bj(6, 15, 10),
    )
    scope = Scope(zone_ids=[cast.zone_a.pk])

    # answer_due in June: EXT ✓, PAU ✓, LATE ✗, ODD ✓ → 3 of 4.
    assert kpi.on_time_answering(scope, JUNE, now=JULY_15) == KpiValue(3, 4, 0.75)
    # Judged on their first deadlines EXT and PAU would have been late too: only ODD on time.
    assert Assignment.objects.filter(answered_at__lt=F("original_answer_due")).count() == 1
    # EXT 8 + PAU 5 + LATE 6 + ODD 0 = 19 working days over 4 (23 with the pauses left in).
    assert kpi.mean_handling_days(scope, JUNE) == KpiValue(19, 4, 4.75)
    # The same in a ranking, where the groups also carry the department.
    by_department = {row.unit_id: row.kpis for row in kpi.by_department(scope, JUNE, now=JULY_15)}
    assert by_department[market.pk]["mean_handling_days"] == KpiValue(19, 4, 4.75)


def test_pauses_and_extensions_per_department(cast):
    market, centre = cast.market_a, cast.centre_a

    def pause(assignment, started, resumed=None, days=None):
        Pause.objects.create(
            assignment=assignment,
            appeal=assignment.appeal,
            request="补充产权证明",
            requested_by=cast.handler_a,
            started_at=started,
            resume_by=workcalendar.deadline(started, 5).due,
            resumed_at=resumed,
            working_days=days,
        )

    def extension(assignment, days, state, decided=None):
        Extension.objects.create(
            assignment=assignment,
            appeal=assignment.appeal,
            days=days,
            reason="需现场核查",
            requested_by=cast.handler_a,
            requested_at=bj(5, 25, 9),
            state=state,
            decided_at=decided,
        )

    m1 = _assignment(_appeal(cast), market, dispatched=bj(5, 25, 9), answer_due=end_of(6, 8))
    pause(m1, bj(5, 28, 10), bj(6, 2, 10), 3)  # started in May, resumed in June: its 3 days are June's
    pause(m1, bj(6, 3, 10), bj(6, 5, 10), 2)  # started and resumed in June
    m2 = _assignment(_appeal(cast), market, dispatched=bj(6, 22, 9), answer_due=end_of(6, 29))
    pause(m2, bj(6, 29, 10), bj(7, 2, 10), 3)  # started in June, resumed (and its days known) in July
    extension(m2, 5, Extension.State.APPROVED, bj(6, 30, 10))  # June's
    extension(m2, 4, Extension.State.DENIED, bj(6, 24, 10))  # denied: not counted
    extension(m1, 2, Extension.State.PENDING)  # undecided: not counted
    c1 = _assignment(_appeal(cast), centre, dispatched=bj(6, 8, 9), answer_due=end_of(6, 15))
    pause(c1, bj(6, 9, 10))  # still waiting: started in June, no days yet
    extension(c1, 2, Extension.State.APPROVED, bj(6, 10, 10))  # June's
    extension(c1, 4, Extension.State.APPROVED, bj(7, 1, 0, 0))  # 00:00 on 1 July is July's
    zone_b = _appeal(cast, enterprise=cast.ent_b1, zone=cast.zone_b)
    b1 = _assignment(zone_b, cast.centre_b, dispatched=bj(6, 1, 9), answer_due=end_of(6, 8))
    pause(b1, bj(6, 3, 10), bj(6, 4, 10), 1)

    scope = Scope(zone_ids=[cast.zone_a.pk])
    # market_a: started p2 (06-03), p3 (06-29) = 2; resumed p1, p2 = 2 with 3 + 2 = 5 days;
    #           approved extensions: 5 days on 06-30 → 1, 5 days.
    # centre_a: started 1 (still waiting), nothing resumed; approved on 06-10: 1, 2 days.
    rows = kpi.pauses_by_department(scope, JUNE)
    assert [row.department_id for row in rows] == sorted([centre.pk, market.pk])  # by department id
    assert {row.department_id: row for row in rows} == {
        centre.pk: kpi.PauseFigures(centre.pk, 1, 0, 0, 1, 2),
        market.pk: kpi.PauseFigures(market.pk, 2, 2, 5, 1, 5),
    }
    assert kpi.pause_totals(scope, JUNE) == kpi.PauseFigures(None, 3, 2, 5, 2, 7)
    # July: p3 resumed with 3 days; c1's second extension (4 days) approved at 00:00 on 1 July.
    july = Period(date(2026, 7, 1), date(2026, 8, 1))
    assert kpi.pause_totals(scope, july) == kpi.PauseFigures(None, 0, 1, 3, 1, 4)
    # The whole city adds zone B's pause (started and resumed in June, 1 day).
    assert kpi.pause_totals(Scope(), JUNE) == kpi.PauseFigures(None, 4, 3, 6, 2, 7)
    # One department only.
    assert kpi.pauses_by_department(Scope(department_ids=[centre.pk]), JUNE) == [
        kpi.PauseFigures(centre.pk, 1, 0, 0, 1, 2)
    ]


def test_review_decisions_replace_the_last_rating_and_declines_are_rated(cast):
    market, user = cast.market_a, cast.ent_user_a1

    def handled(closed, **fields):
        appeal = _appeal(cast, closed=closed, **fields)
        lead = _assignment(
            appeal, market, dispatched=bj(6, 1, 9), answer_due=end_of(6, 8), answered=bj(6, 2, 9)
        )
        return appeal, lead

    # R1: rated 基本满意, disputed by the department, 改判 to 满意.
    r1, lead = handled(bj(6, 5, 11))
    _rate(
        r1,
        RatingLevel.FAIRLY_SATISFIED,
        bj(6, 5, 11),
        by=user,
        assignment=lead,
        reviewed=RatingLevel.SATISFIED,
    )
    # R2: first 不满意 (later 改判 to 基本满意), reopened, then 满意.
    r2, lead = handled(bj(6, 9, 10), reopen_count=1)
    _rate(
        r2,
        RatingLevel.DISSATISFIED,
        bj(6, 3, 10),
        by=user,
        assignment=lead,
        reviewed=RatingLevel.FAIRLY_SATISFIED,
    )
    _rate(r2, RatingLevel.SATISFIED, bj(6, 9, 10), by=user, assignment=lead)
    # R3: reopened twice, the final answer rated 非常不满意, 改判 to 基本满意; not solved.
    r3, lead = handled(bj(6, 10, 10), reopen_count=2)
    _rate(r3, RatingLevel.DISSATISFIED, bj(6, 2, 10), by=user, assignment=lead, solved=False)
    _rate(r3, RatingLevel.DISSATISFIED, bj(6, 5, 10), by=user, assignment=lead, solved=False)
    _rate(
        r3,
        RatingLevel.VERY_DISSATISFIED,
        bj(6, 10, 10),
        by=user,
        assignment=lead,
        solved=False,
        reviewed=RatingLevel.FAIRLY_SATISFIED,
    )
    # D1: declined, the decline rated 基本满意 / not solved → closed. No assignment, no department.
    d1 = _appeal(
        cast, closed=bj(6, 2, 10), decline_reason="不属于政务服务事项", decline_advice="请咨询行业协会"
    )
    _rate(d1, RatingLevel.FAIRLY_SATISFIED, bj(6, 2, 10), by=user, solved=False)
    # D2: declined, the decline rated 不满意; the supervisor sent it back, it was dispatched to
    #     market_a, answered and rated 非常满意 → closed. Not a reopen.
    d2, lead = handled(bj(6, 8, 10))
    _rate(d2, RatingLevel.DISSATISFIED, bj(6, 2, 10), by=user, solved=False)
    _rate(d2, RatingLevel.VERY_SATISFIED, bj(6, 8, 10), by=user, assignment=lead)
    # U1: closed 未评价.
    handled(bj(6, 12, 0, 1))

    got = kpi.all_kpis(Scope(zone_ids=[cast.zone_a.pk]), JUNE, now=JULY_15)
    # Closed in June: R1 R2 R3 D1 D2 U1 = 6; rated: all but U1 = 5.
    # First ratings, as given: R1 基本满意 ✓, R2 不满意 ✗ (its 改判 does not count), R3 不满意 ✗,
    # D1 基本满意 ✓ (the decline's rating), D2 不满意 ✗ (the decline's rating) → 2 of 5.
    assert got["first_satisfaction"] == KpiValue(2, 5, 0.4)
    # Last ratings after review: R1 满意, R2 满意, R3 基本满意 (not 非常不满意), D1 基本满意, D2 非常满意
    # → 5 of 5 satisfied (4 without the review of R3).
    assert got["final_satisfaction"] == KpiValue(5, 5, 1.0)
    # 非常满意 or 满意: R1 (改判 from 基本满意), R2, D2 → 3 of 5 (2 without the review of R1).
    assert got["praise_rate"] == KpiValue(3, 5, 0.6)
    # Solved in the last rating: R1, R2, D2 → 3 of 6 (U1 in the denominator).
    assert got["solved_rate"] == KpiValue(3, 6, 0.5)
    # Reopened: R2, R3 (D2's reconsideration is no reopen) → 2 of 6.
    assert got["reopen_rate"] == KpiValue(2, 6, 1 / 3)
    # market_a answered all but D1, which has no department: R1 R2 R3 D2 U1.
    (row,) = kpi.by_department(Scope(zone_ids=[cast.zone_a.pk]), JUNE, now=JULY_15)
    assert row.unit_id == market.pk
    assert row.kpis["first_satisfaction"] == KpiValue(1, 4, 0.25)  # R1
    assert row.kpis["final_satisfaction"] == KpiValue(4, 4, 1.0)
    assert row.kpis["praise_rate"] == KpiValue(3, 4, 0.75)  # R1 R2 D2
    assert row.kpis["solved_rate"] == KpiValue(3, 5, 0.6)


def test_a_merged_child_counts_its_masters_assignments_once_and_its_own_rating(cast):
    centre, other = cast.centre_a, cast.ent_user_a1
    # MA, the master (ent_a1): lead centre_a, dispatched Mon 06-01 09:00, due 06-09 00:00,
    #     answered Thu 06-04 10:00 (on time; (06-01, 06-04] = 3 days), rated 满意 → closed.
    ma = _appeal(cast, closed=bj(6, 4, 12))
    lead = _assignment(ma, centre, dispatched=bj(6, 1, 9), answer_due=end_of(6, 8), answered=bj(6, 4, 10))
    _rate(ma, RatingLevel.SATISFIED, bj(6, 4, 12), by=other, assignment=lead)
    # Three children of ent_a2, merged into MA on 06-02 and 06-03, no assignment of their own:
    # K1 rated 基本满意 / not solved on MA's answer (recorded by its steward) → closed.
    # K2 rated 不满意 on MA's answer → reopened on its own: a REOPEN assignment of centre_a from
    #    Fri 06-05 10:00, due 24:00 Fri 06-12 = 06-13 00:00, answered Mon 06-15 10:00 (late;
    #    (06-05, 06-15] = 8 9 10 11 12 15 = 6 days), rated 满意 → closed.
    # K3 never rated → closed 未评价.
    child = {"enterprise": cast.ent_a2, "master": ma}
    k1 = _appeal(cast, closed=bj(6, 5, 9), merged_at=bj(6, 2, 10), **child)
    _rate(k1, RatingLevel.FAIRLY_SATISFIED, bj(6, 5, 9), by=cast.steward_a2, assignment=lead, solved=False)
    k2 = _appeal(cast, closed=bj(6, 15, 12), merged_at=bj(6, 2, 11), reopen_count=1, **child)
    _rate(k2, RatingLevel.DISSATISFIED, bj(6, 5, 10), by=cast.steward_a2, assignment=lead, solved=False)
    reopen = _assignment(
        k2,
        centre,
        kind=Assignment.Kind.REOPEN,
        dispatched=bj(6, 5, 10),
        answer_due=end_of(6, 12),
        answered=bj(6, 15, 10),
    )
    _rate(k2, RatingLevel.SATISFIED, bj(6, 15, 12), by=cast.steward_a2, assignment=reopen)
    k3 = _appeal(cast, closed=bj(6, 10, 0, 1), merged_at=bj(6, 3, 9), **child)

    scope = Scope(zone_ids=[cast.zone_a.pk])
    got = kpi.all_kpis(scope, JUNE, now=JULY_15)
    # Assignments: MA's lead once (no child adds one), and K2's own reopen, judged on its own.
    # Signing: MA ✓; a reopen starts signed → 1 of 1. Answering: MA ✓, K2's reopen ✗ → 1 of 2.
    assert got["on_time_signing"] == KpiValue(1, 1, 1.0)
    assert got["on_time_answering"] == KpiValue(1, 2, 0.5)
    # Handling: MA 3 + K2's reopen 6 = 9 over 2.
    assert got["mean_handling_days"] == KpiValue(9, 2, 4.5)
    # Closed appeals: MA, K1, K2, K3, each on its own; rated MA, K1, K2.
    # First: MA 满意 ✓, K1 基本满意 ✓, K2 不满意 ✗ → 2 of 3. Last: 满意, 基本满意, 满意 → 3 of 3.
    assert got["first_satisfaction"] == KpiValue(2, 3, 2 / 3)
    assert got["final_satisfaction"] == KpiValue(3, 3, 1.0)
    assert got["praise_rate"] == KpiValue(2, 3, 2 / 3)  # MA, K2
    assert got["solved_rate"] == KpiValue(2, 4, 0.5)  # MA, K2; K3 unrated
    assert got["reopen_rate"] == KpiValue(1, 4, 0.25)  # K2
    # In the ranking every child is centre_a's: K1 by its rating's assignment (MA's lead), K2 by
    # its own reopen, K3 (no rating, no assignment) by its master's lead.
    (row,) = kpi.by_department(scope, JUNE, now=JULY_15)
    assert (row.unit_id, row.kpis) == (centre.pk, got)
    # A head of centre_a sees MA and K2 (it holds an assignment on each) and the children merged
    # into MA (its answer is theirs); they are all in its figures.
    head = make_user("head_centre", centre, Role.DEPARTMENT_HEAD)
    own = Scope(appeals=Appeal.objects.visible_to(head), department_ids=[centre.pk])
    assert set(Appeal.objects.visible_to(head)) == {ma, k1, k2, k3}
    assert kpi.all_kpis(own, JUNE, now=JULY_15) == got


@pytest.fixture
def co_handled(cast):
    """market_a leads, centre_a co-handles; the co-department's opinion is its assignment's answer."""
    market, centre = cast.market_a, cast.centre_a

    def dispatch(dispatched, co_due, opinion=None, **lead_fields):
        appeal = _appeal(cast)
        lead_fields.setdefault("answered", co_due - timedelta(days=2))
        _assignment(appeal, market, dispatched=dispatched, answer_due=co_due, **lead_fields)
        _assignment(appeal, centre, lead=False, dispatched=dispatched, answer_due=co_due, answered=opinion)

    # CO1 due 24:00 Mon 06-08 (06-09 00:00), opinion Wed 06-03 15:00: on time.
    dispatch(bj(6, 1, 9), end_of(6, 8), bj(6, 3, 15))
    # CO2 same due, opinion at 00:00 on 06-09, the very instant of the deadline: late.
    dispatch(bj(6, 1, 9), end_of(6, 8), end_of(6, 8))
    # CO3 same due, no opinion ever: late once due.
    dispatch(bj(6, 1, 9), end_of(6, 8))
    # CO4 due 24:00 Tue 06-30 (stored 07-01 00:00: June's), opinion 06-29: on time.
    dispatch(bj(6, 22, 9), end_of(6, 30), bj(6, 29, 9))
    # CO5 due 24:00 Sun 05-31 (stored 06-01 00:00: May's), opinion late: not June's.
    dispatch(bj(5, 25, 9), end_of(5, 31), bj(6, 2, 9))
    # CO6 the lead returned it unsigned at 12:00 (misrouted): the co part went with it, not judged.
    dispatch(bj(6, 10, 9), end_of(6, 17), answered=None, signed_at=None, returned_at=bj(6, 10, 12))
    return cast


def test_co_handling_departments_are_judged_on_their_opinions_only(co_handled):
    cast = co_handled
    scope = Scope(zone_ids=[cast.zone_a.pk])
    got = kpi.all_kpis(scope, JUNE, now=JULY_15)
    # Co assignments due in June: CO1 ✓, CO2 ✗, CO3 ✗, CO4 ✓ (CO5 is May's, CO6 was returned) → 2 of 4.
    assert got["co_on_time_feedback"] == KpiValue(2, 4, 0.5)
    # Lead-only KPIs stay lead-only: answer_due in June of the leads CO1–CO4, each answered two days
    # before it → 4 of 4 (with the co rows it would be 6 of 8); handling over the same four leads.
    assert got["on_time_answering"] == KpiValue(4, 4, 1.0)
    assert got["mean_handling_days"].denominator == 4
    by_department = {row.unit_id: row.kpis for row in kpi.by_department(scope, JUNE, now=JULY_15)}
    centre = by_department[cast.centre_a.pk]
    assert centre["co_on_time_feedback"] == KpiValue(2, 4, 0.5)
    assert centre["on_time_signing"] == centre["on_time_answering"] == KpiValue(0, 0, None)
    assert centre["mean_handling_days"] == KpiValue(0, 0, None)
    assert by_department[cast.market_a.pk]["co_on_time_feedback"] == KpiValue(0, 0, None)
    assert kpi.co_on_time_feedback(Scope(department_ids=[cast.centre_a.pk]), JUNE, now=JULY_15) == KpiValue(
        2, 4, 0.5
    )
    # Asked at noon on 06-08, CO3 (no opinion, due 06-09 00:00) is not judged yet; the rows with an
    # opinion are judged on it: CO1 ✓, CO2 ✗, CO4 ✓ → 2 of 3.
    assert kpi.co_on_time_feedback(scope, JUNE, now=bj(6, 8, 12)) == KpiValue(2, 3, 2 / 3)


def test_judged_rows_with_a_provisional_deadline_are_counted(cast):
    # The calendar covers 2026, not 2027: a deadline reaching into 2027 falls back to Monday–Friday
    # and is provisional (the lifecycle sets Assignment.provisional from it).
    assert not workcalendar.is_covered(2027)
    first = workcalendar.deadline(bj(12, 28, 9), 5)
    assert (first.due, first.provisional) == (end_of(1, 4, year=2027), True)
    market = cast.market_a
    # P0 dispatched Mon 12-14 09:00, due 24:00 Mon 12-21 (not provisional), answered Fri 12-18:
    #    on time, (12-14, 12-18] = 4 days.
    _assignment(
        _appeal(cast), market, dispatched=bj(12, 14, 9), answer_due=end_of(12, 21), answered=bj(12, 18, 9)
    )
    # P1 dispatched Mon 12-28 09:00, due 24:00 Mon 2027-01-04 (29 30 31, Fri 1 January counted as a
    #    weekday, 4), provisional; answered 01-04 10:00: on time, 5 days.
    _assignment(
        _appeal(cast),
        market,
        dispatched=bj(12, 28, 9),
        answer_due=first.due,
        answered=bj(1, 4, 10, year=2027),
        provisional=True,
    )
    # P2 dispatched Mon 2027-01-04 09:00, due 24:00 Mon 01-11, provisional; never answered: late.
    _assignment(
        _appeal(cast),
        market,
        dispatched=bj(1, 4, 9, year=2027),
        sign_due=end_of(1, 5, year=2027),
        answer_due=end_of(1, 11, year=2027),
        provisional=True,
    )
    winter = Period(date(2026, 12, 1), date(2027, 2, 1))
    got = kpi.all_kpis(Scope(zone_ids=[cast.zone_a.pk]), winter, now=bj(2, 1, 9, year=2027))
    # Answering: P0 ✓, P1 ✓, P2 ✗ → 2 of 3, P1 and P2 provisional.
    assert got["on_time_answering"] == KpiValue(2, 3, 2 / 3, provisional=2)
    # Signing (signed at dispatch): 3 of 3; the flag is the row's, so P1 and P2 again.
    assert got["on_time_signing"] == KpiValue(3, 3, 1.0, provisional=2)
    # Handling: P0 4 + P1 5 = 9 over 2, P1 provisional.
    assert got["mean_handling_days"] == KpiValue(9, 2, 4.5, provisional=1)
    # No deadline is judged for a closed appeal's rating: never provisional.
    assert got["solved_rate"].provisional == 0


def test_api_co_handling_in_the_department_ranking(co_handled, login):
    cast = co_handled
    with time_machine.travel(JULY_15, tick=False):
        response = login(cast.leader_a).get(
            f"{URL}by-department/", {"start": "2026-06-01", "end": "2026-07-01"}
        )
    assert response.status_code == 200, response.content
    body = response.json()
    _check_schema("/api/kpis/by-department/", 200, body)
    rows = {row["department"]: row["kpis"] for row in body["departments"]}
    assert rows[cast.centre_a.pk]["co_on_time_feedback"] == {
        "name": "协办按时反馈率",
        "numerator": 2,
        "denominator": 4,
        "value": 0.5,
        "provisional": 0,
    }
    assert rows[cast.centre_a.pk]["on_time_answering"]["denominator"] == 0


def test_api_pauses_and_extensions(cast, login):
    market = cast.market_a
    m1 = _assignment(_appeal(cast), market, dispatched=bj(6, 1, 9), answer_due=end_of(6, 10), paused_days=2)
    Pause.objects.create(
        assignment=m1,
        appeal=m1.appeal,
        request="营业执照副本",
        requested_by=cast.handler_a,
        started_at=bj(6, 2, 10),
        resume_by=end_of(6, 9),
        resumed_at=bj(6, 4, 10),
        working_days=2,
    )
    Extension.objects.create(
        assignment=m1,
        appeal=m1.appeal,
        days=3,
        reason="需现场核查",
        requested_by=cast.handler_a,
        requested_at=bj(6, 4, 9),
        state=Extension.State.APPROVED,
        decided_at=bj(6, 5, 10),
    )
    head = make_user("head_a", market, Role.DEPARTMENT_HEAD)
    june = {"start": "2026-06-01", "end": "2026-07-01"}
    for user in (cast.leader_a, head):
        response = login(user).get(f"{URL}pauses/", june)
        assert response.status_code == 200, response.content
        body = response.json()
        _check_schema("/api/kpis/pauses/", 200, body)
        figures = {
            "pauses_started": 1,
            "pauses_resumed": 1,
            "paused_days": 2,
            "extensions_approved": 1,
            "extension_days": 3,
        }
        assert body["total"] == figures
        assert body["departments"] == [
            {
                "department": market.pk,
                "department_name": "高新区市场监管局",
                "zone": cast.zone_a.pk,
                **figures,
            }
        ]
    # Narrowed to zone B the city leader sees none of zone A's; a role that reads no KPIs gets 403.
    assert (
        login(cast.leader_city).get(f"{URL}pauses/", {**june, "zone": cast.zone_b.pk}).json()["departments"]
        == []
    )
    assert login(cast.handler_a).get(f"{URL}pauses/", june).status_code == 403
