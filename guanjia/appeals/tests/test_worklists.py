"""Worklists per role: the department's tabs and their export, and the supervisor's 督办看板.

One week in zone A, with Saturday 28 February 2026 a 调休 working day:

  #0 red      urgent, dispatched Wed 25 Feb and signed: answer by Thu 26 Feb 24:00, 红牌 by the sweep
  #1 warned   urgent, dispatched Mon 2 Mar and signed: answer by Tue 3 Mar 24:00, 预警 by the sweep
              on Tuesday, overdue since Wednesday (confidential: its department must not see who)
  #2 unsigned dispatched Tue 3 Mar to the service centre and not signed: sign by Wed 4 Mar 24:00
  #3 paused   urgent, signed and waiting for material since Monday: its answer deadline passed
              while the clock stood still
  #4 on time  dispatched Monday, answer by Mon 9 Mar 24:00
  #5 zone B   urgent, overdue, in the other zone
  #6 answered urgent, answered on Monday
  #7 paused   urgent, dispatched Wed 4 Mar and paused: its deadline (Thu 24:00) would be 即将超期

The pages are read on Thursday 5 March at 10:00.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from guanjia.appeals import escalation, lifecycle, worklists
from guanjia.appeals.models import Appeal, Channel, Outcome, Status
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.testing import make_user

BJ = ZoneInfo("Asia/Shanghai")
BOARD = reverse("appeals:board")
WORKLIST = reverse("appeals:worklist")
HIDDEN = "（企业要求保密）"


def at(month: int, day: int, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(datetime(2026, month, day, hour, 0, tzinfo=BJ), tick=False)


THURSDAY = (3, 5)


def _appeal(cast, land, title, *, to=None, sign=True, urgent=True, zone_b=False, **kwargs) -> Appeal:
    if zone_b:
        appeal = lifecycle.submit_appeal(
            cast.ent_b1,
            title=title,
            body="b",
            channel=Channel.STEWARD,
            by=cast.steward_b,
            category=land,
            urgent=urgent,
        )
        lifecycle.dispatch_appeal(appeal, to=cast.centre_b, by=cast.dispatcher_b)
        if sign:
            lifecycle.sign_appeal(appeal, by=cast.handler_b)
        return appeal
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title=title,
        body="想了解有关程序。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        urgent=urgent,
        **kwargs,
    )
    lifecycle.dispatch_appeal(appeal, to=to, by=cast.dispatcher_a)
    if sign:
        lifecycle.sign_appeal(appeal, by=cast.handler_a if to is None else cast.handler_centre)
    return appeal


@pytest.fixture
def week(routed, land):
    cast = routed
    cast.supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    cast.handler_b = make_user("handler_b", cast.centre_b, Role.HANDLER)
    a = SimpleNamespace(cast=cast)
    with at(2, 25):
        a.red = _appeal(cast, land, "红牌的诉求")
    with at(3, 2, 9):
        a.warned = _appeal(cast, land, "预警过的诉求", confidential=True)
        a.paused = _appeal(cast, land, "等材料的诉求")
        lifecycle.pause_appeal(a.paused, request="请补充营业执照复印件", by=cast.handler_a)
        a.on_time = _appeal(cast, land, "按期办理的诉求", urgent=False)
        a.zone_b = _appeal(cast, land, "经开区的诉求", zone_b=True)
        a.answered = _appeal(cast, land, "已答复的诉求")
        lifecycle.answer_appeal(a.answered, answer="已办理。", outcome=Outcome.SOLVED, by=cast.handler_a)
    with at(3, 3):
        a.unsigned = _appeal(cast, land, "未签收的诉求", to=cast.centre_a, sign=False, urgent=False)
        escalation.sweep()  # 红牌 (and 催办) for #0, 预警 for #1; the next sweep has not run yet on Thursday
    with at(3, 4):
        a.paused_soon = _appeal(cast, land, "快到期但在等材料的诉求")
        lifecycle.pause_appeal(a.paused_soon, request="请补充近三年财务报表", by=cast.handler_a)
    return a


def _titles(page: str, *appeals: Appeal) -> list[str]:
    """The titles of `appeals` that `page` shows, in the order it shows them."""
    found = [a for a in appeals if a.title in page]
    return [a.title for a in sorted(found, key=lambda a: page.index(a.title))]


def _board(client, **params) -> str:
    response = client.get(BOARD, params)
    assert response.status_code == 200
    return response.content.decode()


def _sheet(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


# --- the 督办看板 ----------------------------------------------------------------------------


def test_the_board_lists_the_zones_overdue_leads_most_overdue_first(week, login):
    a, cast = week, week.cast
    everything = (a.red, a.warned, a.unsigned, a.paused, a.on_time, a.zone_b, a.answered, a.paused_soon)
    with at(*THURSDAY):
        client = login(cast.supervisor_a)
        page = _board(client)
        reverse_order = _board(client, sort="-due")
    # #0 since 27 Feb 00:00 (answer), #1 since 4 Mar 00:00 (answer), #2 since 5 Mar 00:00 (sign).
    assert _titles(page, *everything) == [a.red.title, a.warned.title, a.unsigned.title]
    assert _titles(reverse_order, *everything) == [a.unsigned.title, a.warned.title, a.red.title]
    assert "红牌" in page and "预警" in page and "签收期限" in page
    assert cast.ent_a1.name in page  # the zone's staff see who asked, confidential or not
    assert f'href="{BOARD}"' in page  # in the supervisor's navigation
    assert reverse("appeals:detail", args=[a.red.pk]) + "#actions" in page  # 督办 from the appeal page


def test_the_board_query_marks_the_deadline_and_level_of_each_row(week):
    a, cast = week, week.cast
    with at(*THURSDAY):
        board = worklists.supervisor_board(cast.supervisor_a, timezone.now())
        rows = [(r.appeal_id, r.overdue_deadline, r.level_rank) for r in board]  # type: ignore[attr-defined]
    assert rows == [
        (a.red.pk, "answer", 3),
        (a.warned.pk, "answer", 1),
        (a.unsigned.pk, "sign", 0),
    ]


def test_waiting_appeals_are_not_overdue_but_have_a_filter_of_their_own(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        client = login(cast.supervisor_a)
        overdue = _board(client)
        waiting = _board(client, view="waiting")
    assert a.paused.title not in overdue and a.paused_soon.title not in overdue
    assert _titles(waiting, a.red, a.warned, a.paused, a.paused_soon) == [a.paused.title, a.paused_soon.title]
    assert "暂停计时" in waiting


def test_the_board_filters_by_department_level_and_search(week, login):
    a, cast = week, week.cast
    shown = (a.red, a.warned, a.unsigned)
    with at(*THURSDAY):
        client = login(cast.supervisor_a)
        by_market = _board(client, department=cast.market_a.pk)
        by_centre = _board(client, department=cast.centre_a.pk)
        red = _board(client, level="red")
        warned = _board(client, level="warning")
        none = _board(client, level="none")
        yellow = _board(client, level="yellow")
        by_title = _board(client, q="预警过")
        by_number = _board(client, q=f"#{a.unsigned.pk}")
        counts = worklists.board_department_counts(cast.supervisor_a, timezone.now())
    assert _titles(by_market, *shown) == [a.red.title, a.warned.title]
    assert _titles(by_centre, *shown) == [a.unsigned.title]
    assert _titles(red, *shown) == [a.red.title]
    assert _titles(warned, *shown) == [a.warned.title]
    assert _titles(none, *shown) == [a.unsigned.title]
    assert _titles(yellow, *shown) == []
    assert _titles(by_title, *shown) == [a.warned.title]
    assert _titles(by_number, *shown) == [a.unsigned.title]
    assert {(c["department__name"], c["n"]) for c in counts} == {
        ("高新区市场监管局", 2),
        ("高新区企业服务中心", 1),
    }
    assert (
        "高新区市场监管局 2" in by_market and "高新区企业服务中心 1" in by_market
    )  # counts ignore the department filter


def test_a_board_page_shows_the_rows_and_levels_of_the_whole_board_query(week):
    a, cast = week, week.cast

    def shown(rows) -> list[tuple]:
        return [(r.appeal_id, getattr(r, "overdue_since"), getattr(r, "level_rank")) for r in rows]  # noqa: B009

    with at(*THURSDAY):
        # 督办 by hand is no level of the sweep's: the row still reads as not yet escalated.
        escalation.escalate_by_hand(a.unsigned, note="请尽快签收", by=cast.supervisor_a)
        now = timezone.now()
        for sort in ("due", "-due"):
            filters = worklists.BoardFilters(sort=sort)
            whole = shown(worklists.supervisor_board(cast.supervisor_a, now, filters))
            pages = [
                worklists.board_page(cast.supervisor_a, now, filters, number, per_page=2).page
                for number in (1, 2)
            ]
            assert shown([*pages[0], *pages[1]]) == whole
            assert [page.paginator.count for page in pages] == [3, 3]
            ranks = {appeal: rank for appeal, _since, rank in whole}
            assert ranks == {a.red.pk: 3, a.warned.pk: 1, a.unsigned.pk: 0}


def test_the_board_paginates(week, login, land):
    cast = week.cast
    with at(3, 2, 9):
        for i in range(31):
            _appeal(cast, land, f"批量超期诉求{i:02d}")
    with at(*THURSDAY):
        client = login(cast.supervisor_a)
        first = _board(client)
        second = _board(client, page=2)
    assert "共 34 条" in first and "1 / 2" in first
    assert first.count('class="board-row"') == 30 and second.count('class="board-row"') == 4


def test_the_board_export_is_the_filtered_board_and_is_audited(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        client = login(cast.supervisor_a)
        rows = _sheet(client.get(BOARD, {"format": "xlsx"}))
        red = _sheet(client.get(BOARD, {"format": "xlsx", "level": "red"}))
        waiting = _sheet(client.get(BOARD, {"format": "xlsx", "view": "waiting"}))
    header, *body = rows
    assert header[:3] == ["编号", "标题", "企业"]
    assert [r[0] for r in body] == [a.red.pk, a.warned.pk, a.unsigned.pk]
    column = {name: i for i, name in enumerate(header)}
    assert [r[column["督办级别"]] for r in body] == ["红牌", "预警", None]
    assert [r[column["超过的期限"]] for r in body] == ["答复期限", "答复期限", "签收期限"]
    assert body[0][column["期限"]] == "2026-02-26 24:00"
    # As the appeal page counts: Fri 27, Sat 28 (调休), Mon 2, Tue 3, Wed 4 and today, Thu 5.
    assert body[0][column["超期工作日"]] == 6
    assert body[1][column["企业"]] == cast.ent_a1.name
    assert [r[0] for r in red[1:]] == [a.red.pk]
    assert [r[0] for r in waiting[1:]] == [a.paused.pk, a.paused_soon.pk]
    exports = AuditRecord.objects.filter(action="appeal.export", actor=cast.supervisor_a).order_by("id")
    assert [e.detail["rows"] for e in exports] == [3, 1, 2]
    assert all(e.detail["list"] == "board" for e in exports)


def test_the_leader_reads_the_board_without_acting(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        zone = _board(login(cast.leader_a))
        city = _board(login(cast.leader_city))
    assert _titles(zone, a.red, a.zone_b) == [a.red.title]
    assert "#actions" not in zone and "查看" in zone
    assert a.red.title in city and a.zone_b.title in city  # a city's leader sees all its zones


def test_a_supervisor_of_another_zone_sees_only_his_own(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        client = login(cast.supervisor_b)
        page = _board(client)
        tampered = _board(client, department=cast.market_a.pk)  # not a department of zone B
        rows = _sheet(client.get(BOARD, {"format": "xlsx"}))
    assert _titles(page, a.red, a.warned, a.unsigned, a.zone_b) == [a.zone_b.title]
    assert a.red.title not in tampered and "主办部门" in tampered
    assert [r[0] for r in rows[1:]] == [a.zone_b.pk]


@pytest.mark.parametrize("format", ["", "xlsx"])
def test_nobody_else_sees_or_exports_the_board(week, login, format):
    cast = week.cast
    before = AuditRecord.objects.filter(action="appeal.export").count()
    with at(*THURSDAY):
        for user in (
            cast.handler_a,
            cast.head_a,
            cast.handler_centre,
            cast.dispatcher_a,
            cast.ent_user_a1,
            cast.steward_a,
            cast.promoter_a,
            cast.outsider,
            cast.sysadmin,
            cast.auditor,
        ):
            client = login(user)
            assert client.get(BOARD, {"format": format} if format else {}).status_code == 403, user
            assert f'href="{BOARD}"' not in client.get(reverse("home")).content.decode(), user
    assert AuditRecord.objects.filter(action="appeal.export").count() == before


def test_board_queries_do_not_grow_with_rows(routed, land, login):
    # The lifecycle's own `at`, not time_machine: the sweep and the page run at the real now.
    cast = routed
    past = timezone.now() - timedelta(days=20)

    def add(n: int) -> None:
        for i in range(n):
            appeal = lifecycle.submit_appeal(
                cast.ent_a1 if i % 2 else cast.ent_a2,
                title=f"超期诉求{i}",
                body="b",
                channel=Channel.STEWARD,
                by=cast.steward_a if i % 2 else cast.steward_a2,
                category=land,
                confidential=i % 3 == 0,
                at=past,
            )
            lifecycle.dispatch_appeal(appeal, co=[cast.centre_a], by=cast.dispatcher_a, at=past)
            if i % 2:
                lifecycle.sign_appeal(appeal, by=cast.handler_a, at=past)

    def queries(client) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BOARD).status_code == 200
        # Tests re-read the calendar's version on every call (RECHECK_SECONDS is 0 under test; a
        # process reads it at most every 2 s): that read is not the page's.
        return [q["sql"] for q in ctx.captured_queries if "core_calendarversion" not in q["sql"]]

    client = login(cast.supervisor_a)
    add(2)
    client.get(BOARD)  # warm the session and the calendar
    few = queries(client)
    add(10)
    escalation.sweep()
    many = queries(client)
    assert len(few) == len(many), many
    assert client.get(BOARD).content.decode().count('class="board-row"') == 12


# --- the department's worklist ------------------------------------------------------------


def test_the_worklist_keeps_waiting_appeals_out_of_soon_and_overdue(week, login):
    a, cast = week, week.cast
    mine = (a.red, a.warned, a.paused, a.on_time, a.paused_soon, a.answered)
    with at(*THURSDAY):
        client = login(cast.handler_a)
        tabs = {
            tab: client.get(WORKLIST, {"tab": tab}).content.decode() for tab, _ in worklists.WORKLIST_TABS
        }
    assert _titles(tabs["overdue"], *mine) == [a.red.title, a.warned.title]
    assert _titles(tabs["soon"], *mine) == []
    assert _titles(tabs["waiting"], *mine) == [a.paused.title, a.paused_soon.title]
    assert _titles(tabs["doing"], *mine) == [a.red.title, a.warned.title, a.on_time.title]
    assert "暂停计时" in tabs["waiting"] and "已超期" not in tabs["waiting"].split("<tbody>")[1]


def test_the_worklist_counts_its_rows_once_for_the_badges_and_the_page(week, login):
    cast = week.cast
    with at(*THURSDAY):
        client = login(cast.handler_a)
        client.get(WORKLIST)  # warm the session and the calendar
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(WORKLIST, {"tab": "doing"}).content.decode()
    counting = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and "appeals_assignment" in q["sql"]
    ]
    assert len(counting) == 1, counting
    assert page.count("<tr") - 1 == 3  # the header, then #0, #1 and #4


def test_the_worklist_searches_within_the_tab(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        client = login(cast.handler_a)
        by_title = client.get(WORKLIST, {"tab": "overdue", "q": "红牌"}).content.decode()
        by_number = client.get(WORKLIST, {"tab": "doing", "q": str(a.on_time.pk)}).content.decode()
    assert _titles(by_title, a.red, a.warned) == [a.red.title]
    assert _titles(by_number, a.red, a.warned, a.on_time) == [a.on_time.title]


def test_the_worklist_export_is_the_tab_in_scope_with_confidential_enterprises_hidden(week, login):
    a, cast = week, week.cast
    with at(*THURSDAY):
        rows = _sheet(login(cast.handler_a).get(WORKLIST, {"tab": "overdue", "format": "xlsx"}))
        searched = _sheet(login(cast.head_a).get(WORKLIST, {"tab": "overdue", "q": "红牌", "format": "xlsx"}))
        waiting = _sheet(login(cast.head_a).get(WORKLIST, {"tab": "waiting", "format": "xlsx"}))
        centre = _sheet(login(cast.handler_centre).get(WORKLIST, {"tab": "sign", "format": "xlsx"}))
    header, *body = rows
    column = {name: i for i, name in enumerate(header)}
    assert [r[0] for r in body] == [a.red.pk, a.warned.pk]
    assert body[0][column["企业"]] == cast.ent_a1.name
    assert body[1][column["企业"]] == HIDDEN  # confidential: the department does not learn who asked
    assert all(cast.ent_a1.name not in str(cell) for cell in body[1])
    assert [r[column["期限状态"]] for r in body] == ["已超期", "已超期"]
    assert [r[0] for r in searched[1:]] == [a.red.pk]
    assert [r[0] for r in waiting[1:]] == [a.paused.pk, a.paused_soon.pk]
    assert {r[column["期限状态"]] for r in waiting[1:]} == {"暂停计时（待补充材料）"}
    assert [r[0] for r in centre[1:]] == [a.unsigned.pk]  # another department: its own rows only
    exports = AuditRecord.objects.filter(action="appeal.export").order_by("id")
    assert [(e.actor_name, e.detail["list"], e.detail["rows"]) for e in exports] == [
        ("handler_a", "worklist", 2),
        ("head_a", "worklist", 1),
        ("head_a", "worklist", 2),
        ("handler_centre", "worklist", 1),
    ]


def test_nobody_outside_a_department_exports_a_worklist(week, login):
    cast = week.cast
    with at(*THURSDAY):
        for user in (
            cast.ent_user_a1,
            cast.steward_a,
            cast.dispatcher_a,
            cast.supervisor_a,
            cast.leader_a,
            cast.outsider,
            cast.auditor,
        ):
            response = login(user).get(WORKLIST, {"tab": "overdue", "format": "xlsx"})
            assert response.status_code == 403, user
    assert not AuditRecord.objects.filter(action="appeal.export").exists()


def test_the_queue_builder_keeps_to_the_dispatchers_zones(week):
    a, cast = week, week.cast
    with at(3, 5):
        fresh = lifecycle.submit_appeal(
            cast.ent_a1, title="新诉求", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1
        )
    assert list(worklists.dispatcher_queue(cast.dispatcher_a)) == [fresh]
    assert list(worklists.dispatcher_queue(cast.dispatcher_b)) == []
    assert list(worklists.dispatcher_queue(cast.supervisor_a)) == []
    assert Appeal.objects.get(pk=a.unsigned.pk).status == Status.DISPATCHED
