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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import time_machine
import yaml
from django.conf import settings
from django.test import Client

from guanjia.appeals import kpi, lifecycle, services
from guanjia.appeals.api import KpiSetSerializer
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.kpi import KpiValue, Period, Scope
from guanjia.appeals.models import Appeal, Assignment, Channel, Outcome, RatingLevel
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))
APRIL = Period(date(2026, 4, 1), date(2026, 5, 1))
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=BJ)
SCHEMA_PATH = Path(settings.BASE_DIR).parent / "docs" / "openapi.yaml"


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
    # One query per kind of row (signing, answering, closed appeals, answered pairs), plus the
    # work calendar's version token, which tests read on every call (one per distinct day pair).
    with django_assert_max_num_queries(4 + 6):
        kpi.all_kpis(Scope(), MARCH, now=NOW)


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
