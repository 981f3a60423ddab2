# ruff: noqa: F811 - the month fixture is imported from appeals/tests/test_kpi.py and named by each test
"""The cockpit page, its drill-downs and exports, over the hand-built month of appeals/tests/test_kpi.py.

Every figure must be the KPI module's (or the rollups'), and every drill-down must list exactly the
rows the figure counts. The page itself reads the rollups, never the appeals or assignments.
"""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.appeals import kpi, rollups
from guanjia.appeals.kpi import Period, Scope
from guanjia.appeals.tests.test_kpi import APRIL, MARCH, NOW, month  # noqa: F401 - the fixture
from guanjia.cockpit import drill, figures
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db

MARCH_QUERY = {"period": "custom", "start": "2026-03-01", "end": "2026-04-01"}


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _count(html: str, testid: str) -> int:
    found = re.search(rf'data-testid="{testid}"[^>]*>(\d+)<', html)
    assert found, testid
    return int(found.group(1))


# --- the drill-down lists exactly what each figure counts -----------------------------------------


@pytest.mark.parametrize("period", [MARCH, APRIL], ids=["march", "april"])
def test_each_kpis_drill_down_counts_exactly_its_numerator_and_denominator(month, at_now, period):
    zone = [month.zone_a.pk]
    for department in (None, month.market_a.pk, month.centre_a.pk):
        scope = Scope(zone_ids=zone, department_ids=[department] if department else None)
        figures_now = kpi.all_kpis(scope, period, now=NOW)
        for code, value in figures_now.items():
            for part in kpi.PARTS:
                target = drill.Drill("kpi", zone, period, code=code, part=part, department_id=department)
                rows = drill.rows(target, user=month.leader_a, day=NOW.date(), now=NOW)
                if code == "mean_handling_days":
                    assert rows.count() == value.denominator, (code, department)
                    days = drill.table(target, drill.with_related(rows, target), month.leader_a).total_days
                    assert days == value.numerator, (code, department)
                else:
                    expected = value.numerator if part == "numerator" else value.denominator
                    assert rows.count() == expected, (code, part, department)
    # Not vacuous: March holds figures in every part but co-handling.
    assert kpi.all_kpis(Scope(zone_ids=zone), MARCH, now=NOW)["on_time_signing"] == kpi.KpiValue(3, 6, 0.5)


def test_the_drill_down_page_shows_the_figure_count_and_the_appeals(month, at_now, login):
    client = login(month.leader_a)
    values = kpi.all_kpis(Scope(zone_ids=[month.zone_a.pk]), MARCH, now=NOW)
    for code, part in (("on_time_signing", "numerator"), ("solved_rate", "denominator")):
        url = reverse("cockpit:drill") + f"?kpi={code}&part={part}&start=2026-03-01&end=2026-04-01"
        response = client.get(url)
        assert response.status_code == 200
        expected = getattr(values[code], part)
        assert _count(response.content.decode(), "drill-count") == expected
    page = client.get(
        reverse("cockpit:drill") + "?kpi=solved_rate&start=2026-03-01&end=2026-04-01"
    ).content.decode()
    for name in ("A1", "A2", "A3", "A4"):  # closed in March
        assert f"#{month.appeals[name].pk}<" in page
    assert f"#{month.appeals['A5'].pk}<" not in page  # closed in April
    # The days of 平均办理时长 add up to its numerator on the page too.
    days = client.get(
        reverse("cockpit:drill") + "?kpi=mean_handling_days&start=2026-03-01&end=2026-04-01"
    ).content.decode()
    assert _count(days, "drill-days") == 13


def test_drill_down_refuses_what_is_not_a_figure_and_what_is_out_of_scope(month, at_now, login):
    client = login(month.leader_a)
    base = reverse("cockpit:drill")
    assert client.get(base + "?kpi=nonsense&start=2026-03-01&end=2026-04-01").status_code == 400
    bad_dates = client.get(base + "?kpi=solved_rate&start=2026-04-01&end=2026-03-01")
    assert bad_dates.status_code == 400
    assert "统计期有误" in bad_dates.content.decode()
    assert (
        client.get(
            base + f"?kpi=solved_rate&start=2026-03-01&end=2026-04-01&zone={month.zone_b.pk}"
        ).status_code
        == 404
    )
    market_b = OrgUnit.objects.get(code="zone-b-market")
    assert (
        client.get(
            base + f"?kpi=solved_rate&start=2026-03-01&end=2026-04-01&department={market_b.pk}"
        ).status_code
        == 404
    )
    assert (
        login(month.steward_a).get(base + "?kpi=solved_rate&start=2026-03-01&end=2026-04-01").status_code
        == 403
    )
    assert (
        login(month.handler_a).get(base + "?kpi=solved_rate&start=2026-03-01&end=2026-04-01").status_code
        == 403
    )


def test_volume_age_and_red_card_drill_downs_count_their_bars(month, at_now):
    zone = [month.zone_a.pk]
    for by in drill.VOLUME_BY:
        bars = rollups.volume(zone, MARCH, by=by)
        assert sum(n for _key, n in bars) == 6  # A1, A2, A3, A6 on 03-02; A4, A5 on 03-30; not B1 (zone B)
        for key, n in bars:
            text = key.isoformat() if isinstance(key, date) else ("none" if key is None else str(key))
            target = drill.Drill("volume", zone, MARCH, by=by, key=text)
            assert drill.rows(target, user=month.leader_a, day=NOW.date()).count() == n, (by, key)
    for index, (_label, n) in enumerate(rollups.open_by_age(zone, today=NOW.date())):
        assert (
            drill.rows(drill.Drill("age", zone, key=str(index)), user=month.leader_a, day=NOW.date()).count()
            == n
        )
    assert drill.rows(
        drill.Drill("red", zone, APRIL), user=month.leader_a, day=NOW.date()
    ).count() == rollups.red_cards(zone, APRIL)


# --- the page -------------------------------------------------------------------------------------


def test_the_cockpit_page_reads_neither_appeals_nor_assignments(month, at_now, login):
    client = login(month.leader_city)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cockpit:index"), MARCH_QUERY)
    assert response.status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "daily_rollup" in sql.lower() or "dailyrollup" in sql.lower()
    # Quoted, as Django writes every table name: appeals_appealcategory and the rollups are fine.
    assert '"appeals_appeal"' not in sql
    assert '"appeals_assignment"' not in sql


def test_the_page_shows_the_kpi_modules_figures_and_links_each_to_its_rows(month, at_now, login):
    response = login(month.leader_a).get(reverse("cockpit:index"), MARCH_QUERY)
    html = response.content.decode()
    values = kpi.all_kpis(Scope(zone_ids=[month.zone_a.pk]), MARCH, now=NOW)
    for code, value in values.items():
        assert _count(html, f"kpi-{code}-numerator") == value.numerator
        assert _count(html, f"kpi-{code}-denominator") == value.denominator
    assert "50.0%" in html  # 按时签收率 3 of 6
    cards = {
        card.code: card for card in response.context["kpis"] and [r["card"] for r in response.context["kpis"]]
    }
    # A calendar month is compared with the month before (as the monthly briefing is).
    assert response.context["previous"] == Period(date(2026, 2, 1), date(2026, 3, 1))
    assert (
        cards["on_time_signing"].previous
        == kpi.all_kpis(
            Scope(zone_ids=[month.zone_a.pk]), Period(date(2026, 2, 1), date(2026, 3, 1)), now=NOW
        )["on_time_signing"]
    )
    # Each chart's table holds the rollups' numbers.
    charts = {chart["id"]: chart for chart in response.context["charts"]}
    assert charts["volume-time"]["data"]["values"] == [
        n for _d, n in rollups.volume([month.zone_a.pk], MARCH, by="day")
    ]
    assert charts["volume-channel"]["total"] == 6


def test_who_sees_which_cockpit(month, at_now, login):
    url = reverse("cockpit:index")
    assert login(month.leader_a).get(url).status_code == 200
    assert login(month.supervisor_a).get(url).status_code == 200
    # A zone leader may not look at another zone; a city leader may pick any zone of its city.
    assert login(month.leader_a).get(url, {"zone": month.zone_b.pk}).status_code == 404
    city = login(month.leader_city)
    response = city.get(url, {**MARCH_QUERY, "zone": month.zone_b.pk})
    assert response.status_code == 200
    assert response.context["scope"].zone_ids == [month.zone_b.pk]
    assert response.context["kpis"][0]["card"].current == kpi.on_time_signing(
        Scope(zone_ids=[month.zone_b.pk]), MARCH, now=NOW
    )
    whole = city.get(url, MARCH_QUERY)
    assert sorted(whole.context["scope"].zone_ids) == sorted([month.zone_a.pk, month.zone_b.pk])
    for user in (month.steward_a, month.handler_a, month.dispatcher_a, month.ent_user_a1, month.sysadmin):
        assert login(user).get(url).status_code == 403
    assert "驾驶舱" in login(month.leader_a).get(reverse("home")).content.decode()
    assert "驾驶舱" not in login(month.steward_a).get(reverse("home")).content.decode()


def test_a_bad_custom_period_is_named_and_the_month_shown_instead(month, at_now, login):
    response = login(month.leader_a).get(
        reverse("cockpit:index"), {"period": "custom", "start": "2026-03-10"}
    )
    assert response.status_code == 200
    assert "自定义统计期须填写结束日期" in response.content.decode()
    assert response.context["period"] == figures.preset_period("this_month", NOW.date())


def test_previous_periods():
    assert figures.previous_period(Period(date(2026, 3, 1), date(2026, 4, 1))) == Period(
        date(2026, 2, 1), date(2026, 3, 1)
    )
    assert figures.previous_period(Period(date(2026, 1, 1), date(2026, 2, 1))) == Period(
        date(2025, 12, 1), date(2026, 1, 1)
    )
    quarter = Period(date(2026, 4, 1), date(2026, 7, 1))
    assert figures.previous_period(quarter) == Period(date(2026, 1, 1), date(2026, 4, 1))
    week = Period(date(2026, 5, 18), date(2026, 5, 25))
    assert figures.previous_period(week) == Period(date(2026, 5, 11), date(2026, 5, 18))
    # Any other span: the days of equal length just before it.
    assert figures.previous_period(Period(date(2026, 3, 10), date(2026, 3, 20))) == Period(
        date(2026, 2, 28), date(2026, 3, 10)
    )
    assert figures.previous_period(Period(date(2026, 2, 1), date(2026, 4, 1))) == Period(
        date(2025, 12, 4), date(2026, 2, 1)
    )


def test_preset_periods():
    day = date(2026, 5, 20)  # a Wednesday
    assert figures.preset_period("this_week", day) == Period(date(2026, 5, 18), date(2026, 5, 25))
    assert figures.preset_period("last_week", day) == Period(date(2026, 5, 11), date(2026, 5, 18))
    assert figures.preset_period("this_month", day) == Period(date(2026, 5, 1), date(2026, 6, 1))
    assert figures.preset_period("last_month", day) == Period(date(2026, 4, 1), date(2026, 5, 1))
    assert figures.preset_period("this_quarter", day) == Period(date(2026, 4, 1), date(2026, 7, 1))
    assert figures.preset_period("last_month", date(2026, 1, 5)) == Period(
        date(2025, 12, 1), date(2026, 1, 1)
    )
    assert figures.preset_period("this_quarter", date(2026, 12, 31)) == Period(
        date(2026, 10, 1), date(2027, 1, 1)
    )


# --- exports ----------------------------------------------------------------------------------------


def _sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def test_every_cockpit_table_exports_the_pages_numbers(month, at_now, login):
    client = login(month.leader_a)
    url = reverse("cockpit:index")
    kpis = _sheet(client.get(url, {**MARCH_QUERY, "format": "xlsx", "table": "kpis"}))
    assert kpis[0][0] == "指标"
    signing = next(row for row in kpis if row[0] == "按时签收率")
    assert signing[1:4] == ("50.0%", 3, 6)
    for table in (
        "zones",
        "visits",
        "campaigns",
        "volume-time",
        "volume-category",
        "volume-channel",
        "open-age",
    ):
        rows = _sheet(client.get(url, {**MARCH_QUERY, "format": "xlsx", "table": table}))
        assert rows[0], table
    channel = _sheet(client.get(url, {**MARCH_QUERY, "format": "xlsx", "table": "volume-channel"}))
    assert sum(row[1] for row in channel[1:]) == 6
    assert client.get(url, {"format": "xlsx", "table": "nonsense"}).status_code == 404


def test_drill_down_export_masks_phone_numbers_for_leaders_not_for_supervisors(month, at_now, login):
    query = "?kpi=solved_rate&start=2026-03-01&end=2026-04-01&format=xlsx"
    leader = _sheet(login(month.leader_a).get(reverse("cockpit:drill") + query))
    assert len(leader) == 1 + 4
    phone = leader[0].index("联系电话")
    assert {row[phone] for row in leader[1:]} == {"138****5678"}
    supervisor = _sheet(login(month.supervisor_a).get(reverse("cockpit:drill") + query))
    assert {row[phone] for row in supervisor[1:]} == {"13812345678"}


# --- rankings page ------------------------------------------------------------------------------------


def test_rankings_page_ranks_departments_and_zones_and_shows_stewards_to_their_zones_leader(
    month, at_now, login
):
    url = reverse("cockpit:rankings")
    response = login(month.leader_a).get(url, MARCH_QUERY)
    assert response.status_code == 200
    departments = {row["name"]: row for row in response.context["departments"]}
    market = departments["高新区市场监管局"]
    signing = next(cell for cell in market["cells"] if cell["code"] == "on_time_signing")
    assert (signing["n"], signing["rank"]) == (5, 1)  # A1 ✓ A2 ✗ A3 ✓ A4 ✓ A5 ✗: 3 of 5, n = MIN_N
    centre = departments["高新区企业服务中心"]
    assert next(cell for cell in centre["cells"] if cell["code"] == "on_time_signing")["rank"] is None  # n 1
    assert "样本不足" in response.content.decode()
    assert response.context["stewards"] is not None
    assert [str(row.steward) for row in response.context["stewards"]] == ["steward_a", "steward_a2"]
    steward_a = response.context["stewards"][0]
    # ent_a1's appeals closed and rated in March: A1, A2, A4, all 基本满意 or better at the last rating.
    assert (steward_a.rated, steward_a.satisfied) == (3, 3)
    # Stewards are for the leaders of their own zone only.
    assert login(month.supervisor_a).get(url, MARCH_QUERY).context["stewards"] is None
    assert login(month.leader_city).get(url, MARCH_QUERY).context["stewards"] is None
    steward_rows = _sheet(
        login(month.leader_a).get(url, {**MARCH_QUERY, "format": "xlsx", "table": "steward"})
    )
    assert steward_rows[1][0] == "steward_a"
    assert (
        login(month.supervisor_a).get(url, {**MARCH_QUERY, "format": "xlsx", "table": "steward"}).status_code
        == 404
    )
    assert login(month.steward_a).get(url).status_code == 403


# --- API ----------------------------------------------------------------------------------------------


def test_api_kpis_volume_and_age_agree_with_the_page(month, at_now, login):
    client = login(month.leader_a)
    body = client.get("/api/cockpit/kpis/", {"start": "2026-03-01", "end": "2026-04-01"}).json()
    values = kpi.all_kpis(Scope(zone_ids=[month.zone_a.pk]), MARCH, now=NOW)
    assert list(body["kpis"]) == list(kpi.KPIS)
    for code, value in values.items():
        got = body["kpis"][code]
        assert (got["numerator"], got["denominator"], got["value"]) == (
            value.numerator,
            value.denominator,
            value.value,
        )
        assert "previous" in got
    assert body["previous_start"] == "2026-02-01"
    volume = client.get(
        "/api/cockpit/volume/", {"start": "2026-03-01", "end": "2026-04-01", "by": "week"}
    ).json()
    assert volume["total"] == 6
    assert volume["rows"][0]["key"] == "2026-02-23"  # the Monday of the week 1 March is in
    age = client.get("/api/cockpit/open-by-age/").json()
    assert age["total"] == sum(n for _l, n in rollups.open_by_age([month.zone_a.pk], today=NOW.date()))
    ranked = client.get(
        "/api/cockpit/rankings/", {"start": "2026-03-01", "end": "2026-04-01", "level": "zone"}
    ).json()
    assert [unit["id"] for unit in ranked["units"]] == [month.zone_a.pk]
    stewards = client.get(
        "/api/cockpit/rankings/", {"start": "2026-03-01", "end": "2026-04-01", "level": "steward"}
    ).json()
    assert [row["name"] for row in stewards["stewards"]] == ["steward_a", "steward_a2"]


def test_api_refuses_other_zones_bad_input_and_other_roles(month, at_now, login):
    client = login(month.leader_a)
    out = client.get(
        "/api/cockpit/kpis/", {"start": "2026-03-01", "end": "2026-04-01", "zone": month.zone_b.pk}
    )
    assert out.status_code == 400
    assert "zone" in out.json()
    assert client.get("/api/cockpit/kpis/", {"start": "2026-03-01"}).json() == {
        "end": ["请提供结束日期 end（不含当日），格式为 YYYY-MM-DD"]
    }
    assert (
        client.get(
            "/api/cockpit/volume/", {"start": "2026-03-01", "end": "2026-04-01", "by": "x"}
        ).status_code
        == 400
    )
    supervisor = login(month.supervisor_a)
    assert (
        supervisor.get("/api/cockpit/kpis/", {"start": "2026-03-01", "end": "2026-04-01"}).status_code == 200
    )
    steward_level = {"start": "2026-03-01", "end": "2026-04-01", "level": "steward"}
    assert supervisor.get("/api/cockpit/rankings/", steward_level).status_code == 403
    assert login(month.leader_city).get("/api/cockpit/rankings/", steward_level).status_code == 403
    for user in (month.steward_a, month.handler_a, month.dispatcher_a):
        assert login(user).get("/api/cockpit/open-by-age/").status_code == 403
    other = make_user("leader_b", month.zone_b, Role.LEADER)
    assert (
        login(other)
        .get("/api/cockpit/kpis/", {"start": "2026-03-01", "end": "2026-04-01"})
        .json()["kpis"]["on_time_signing"]["denominator"]
        == kpi.on_time_signing(Scope(zone_ids=[month.zone_b.pk]), MARCH, now=NOW).denominator
    )
