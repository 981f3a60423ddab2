"""Daily rollups of the KPIs and the appeal volumes, kept in step by the services (issue 6, "Speed").

Each appeal's *facts* — what it contributes to every KPI (guanjia.appeals.kpi.facts, counted by the
KPIs' own row definitions) and to the volume figures — are stored with it (AppealFacts), and their
sums per Beijing day, zone, department, metric (and category or channel) in DailyRollup. Every
service that changes an appeal calls refresh() in its own transaction: the appeal's facts are
counted again, the difference to the stored ones is added to DailyRollup (value = value + delta, an
upsert that two writers may run at once on the same row), and the stored facts are replaced. A
merged child takes its master's timing, so a master's refresh counts its children too.

The cockpit reads DailyRollup only — kpi's fast path, and volume(), open_by_age() and red_cards()
below — never the appeals or assignments. `guanjia kpi rebuild` counts every appeal again and sets
the rollups to the sum of the facts; `guanjia kpi check` reports where they differ.

Volume facts: "submitted" (per day of submission), "submitted.category" and "submitted.channel"
(the same, by the appeal's category and channel), "open" (an appeal in OPEN_STATUSES, on its day of
submission: the age bands group these), and "red_card" (each 红牌 escalation, on its day, for the
department it was sent to).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from guanjia.appeals import kpi
from guanjia.appeals.kpi import FactKey, Period
from guanjia.appeals.models import OPEN_STATUSES, Appeal, AppealFacts, DailyRollup, Escalation
from guanjia.core.workcalendar import BEIJING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

__all__ = ["AGE_BANDS", "OPEN_STATUSES", "check", "open_by_age", "rebuild", "red_cards", "refresh", "volume"]

# Open appeals by how many calendar days ago they were submitted (today: 0), both ends included;
# calendar days, not working days, since the enterprise waits through weekends too.
AGE_BANDS: tuple[tuple[StrOrPromise, int, int | None], ...] = (
    (_("3 天以内"), 0, 3),
    (_("4–7 天"), 4, 7),
    (_("8–15 天"), 8, 15),
    (_("16–30 天"), 16, 30),
    (_("30 天以上"), 31, None),
)

RollupKey = tuple[int, str, date, int, int, str, int]  # zone, metric, day, department, category, channel, at
_KEY_COLUMNS = ("zone_id", "metric", "day", "department_id", "category_id", "channel", "at")


# --- The facts of an appeal ------------------------------------------------------------------------


def _volume_facts(
    rows: Iterable[tuple[int, int, int | None, str, datetime, str]],
) -> dict[int, Counter[FactKey]]:
    found: dict[int, Counter[FactKey]] = defaultdict(Counter)
    for pk, _zone, category_id, channel, submitted_at, status in rows:
        day = submitted_at.astimezone(BEIJING).date()
        mine = found[pk]
        mine["submitted", day, 0, 0, "", 0] += 1
        mine["submitted.category", day, 0, category_id or 0, "", 0] += 1
        mine["submitted.channel", day, 0, 0, channel, 0] += 1
        if status in OPEN_STATUSES:
            mine["open", day, 0, 0, "", 0] += 1
    return found


def _red_card_facts(ids: list[int]) -> Iterator[tuple[int, FactKey]]:
    cards = Escalation.objects.filter(appeal_id__in=ids, level=Escalation.Level.RED)
    for appeal_id, department_id, created_at in cards.values_list(
        "appeal_id", "assignment__department_id", "created_at"
    ):
        yield appeal_id, ("red_card", created_at.astimezone(BEIJING).date(), department_id or 0, 0, "", 0)


def _count(rows: list[tuple[int, int, int | None, str, datetime, str]]) -> dict[int, Counter[FactKey]]:
    """The facts of these appeals (rows of pk, zone, category, channel, submitted_at, status), now."""
    ids = [row[0] for row in rows]
    found = _volume_facts(rows)
    for appeal_id, counted in kpi.facts(ids).items():
        found[appeal_id].update(counted)
    for appeal_id, key in _red_card_facts(ids):
        found[appeal_id][key] += 1
    return found


def _encode(facts: Counter[FactKey]) -> list[list[Any]]:
    return sorted(
        [metric, day.isoformat(), unit, category, channel, at, value]
        for (metric, day, unit, category, channel, at), value in facts.items()
        if value
    )


def _decode(stored: list[list[Any]]) -> Counter[FactKey]:
    return Counter(
        {
            (metric, date.fromisoformat(day), unit, category, channel, at): value
            for metric, day, unit, category, channel, at, value in stored
        }
    )


_COLUMNS = ("pk", "zone_id", "category_id", "channel", "submitted_at", "status")


def refresh(appeal_ids: Collection[int]) -> None:
    """Count these appeals' facts again (and their merged children's) and move the rollups by the
    difference. Call it in the transaction that changed them, after the change."""
    if not appeal_ids:
        return
    with transaction.atomic(savepoint=False):
        # Locked in id order: two transactions counting one appeal (two co-departments' opinions,
        # which leave its version alone) take turns, and the second counts what the first wrote.
        rows = list(
            Appeal.objects.select_for_update()
            .filter(Q(pk__in=appeal_ids) | Q(master_id__in=appeal_ids))
            .order_by("pk")
            .values_list(*_COLUMNS)
        )
        _apply(rows)


def _apply(
    rows: list[tuple[int, int, int | None, str, datetime, str]], pending: Counter[RollupKey] | None = None
) -> int:
    """Store the facts of these appeals and add their change to the rollups (or, for a rebuild, to
    pending: it adds them up over many batches, then to the rollups); returns how many changed."""
    if not rows:
        return 0
    counted = _count(rows)
    stored = {
        facts.appeal_id: facts for facts in AppealFacts.objects.filter(appeal_id__in=[row[0] for row in rows])
    }
    delta: Counter[RollupKey] = Counter()
    created, updated = [], []
    for pk, zone_id, *_rest in rows:
        new = counted.get(pk, Counter())
        old_row = stored.get(pk)
        old = _decode(old_row.facts) if old_row is not None else Counter()
        if old_row is not None and old == new and old_row.zone_id == zone_id:
            continue
        for key, value in new.items():
            delta[(zone_id, *key)] += value
        if old_row is not None:
            for key, value in old.items():
                delta[(old_row.zone_id, *key)] -= value
            old_row.zone_id, old_row.facts = zone_id, _encode(new)
            updated.append(old_row)
        else:
            created.append(AppealFacts(appeal_id=pk, zone_id=zone_id, facts=_encode(new)))
    # The rollups first: a rebuild's reconciliation waits for every writer that has changed them.
    if pending is None:
        add(delta)
    else:
        pending.update(delta)
    if connection.vendor == "postgresql":
        _store_facts_postgresql([*created, *updated])
    else:
        AppealFacts.objects.bulk_create(created)
        AppealFacts.objects.bulk_update(updated, ["zone_id", "facts"], batch_size=500)
    return len(created) + len(updated)


def _execute_binary(sql: str, params: list[Any]) -> None:
    """One statement on PostgreSQL with its parameters bound by the server, in binary: Django's
    client-side binding parses and quotes every parameter in Python, which for a batch's thousands
    of rollup rows and JSON facts takes far longer than the statement itself."""
    from psycopg import Cursor  # noqa: PLC0415 - PostgreSQL only

    connection.ensure_connection()
    with Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)


def _store_facts_postgresql(rows: list[AppealFacts]) -> None:
    """AppealFacts rows written (inserted or replaced) in one statement; the appeals are locked."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(AppealFacts._meta.db_table)
    appeal, zone, facts = quote("appeal_id"), quote("zone_id"), quote("facts")
    _execute_binary(
        f"INSERT INTO {table} ({appeal}, {zone}, {facts}) "
        f"SELECT a, z, f::jsonb FROM unnest(%b::bigint[], %b::integer[], %b::text[]) AS u(a, z, f) "
        f"ON CONFLICT ({appeal}) DO UPDATE SET {zone} = excluded.{zone}, {facts} = excluded.{facts}",
        [
            [row.appeal_id for row in rows],
            [row.zone_id for row in rows],
            [json.dumps(row.facts) for row in rows],
        ],
    )


def add(delta: dict[RollupKey, int]) -> None:
    """DailyRollup += delta, row by row, safe with other writers adding to the same rows at once:
    INSERT … ON CONFLICT DO UPDATE SET value = value + excluded.value (SQLite ≥ 3.24, PostgreSQL).
    Django's bulk_create(update_conflicts=True) would set the value, losing the other writer's."""
    items = sorted((key, value) for key, value in delta.items() if value)  # one lock order for all
    if not items:
        return
    quote = connection.ops.quote_name
    table = quote(DailyRollup._meta.db_table)
    keys = ", ".join(quote(column) for column in _KEY_COLUMNS)
    value = quote("value")
    if connection.vendor == "postgresql":
        # One statement for any number of rows, its columns bound as arrays; unnest WITH ORDINALITY
        # and the ORDER BY keep the rows' (sorted) order, so the lock order holds.
        columns = list(zip(*(key for key, _amount in items), strict=True))
        types = ("integer", "varchar", "date", "integer", "integer", "varchar", "bigint", "bigint")
        arrays = ", ".join(f"%b::{kind}[]" for kind in types)
        _execute_binary(
            f"INSERT INTO {table} ({keys}, {value}) "
            f"SELECT {keys}, {value} FROM unnest({arrays}) WITH ORDINALITY "
            f"AS u({keys}, {value}, ordinality) ORDER BY ordinality "
            f"ON CONFLICT ({keys}) DO UPDATE SET {value} = {table}.{value} + excluded.{value}",
            [*(list(column) for column in columns), [amount for _key, amount in items]],
        )
        return
    day = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for (zone, metric, when, unit, category, channel, at), amount in chunk:
                params += [zone, metric, day(when), unit, category, channel, at, amount]
            cursor.execute(
                f"INSERT INTO {table} ({keys}, {value}) VALUES {placeholders} "
                f"ON CONFLICT ({keys}) DO UPDATE SET {value} = {table}.{value} + excluded.{value}",
                params,
            )


# --- Rebuild and check -----------------------------------------------------------------------------

BATCH = 2000  # appeals per transaction: well under a second of other writers' waiting
# A rebuild adds its batches' changes to the rollups once this many rows have gathered (consecutive
# batches share most of their days' rows: each row is written once instead of once per batch), in
# transactions of FLUSH_CHUNK rows, short like a batch's.
FLUSH_ROWS = 200_000
FLUSH_CHUNK = 20_000


def _flush(pending: Counter[RollupKey]) -> None:
    items = sorted((key, value) for key, value in pending.items() if value)
    for start in range(0, len(items), FLUSH_CHUNK):
        with transaction.atomic():
            add(dict(items[start : start + FLUSH_CHUNK]))
    pending.clear()


def _batches(batch: int) -> Iterator[list[tuple[int, int, int | None, str, datetime, str]]]:
    last = 0
    while True:
        rows = list(Appeal.objects.filter(pk__gt=last).order_by("pk").values_list(*_COLUMNS)[:batch])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


@dataclass(frozen=True)
class Difference:
    """One rollup row that is not the sum of the facts: what it should be, and what it is."""

    zone_id: int
    metric: str
    day: date
    department_id: int
    category_id: int
    channel: str
    at: int
    expected: int
    actual: int

    def __str__(self) -> str:
        unit = f"/{self.department_id}" if self.department_id else ""
        extra = f" category={self.category_id}" if self.category_id else ""
        extra += f" channel={self.channel}" if self.channel else ""
        extra += f" at={self.at}" if self.at else ""
        return f"{self.day} zone {self.zone_id}{unit} {self.metric}{extra}: expected {self.expected}, found {self.actual}"


def _rollups_of(zone_ids: list[int] | None) -> Counter[RollupKey]:
    rows = DailyRollup.objects.all() if zone_ids is None else DailyRollup.objects.filter(zone_id__in=zone_ids)
    return Counter(
        {tuple(row[:-1]): row[-1] for row in rows.values_list(*_KEY_COLUMNS, "value").iterator(5000)}
    )  # type: ignore[misc]


def _differences(expected: Counter[RollupKey], actual: Counter[RollupKey]) -> list[Difference]:
    found = []
    for key in sorted(set(expected) | set(actual)):
        if expected[key] != actual[key]:
            found.append(Difference(*key, expected=expected[key], actual=actual[key]))
    return found


def rebuild(*, batch: int = BATCH, progress: Callable[[str], None] | None = None) -> int:
    """Count every appeal's facts again, in short transactions, then set each zone's rollups to the
    sum of its appeals' facts. Returns how many rollup rows had to be corrected.

    Safe while the services run: a batch is a refresh like any other (its change to the rollups
    added a little later, with the next batches': a writer's change in between is relative to the
    facts stored, so the sum comes out the same), and a zone's rollups are compared and corrected,
    after every batch's change has been added, in one transaction that other writers' rollup
    changes wait for. Stopped half-way, the next rebuild's comparison corrects what was missing."""
    changed = last = 0
    pending: Counter[RollupKey] = Counter()
    while True:
        with transaction.atomic():
            rows = list(
                Appeal.objects.select_for_update()
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list(*_COLUMNS)[:batch]
            )
            changed += _apply(rows, pending)
        if len(pending) >= FLUSH_ROWS:
            _flush(pending)
        if not rows:
            break
        last = rows[-1][0]
        if progress is not None:
            progress(f"… 至诉求 #{last}，{changed} 件的统计事实有变化")
    _flush(pending)
    corrected = 0
    zones = set(AppealFacts.objects.values_list("zone_id", flat=True).distinct())
    zones |= set(DailyRollup.objects.values_list("zone_id", flat=True).distinct())
    for zone_id in sorted(zones):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Writers add to the rollups after changing the facts, in one transaction: holding
                # them off for the moment of the comparison, the facts read are exactly those summed.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"LOCK TABLE {connection.ops.quote_name(DailyRollup._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
                    )
            expected: Counter[RollupKey] = Counter()
            for stored in (
                AppealFacts.objects.filter(zone_id=zone_id).values_list("facts", flat=True).iterator(5000)
            ):
                for key, value in _decode(stored).items():
                    expected[(zone_id, *key)] += value
            differences = _differences(expected, _rollups_of([zone_id]))
            add({difference_key(item): item.expected - item.actual for item in differences})
            corrected += len(differences)
    DailyRollup.objects.filter(value=0).delete()
    return corrected


def difference_key(item: Difference) -> RollupKey:
    return (item.zone_id, item.metric, item.day, item.department_id, item.category_id, item.channel, item.at)


@dataclass(frozen=True)
class CheckResult:
    """What `guanjia kpi check` found: rollup rows off the facts' sums, and appeals whose stored facts
    are not what they count now."""

    differences: list[Difference]
    stale_appeals: list[int]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.stale_appeals


def check(*, batch: int = BATCH) -> CheckResult:
    """Count every appeal's facts afresh and compare their sums with the rollups; writes nothing.
    Run it when the services are quiet: a change between its reads shows as a difference."""
    expected: Counter[RollupKey] = Counter()
    stale: list[int] = []
    for rows in _batches(batch):
        counted = _count(rows)
        stored = dict(
            AppealFacts.objects.filter(appeal_id__in=[row[0] for row in rows]).values_list(
                "appeal_id", "facts"
            )
        )
        for pk, zone_id, *_rest in rows:
            facts = counted.get(pk, Counter())
            if pk not in stored or _decode(stored[pk]) != facts:
                stale.append(pk)
            for key, value in facts.items():
                expected[(zone_id, *key)] += value
    actual = _rollups_of(None)
    return CheckResult(_differences(+expected, +actual), stale)


# --- What the cockpit reads ------------------------------------------------------------------------


def _rows(zone_ids: list[int] | None, metric: str) -> Any:
    rows = DailyRollup.objects.filter(metric=metric)
    if zone_ids is not None:
        rows = rows.filter(zone_id__in=zone_ids)
    return rows


def volume(zone_ids: list[int] | None, period: Period, *, by: str) -> list[tuple[Any, int]]:
    """Appeals submitted in the period (zone_ids None: the whole city), by "day" (every day of the
    period, zeros included), "week" (Monday's date; every week the period touches), "category"
    (category id, None for none) or "channel" (channel code); the last two by count, descending."""
    if by not in ("day", "week", "category", "channel"):
        raise ValueError("by is day, week, category or channel")
    metric = {"category": "submitted.category", "channel": "submitted.channel"}.get(by, "submitted")
    rows = _rows(zone_ids, metric).filter(day__gte=period.start, day__lt=period.end)
    if by in ("day", "week"):
        per_day = dict(rows.values("day").annotate(n=Sum("value")).values_list("day", "n").order_by())
        days = [period.start + timedelta(days=i) for i in range((period.end - period.start).days)]
        if by == "day":
            return [(day, per_day.get(day, 0)) for day in days]
        weeks: dict[date, int] = {}
        for day in days:
            monday = day - timedelta(days=day.weekday())
            weeks[monday] = weeks.get(monday, 0) + per_day.get(day, 0)
        return list(weeks.items())
    column = "category_id" if by == "category" else "channel"
    counted = rows.values(column).annotate(n=Sum("value")).values_list(column, "n").order_by()
    found = [(key if key not in (0, "") else None, n) for key, n in counted if n]
    return sorted(found, key=lambda item: (-item[1], str(item[0])))


def open_by_age(zone_ids: list[int] | None, *, today: date) -> list[tuple[str, int]]:
    """Appeals open now (OPEN_STATUSES) by AGE_BANDS: calendar days since the day of submission."""
    per_day = (
        _rows(zone_ids, "open").values("day").annotate(n=Sum("value")).values_list("day", "n").order_by()
    )
    counts = [0] * len(AGE_BANDS)
    for day, n in per_day:
        age = max((today - day).days, 0)  # submitted "after" today: a clock set back, counted as new
        for index, (_label, low, high) in enumerate(AGE_BANDS):
            if age >= low and (high is None or age <= high):
                counts[index] += n
                break
    return [(str(label), n) for (label, _low, _high), n in zip(AGE_BANDS, counts, strict=True)]


def red_cards(zone_ids: list[int] | None, period: Period) -> int:
    """红牌 escalations written in the period."""
    total = (
        _rows(zone_ids, "red_card")
        .filter(day__gte=period.start, day__lt=period.end)
        .aggregate(n=Sum("value"))
    )
    return total["n"] or 0
