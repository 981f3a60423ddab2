"""Briefings (周报/月报): their content is the KPI module's, the PDF reads back in Chinese, the
workbook has its sheets, the schedule makes one per zone and one for the city once, and a
regeneration replaces the files whole or not at all."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from guanjia.appeals import attachments, kpi
from guanjia.cockpit import briefing, briefing_pdf, briefing_xlsx, services, tasks
from guanjia.cockpit.briefing import Kind
from guanjia.cockpit.models import Briefing, BriefingFile
from guanjia.cockpit.ranking import MIN_N
from guanjia.cockpit.tests.briefing_helpers import (
    ID_NUMBER,
    MOBILE,
    NOW,
    PREVIOUS_WEEK,
    WEEK,
    at,
    build_fortnight,
)
from guanjia.core import audit
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord


@pytest.fixture
def storage(settings, tmp_path) -> Path:
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    return settings.ATTACHMENTS_DIR


@pytest.fixture
def fortnight(cast, storage):
    return build_fortnight(cast)


def _stored(root: Path) -> set[str]:
    return {p.name for p in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


# --- periods -------------------------------------------------------------------------------------


def test_periods_are_the_last_complete_week_and_month():
    monday = date(2026, 3, 16)
    for today in (monday, monday + timedelta(days=6)):
        assert briefing.last_complete(Kind.WEEKLY, today) == kpi.Period(date(2026, 3, 9), monday)
    assert briefing.last_complete(Kind.MONTHLY, date(2026, 3, 1)) == kpi.Period(
        date(2026, 2, 1), date(2026, 3, 1)
    )
    assert briefing.last_complete(Kind.MONTHLY, date(2026, 1, 31)) == kpi.Period(
        date(2025, 12, 1), date(2026, 1, 1)
    )
    assert briefing.previous_period(
        Kind.MONTHLY, kpi.Period(date(2026, 3, 1), date(2026, 4, 1))
    ) == kpi.Period(date(2026, 2, 1), date(2026, 3, 1))
    assert briefing.previous_period(Kind.WEEKLY, WEEK) == PREVIOUS_WEEK
    with pytest.raises(ValueError, match="星期一"):
        briefing.period_of(Kind.WEEKLY, date(2026, 3, 10))
    with pytest.raises(ValueError, match="1 日"):
        briefing.period_of(Kind.MONTHLY, date(2026, 3, 2))


def test_only_ended_periods_can_be_briefed():
    today = date(2026, 3, 16)
    with pytest.raises(ServiceError, match="尚未结束"):
        services.period_for(Kind.WEEKLY, today, today=today)
    with pytest.raises(ServiceError, match="星期一"):
        services.period_for(Kind.WEEKLY, date(2026, 3, 3), today=today)
    with pytest.raises(ServiceError, match="周报或月报"):
        services.period_for("daily", None, today=today)
    assert services.period_for(Kind.WEEKLY, date(2026, 3, 9), today=today) == WEEK


def test_scrub_masks_phone_and_id_numbers():
    text = briefing.scrub(f"电话{MOBILE}，座机 025-84561234，身份证{ID_NUMBER}，统一代码 91440300708461136T")
    assert MOBILE not in text and ID_NUMBER not in text and "84561234" not in text
    assert "138****5678" in text
    assert "91440300708461136T" in text  # not personal data, and not all digits: left as it is


# --- content ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["zone_a", "city"])
def test_content_is_the_kpi_modules_for_the_scope_and_period(fortnight, scope):
    cast = fortnight.cast
    zone = cast.zone_a if scope == "zone_a" else None
    zone_ids = [cast.zone_a.pk] if zone else [cast.zone_a.pk, cast.zone_b.pk]
    data = briefing.build(Kind.WEEKLY, zone, WEEK, now=NOW)

    current = kpi.all_kpis(kpi.Scope(zone_ids=zone_ids), WEEK, now=NOW)
    previous = kpi.all_kpis(kpi.Scope(zone_ids=zone_ids), PREVIOUS_WEEK, now=NOW)
    assert [line.code for line in data.kpis] == list(kpi.KPIS)
    assert {line.code: line.current for line in data.kpis} == current
    assert {line.code: line.previous for line in data.kpis} == previous
    assert current["on_time_answering"].denominator > 0  # the comparison compares something
    assert data.previous == PREVIOUS_WEEK

    departments = {u.unit_id: u.kpis for u in kpi.by_department(kpi.Scope(zone_ids=zone_ids), WEEK, now=NOW)}
    for ranking in data.department_rankings:
        assert {row.unit_id: row.value for row in ranking.rows} == {
            unit: kpis[ranking.code] for unit, kpis in departments.items() if kpis[ranking.code].denominator
        }
        # Fewer than MIN_N judged rows: listed, not ranked.
        assert all(row.rank is None for row in ranking.rows if row.n < MIN_N)
    if zone is None:
        zones = {u.unit_id: u.kpis for u in kpi.by_zone(kpi.Scope(zone_ids=zone_ids), WEEK, now=NOW)}
        answering = next(r for r in data.zone_rankings if r.code == "on_time_answering")
        assert {row.unit_id: row.value for row in answering.rows} == {
            unit: kpis["on_time_answering"] for unit, kpis in zones.items()
        }
        assert data.scope_name == "示例市"
    else:
        assert data.zone_rankings == []  # a zone's leaders see their own zone only
        assert data.scope_name == "高新区"

    a = fortnight.appeals
    red = [a["a_red"].pk] if zone else [a["a_red"].pk, a["b_red"].pk]
    assert data.red_card_count == len(red)
    assert sorted(card.appeal_id for card in data.red_cards) == red
    card = next(c for c in data.red_cards if c.appeal_id == a["a_red"].pk)
    # Deadline 24:00 Mon 03-09; on 03-16 07:00 it is 5 working days (03-10 … 03-16) overdue.
    assert (card.due, card.overdue_days, card.department) == (date(2026, 3, 9), 5, "高新区市场监管局")
    assert MOBILE not in card.title and ID_NUMBER not in card.title and "138****5678" in card.title

    # Open now, oldest first: a_late (reopened), a_red, [b_red,] a_new; closed ones never.
    expected = [a["a_late"].pk, a["a_red"].pk, *([] if zone else [a["b_red"].pk]), a["a_new"].pk]
    assert [item.appeal_id for item in data.longest_open] == expected
    assert data.longest_open[0].open_days == 14
    assert data.longest_open[-1].department == ""  # not dispatched yet


def test_the_longest_open_are_ten_at_most(fortnight):
    cast = fortnight.cast
    from guanjia.appeals import lifecycle
    from guanjia.appeals.models import Channel

    with at(3, 12, 9):
        for n in range(12):
            lifecycle.submit_appeal(
                cast.ent_a1, title=f"诉求{n}", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1
            )
    data = briefing.build(Kind.WEEKLY, cast.zone_a, WEEK, now=NOW)
    assert len(data.longest_open) == briefing.LONGEST_OPEN == 10
    assert data.longest_open[0].appeal_id == fortnight.appeals["a_late"].pk


# --- the files ------------------------------------------------------------------------------------


def test_pdf_carries_the_briefing_in_chinese_text(fortnight):
    data = briefing.build(Kind.WEEKLY, None, WEEK, now=NOW)
    content = briefing_pdf.render(data)
    assert content.startswith(b"%PDF-")
    text = _pdf_text(content)
    assert data.title == "示例市周报（2026年03月09日 至 2026年03月15日）"
    assert data.title in text
    for label in ("按时办结率", "最终满意率", "平均办理时长（工作日）", "部门排名", "园区排名", "红牌督办"):
        assert label in text, label
    assert "高新区市场监管局" in text and "样本不足" in text
    assert MOBILE not in text and ID_NUMBER not in text
    assert "138****5678" in text
    metadata = PdfReader(BytesIO(content)).metadata
    assert metadata is not None and metadata.title == data.title


def test_workbook_has_its_sheets_and_the_figures(fortnight):
    cast = fortnight.cast
    for zone, sheets in (
        (None, ["概况", "部门排名", "园区排名", "红牌督办", "在办最久诉求"]),
        (cast.zone_a, ["概况", "部门排名", "红牌督办", "在办最久诉求"]),
    ):
        data = briefing.build(Kind.WEEKLY, zone, WEEK, now=NOW)
        book = load_workbook(BytesIO(briefing_xlsx.render(data)))
        assert book.sheetnames == sheets == briefing_xlsx.sheet_names(data)
        overview = list(book["概况"].iter_rows(values_only=True))
        assert overview[0][0] == data.title
        header = overview.index(("指标", "本期", "分子", "n", "上期", "上期 n", "变化", "说明"))
        rows = {row[0]: row for row in overview[header + 1 :]}
        for line in data.kpis:
            row = rows[line.label]
            assert (row[1], row[2], row[3], row[4], row[5]) == (
                line.current.value,
                line.current.numerator,
                line.current.denominator,
                line.previous.value,
                line.previous.denominator,
            )
        red = list(book["红牌督办"].iter_rows(values_only=True))
        assert len(red) - 1 == data.red_card_count
        everything = " ".join(
            str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
        )
        assert MOBILE not in everything and ID_NUMBER not in everything


def test_a_title_that_looks_like_a_formula_stays_text(fortnight):
    from guanjia.appeals import lifecycle
    from guanjia.appeals.models import Channel

    cast = fortnight.cast
    with at(3, 12, 9):
        lifecycle.submit_appeal(
            cast.ent_a1, title='=HYPERLINK("http://x")', body="b", channel=Channel.PORTAL, by=cast.ent_user_a1
        )
    data = briefing.build(Kind.WEEKLY, cast.zone_a, WEEK, now=NOW)
    sheet = load_workbook(BytesIO(briefing_xlsx.render(data)))["在办最久诉求"]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    formula = next(cell for cell in cells if str(cell.value).startswith("="))
    assert formula.data_type == "s"


# --- generating and storing ---------------------------------------------------------------------


def test_generating_stores_both_files_and_audits(fortnight, storage):
    cast = fortnight.cast
    result = services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, start=WEEK.start, now=NOW)
    made = result.briefing
    assert result.created and (made.kind, made.zone, made.starts_on, made.ends_on) == (
        Kind.WEEKLY,
        cast.zone_a,
        WEEK.start,
        WEEK.end,
    )
    assert made.generated_by == cast.leader_a and made.version == 1
    files = {f.format: f for f in made.files.all()}
    assert set(files) == {BriefingFile.Format.PDF, BriefingFile.Format.XLSX}
    assert files["pdf"].name == "高新区周报-20260309.pdf" and files["xlsx"].name == "高新区周报-20260309.xlsx"
    with attachments.stored_path(files["pdf"].storage_key).open("rb") as handle:
        content = handle.read()
    assert "高新区周报" in _pdf_text(content) and len(content) == files["pdf"].size
    assert _stored(storage) == {f.storage_key for f in files.values()}
    assert not list((storage / "tmp").iterdir())  # nothing left staged
    record = AuditRecord.objects.get(action="briefing.generate")
    assert record.actor_id == cast.leader_a.pk and record.detail["version"] == 1


def test_regenerating_replaces_the_files_after_commit(fortnight, storage, django_capture_on_commit_callbacks):
    cast = fortnight.cast
    first = services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, start=WEEK.start, now=NOW)
    old_keys = set(first.briefing.files.values_list("storage_key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        again = services.generate_briefing(
            Kind.WEEKLY, cast.zone_a, by=cast.supervisor_a, start=WEEK.start, now=NOW + timedelta(hours=1)
        )
    assert not again.created and again.replaced and again.briefing.pk == first.briefing.pk
    assert again.briefing.version == 2 and again.briefing.generated_by == cast.supervisor_a
    new_keys = set(again.briefing.files.values_list("storage_key", flat=True))
    assert len(new_keys) == 2 and not new_keys & old_keys
    assert _stored(storage) == new_keys  # the replaced files are gone, the new ones there
    assert Briefing.objects.count() == 1


def test_a_failed_generation_leaves_nothing(fortnight, storage, monkeypatch):
    cast = fortnight.cast

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, start=WEEK.start, now=NOW)
    assert not Briefing.objects.exists() and not BriefingFile.objects.exists()
    assert _stored(storage) == set()
    assert not list((storage / "tmp").iterdir())


def test_a_failed_regeneration_keeps_the_previous_files(fortnight, storage, monkeypatch):
    cast = fortnight.cast
    first = services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, start=WEEK.start, now=NOW)
    keys = set(first.briefing.files.values_list("storage_key", flat=True))
    monkeypatch.setattr(audit, "record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("down")))
    with pytest.raises(RuntimeError):
        services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, start=WEEK.start, now=NOW)
    first.briefing.refresh_from_db()
    assert first.briefing.version == 1
    assert set(first.briefing.files.values_list("storage_key", flat=True)) == keys == _stored(storage)


def test_who_may_generate_which_scope(fortnight):
    cast = fortnight.cast
    for user, zone in (
        (cast.leader_a, None),  # a zone's leader: not the city's
        (cast.leader_a, cast.zone_b),
        (fortnight.leader_b, cast.zone_a),
        (cast.handler_a, cast.zone_a),
        (cast.steward_a, cast.zone_a),
        (cast.dispatcher_a, cast.zone_a),
        (cast.ent_user_a1, cast.zone_a),
        (cast.sysadmin, None),
    ):
        with pytest.raises(NotAllowed):
            services.generate_briefing(Kind.WEEKLY, zone, by=user, start=WEEK.start, now=NOW)
    assert not Briefing.objects.exists()
    for user, zone in (
        (cast.leader_city, None),
        (cast.leader_city, cast.zone_b),
        (fortnight.supervisor_city, None),
        (cast.supervisor_a, cast.zone_a),
        (fortnight.leader_b, cast.zone_b),
    ):
        assert services.generate_briefing(Kind.MONTHLY, zone, by=user, now=NOW).briefing.starts_on == date(
            2026, 2, 1
        )


# --- the schedule -----------------------------------------------------------------------------------


def test_the_schedule_makes_one_per_zone_and_one_for_the_city_once(fortnight, storage):
    cast = fortnight.cast
    with at(3, 16, 7):
        assert tasks.weekly_briefings.call_local() == 3
        assert tasks.weekly_briefings.call_local() == 0  # a second run replaces nothing
        assert tasks.missed_briefings.call_local() == 3  # last month's 月报 was missing: made now
    weekly = Briefing.objects.filter(kind=Kind.WEEKLY)
    assert sorted((b.zone_id or 0, b.starts_on) for b in weekly) == [
        (0, WEEK.start),
        (cast.zone_a.pk, WEEK.start),
        (cast.zone_b.pk, WEEK.start),
    ]
    assert all(b.generated_by is None and b.version == 1 and b.files.count() == 2 for b in weekly)
    monthly = Briefing.objects.filter(kind=Kind.MONTHLY)
    assert {b.starts_on for b in monthly} == {date(2026, 2, 1)} and monthly.count() == 3
    assert _stored(storage) == set(BriefingFile.objects.values_list("storage_key", flat=True))
    assert len(_stored(storage)) == 12
    with at(4, 1, 7):
        assert tasks.monthly_briefings.call_local() == 3  # March's
    assert Briefing.objects.filter(kind=Kind.MONTHLY, starts_on=date(2026, 3, 1)).count() == 3


def test_the_schedule_keeps_a_briefing_a_leader_made_and_goes_on_after_a_failure(fortnight, monkeypatch):
    cast = fortnight.cast
    made = services.generate_briefing(Kind.WEEKLY, cast.zone_a, by=cast.leader_a, now=NOW).briefing
    real_build = briefing.build

    def failing_for_zone_b(kind, zone, period, *, now=None):
        if zone is not None and zone.pk == cast.zone_b.pk:
            raise RuntimeError("zone B's data is unreadable")
        return real_build(kind, zone, period, now=now)

    monkeypatch.setattr(briefing, "build", failing_for_zone_b)
    assert services.generate_scheduled(Kind.WEEKLY, now=NOW) == 1  # the city's; zone A's exists
    made.refresh_from_db()
    assert made.version == 1 and made.generated_by == cast.leader_a
    assert set(Briefing.objects.values_list("zone_id", flat=True)) == {None, cast.zone_a.pk}


def test_scheduled_times_are_monday_and_the_first_at_seven_beijing():
    def runs_at(task, moment: datetime) -> bool:
        return task.task_class().validate_datetime(moment)

    monday_seven = datetime(2026, 3, 16, 7, 0)  # huey's utc=False: local time, Asia/Shanghai
    assert runs_at(tasks.weekly_briefings, monday_seven)
    assert not runs_at(tasks.weekly_briefings, monday_seven + timedelta(days=1))
    assert not runs_at(tasks.weekly_briefings, monday_seven + timedelta(hours=1))
    assert runs_at(tasks.monthly_briefings, datetime(2026, 4, 1, 7, 0))
    assert not runs_at(tasks.monthly_briefings, datetime(2026, 4, 2, 7, 0))


def test_briefing_files_are_backed_up_and_kept_by_the_orphan_sweep(fortnight, storage):
    import os

    from guanjia.core import backup

    made = services.generate_briefing(Kind.WEEKLY, None, by=None, start=WEEK.start, now=NOW).briefing
    keys = set(made.files.values_list("storage_key", flat=True))
    columns = {(c.table, c.column, c.area) for c in backup.file_columns()}
    assert ("cockpit_briefingfile", "storage_key", "attachments") in columns
    stale = (NOW - timedelta(days=3)).timestamp()
    for path in storage.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
        os.utime(path, (stale, stale))
    assert attachments.remove_orphans() == 0
    assert _stored(storage) == keys
