"""Worklists per role: the dispatcher's queue, a department's tabs and the supervisor's 督办看板.

Each builder returns a queryset already limited to what the user may see. The
pages, their Excel exports and bench/appeals.py evaluate these same querysets,
so what the benchmark measures is what the pages serve; the indexes they rely
on are named in Appeal.Meta and Assignment.Meta.

The clock stops while an appeal waits for material (待补充材料): such an
appeal is never counted as due soon or overdue here; each list shows it under
a filter of its own instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields import CharField, IntegerField
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import Appeal, Assignment, Escalation, Status
from guanjia.appeals.presentation import IN_HAND
from guanjia.core import workcalendar
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

DEPARTMENT_ROLES = (Role.HANDLER, Role.DEPARTMENT_HEAD)
BOARD_ROLES = (Role.SUPERVISOR, Role.LEADER)


class _CountedPaginator(Paginator):
    """A paginator told its count: a worklist's badges and the board's counts per department have
    counted the rows already, and counting them again would double the cost of the page."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


# --- the dispatcher's queue ------------------------------------------------------

QUEUE_STATUSES = (Status.SUBMITTED, Status.RETURNED)


def dispatcher_queue(user: User) -> QuerySet[Appeal]:
    """诉求受理: appeals of the dispatcher's zones waiting to be accepted or re-dispatched, oldest first."""
    if not user.has_role(Role.DISPATCHER):
        return Appeal.objects.none()
    # A dispatcher sees every appeal of its zones (Appeal.objects.visible_to), so the zone condition
    # is the scope. Adding visible_to's own copy of it misleads SQLite's planner into reading the
    # zone's whole history through the zone_id index instead of appeal_queue_idx (zone, status, accept_due).
    return (
        Appeal.objects.filter(zone_id__in=user.zone_ids(), status__in=QUEUE_STATUSES)
        .select_related("enterprise", "category", "category__parent")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(returned_at__isnull=False)
                .select_related("department")
                .order_by("-returned_at"),
                to_attr="returns",
            )
        )
        .order_by("accept_due", "pk")
    )


def accept_soon_horizon(now: datetime) -> datetime:
    """Accept deadlines at or before this instant are due by 24:00 of the next working day."""
    return workcalendar.deadline(now, 1).due


# --- a department's worklist -------------------------------------------------------

WORKLIST_TABS = (
    ("sign", _("待签收")),
    ("doing", _("办理中")),
    ("soon", _("即将超期")),
    ("overdue", _("已超期")),
    ("waiting", _("待补充材料")),
)
DEFAULT_TAB = "sign"
# The appeal states in which a department's clock runs.
RUNNING = (Status.DISPATCHED, Status.SIGNED)


def soon_horizon(now: datetime) -> datetime:
    """Answer deadlines after `now` and at or before this instant are 即将超期: due by 24:00 of the next working day."""
    return workcalendar.deadline(now, 1).due


def department_open(user: User) -> QuerySet[Assignment]:
    """The current, unanswered assignments of the user's own department whose appeal it holds."""
    if not user.has_any_role(DEPARTMENT_ROLES) or user.unit_id is None:
        return Assignment.objects.none()
    # A department sees every appeal it was given (Appeal.objects.visible_to), so the department
    # condition is the scope; repeating visible_to here would only cost a second subquery per row.
    return _department_current(user).filter(appeal__status__in=IN_HAND)


def _department_current(user: User) -> QuerySet[Assignment]:
    # The partial index assignment_dept_open_idx holds exactly these rows, by (department, answer_due).
    return Assignment.objects.filter(
        department_id=user.unit_id, is_current=True, answered_at__isnull=True, returned_at__isnull=True
    )


def _tab_conditions(now: datetime) -> dict[str, Q]:
    # Each tab names the appeal states it shows once, and each is one of IN_HAND, so that a tab
    # needs no second condition on the status: PostgreSQL multiplies the two selectivities,
    # expects a handful of rows where there are thousands, and sorts them all instead of reading
    # the index in deadline order.
    running = Q(appeal__status__in=RUNNING)
    return {
        # A lead assignment waiting to be signed is unsigned: saying so lets the tab read
        # assignment_dept_unsigned_idx (the department's unsigned rows) instead of all its open ones.
        "sign": Q(is_lead=True, appeal__status=Status.DISPATCHED, signed_at__isnull=True),
        # Running, and not a lead assignment waiting to be signed.
        "doing": Q(appeal__status=Status.SIGNED) | Q(appeal__status=Status.DISPATCHED, is_lead=False),
        "soon": running & Q(answer_due__gt=now, answer_due__lte=soon_horizon(now)),
        "overdue": running & Q(answer_due__lte=now),
        "waiting": Q(appeal__status=Status.WAITING),
    }


def worklist_tab(user: User, tab: str, now: datetime) -> QuerySet[Assignment]:
    """One tab of 部门工作台, in deadline order; an unknown tab reads as the default one."""
    if not user.has_any_role(DEPARTMENT_ROLES) or user.unit_id is None:
        return Assignment.objects.none()
    conditions = _tab_conditions(now)
    if tab not in conditions:
        tab = DEFAULT_TAB
    order = ("sign_due", "pk") if tab == "sign" else ("answer_due", "pk")
    return _department_current(user).filter(conditions[tab]).order_by(*order)


def worklist_rows(queryset: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """What a worklist page or export shows of each row, fetched with the row."""
    return queryset.select_related(
        "department", "appeal", "appeal__enterprise", "appeal__category", "appeal__category__parent"
    )


def worklist_counts(user: User, now: datetime, *, text: str = "") -> dict[str, int]:
    """How many rows each tab holds (under the same search), for the tab badges: one pass, not five."""
    base = search(department_open(user), text, prefix="appeal__")
    counts = base.aggregate(**{key: Count("pk", filter=q) for key, q in _tab_conditions(now).items()})
    return {key: counts[key] or 0 for key, _label in WORKLIST_TABS}


@dataclass
class WorklistPage:
    page: Page
    counts: dict[str, int]  # every tab's rows, under the same search


def worklist_page(
    user: User, tab: str, now: datetime, number: str | int | None, *, text: str = "", per_page: int = 50
) -> WorklistPage:
    """One page of a tab and the badges of all tabs: the badges' one pass also gives the page count."""
    counts = worklist_counts(user, now, text=text)
    if tab not in counts:
        tab = DEFAULT_TAB
    queryset = worklist_rows(search(worklist_tab(user, tab, now), text, prefix="appeal__"))
    page = _CountedPaginator(queryset, per_page, count=counts[tab]).get_page(number)
    return WorklistPage(page=page, counts=counts)


def search(queryset: QuerySet, text: str, *, prefix: str = "") -> QuerySet:
    """Rows whose appeal's title contains `text`, or whose appeal number is `text` (with or without #)."""
    text = text.strip()
    if not text:
        return queryset
    number = text.removeprefix("#").strip()
    condition = Q(**{f"{prefix}title__icontains": text})
    if number.isdigit() and len(number) < 19:
        condition |= Q(**{f"{prefix}pk": int(number)})
    return queryset.filter(condition)


# --- the supervisor's 督办看板 -------------------------------------------------------

Level = Escalation.Level

# The levels a sweep reaches, lowest first; a row shows the highest it has reached.
LEVEL_RANKS = {"none": 0, Level.WARNING: 1, Level.YELLOW: 2, Level.RED: 3}
LEVEL_CHOICES = (
    ("none", _("尚未督办")),
    (Level.WARNING.value, Level.WARNING.label),
    (Level.YELLOW.value, Level.YELLOW.label),
    (Level.RED.value, Level.RED.label),
)

# level_rank (see supervisor_board) → the label of the highest level reached.
RANK_LABELS = {0: "", 1: Level.WARNING.label, 2: Level.YELLOW.label, 3: Level.RED.label}

VIEW_OVERDUE = "overdue"
VIEW_WAITING = "waiting"
SORTS = ("due", "-due")


@dataclass(frozen=True)
class BoardFilters:
    """What the supervisor chose: overdue rows or paused ones, a department, a level, a search, an order."""

    view: str = VIEW_OVERDUE
    department: OrgUnit | None = None
    level: str = ""
    text: str = ""
    sort: str = "due"


def may_see_board(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_any_role(BOARD_ROLES)


def board_departments(user: User) -> QuerySet[OrgUnit]:
    """The departments of the user's zones: the board's department filter offers these only."""
    if not may_see_board(user):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, parent_id__in=user.zone_ids()).order_by(
        "parent_id", "name"
    )


def _unsigned(now: datetime) -> Q:
    return Q(appeal__status=Status.DISPATCHED, signed_at__isnull=True, sign_due__lte=now)


def _board_scope(user: User) -> QuerySet[Assignment]:
    if not may_see_board(user):
        return Assignment.objects.none()
    return Assignment.objects.filter(
        is_current=True, is_lead=True, answered_at__isnull=True, appeal__zone_id__in=user.zone_ids()
    )


def _reached(level: str) -> Exists:
    return Exists(Escalation.objects.filter(assignment=OuterRef("pk"), level=level))


def _at_level(code: str) -> Q:
    """The rows whose highest level reached is `code` ("none" for none yet)."""
    red, yellow, warning = _reached(Level.RED), _reached(Level.YELLOW), _reached(Level.WARNING)
    return {
        Level.RED: Q(red),
        Level.YELLOW: Q(yellow) & ~Q(red),
        Level.WARNING: Q(warning) & ~Q(yellow) & ~Q(red),
        "none": ~Q(warning) & ~Q(yellow) & ~Q(red),
    }[code]


def _board_base(user: User, now: datetime, filters: BoardFilters) -> QuerySet[Assignment]:
    scope = _board_scope(user)
    if filters.view == VIEW_WAITING:
        # The clock is stopped: these are shown apart, in deadline order, and never as overdue.
        queryset = scope.filter(appeal__status=Status.WAITING)
    else:
        queryset = scope.filter(appeal__status__in=RUNNING).filter(Q(answer_due__lte=now) | _unsigned(now))
    queryset = search(queryset, filters.text, prefix="appeal__")
    if filters.level in LEVEL_RANKS:
        queryset = queryset.filter(_at_level(filters.level))
    return queryset


def supervisor_board(
    user: User, now: datetime, filters: BoardFilters | None = None, *, levels: bool = True
) -> QuerySet[Assignment]:
    """督办看板: current unanswered lead assignments of the user's zones past their answer deadline, or
    past their sign deadline while unsigned, most overdue first (by default).

    Each row carries `overdue_since` (the deadline that passed first), `overdue_deadline`
    ("sign" or "answer") and, with `levels`, `level_rank` (0 none, 1 预警, 2 催办, 3 红牌). A page
    asks for levels=False and reads the levels of its own rows with attach_levels: the database
    then sorts the board without looking up every row's escalations first.
    """
    filters = filters or BoardFilters()
    queryset = _board_base(user, now, filters)
    if filters.department is not None:
        queryset = queryset.filter(department=filters.department)
    queryset = _board_columns(queryset, now)
    if levels:
        queryset = queryset.annotate(
            level_rank=Case(
                When(_reached(Level.RED), then=Value(3)),
                When(_reached(Level.YELLOW), then=Value(2)),
                When(_reached(Level.WARNING), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    order = ("overdue_since", "pk") if filters.sort != "-due" else ("-overdue_since", "-pk")
    if filters.view == VIEW_WAITING:
        order = ("answer_due", "pk") if filters.sort != "-due" else ("-answer_due", "-pk")
    return queryset.order_by(*order)


def _board_columns(queryset: QuerySet[Assignment], now: datetime) -> QuerySet[Assignment]:
    """What a board row shows: `overdue_since`, `overdue_deadline`, the appeal and its enterprise."""
    # sign_due is normally before answer_due; a 12345 transfer's earlier external deadline may not be.
    sign_first = _unsigned(now) & Q(sign_due__lt=F("answer_due"))
    return queryset.annotate(
        overdue_since=Case(When(sign_first, then=F("sign_due")), default=F("answer_due")),
        overdue_deadline=Case(
            When(sign_first, then=Value(Escalation.Deadline.SIGN.value)),
            default=Value(Escalation.Deadline.ANSWER.value),
            output_field=CharField(),
        ),
    ).select_related(
        "department", "appeal", "appeal__enterprise", "appeal__category", "appeal__category__parent"
    )


def attach_levels(assignments: list[Assignment]) -> None:
    """Set `level_rank` on each of `assignments` (a page of the board), in one query."""
    reached: dict[int, int] = {}
    # By assignment only: a filter on the level too leads SQLite to read every escalation of those
    # levels through escalation_level_idx (0.6 s on a million appeals) instead of the page's few.
    found = (
        Escalation.objects.filter(assignment_id__in=[a.pk for a in assignments])
        .order_by()
        .values_list("assignment_id", "level")
    )
    for assignment_id, level in found:
        rank = LEVEL_RANKS.get(level, 0)  # 督办 by hand ranks nowhere
        reached[assignment_id] = max(reached.get(assignment_id, 0), rank)
    for assignment in assignments:
        assignment.level_rank = reached.get(assignment.pk, 0)  # type: ignore[attr-defined]


def board_department_counts(
    user: User, now: datetime, filters: BoardFilters | None = None
) -> list[Mapping[str, Any]]:
    """Rows per department under the board's other filters: [{department_id, department__name, n}], most first."""
    filters = filters or BoardFilters()
    rows = (
        _board_base(user, now, filters)
        .values("department_id", "department__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "department__name")
    )
    return list(rows)


@dataclass
class BoardPage:
    page: Page
    counts: list[Mapping[str, Any]]
    total: int  # all departments, under the other filters


def board_page(
    user: User, now: datetime, filters: BoardFilters, number: str | int | None, *, per_page: int = 30
) -> BoardPage:
    """One page of the board with its levels, and the counts per department (which also give the
    page count): four queries however many rows."""
    counts = board_department_counts(user, now, filters)
    total = sum(row["n"] for row in counts)
    count = total
    if filters.department is not None:
        count = next((row["n"] for row in counts if row["department_id"] == filters.department.pk), 0)
    # The page's keys first, then its rows: sorting thousands of bare keys reads indexes only
    # (appeal_queue_idx, assignment_lead_open_idx), where sorting whole rows with their appeal and
    # enterprise would read every overdue row of the zone to show thirty.
    ordered = supervisor_board(user, now, filters, levels=False).values_list("pk", flat=True)
    page = _CountedPaginator(ordered, per_page, count=count).get_page(number)
    keys = list(page.object_list)
    rows = {row.pk: row for row in _board_columns(Assignment.objects.filter(pk__in=keys), now)}
    page.object_list = [rows[key] for key in keys if key in rows]
    attach_levels(page.object_list)
    return BoardPage(page=page, counts=counts, total=total)


def overdue_workdays(due: datetime, now: datetime) -> int:
    """Working days a passed deadline is overdue, counted as the appeal page counts them (pages.due_view)."""
    if now < due:
        return 0
    # A deadline is 24:00 of its day, stored as 00:00 of the next: step back into the day itself.
    day = (due.astimezone(workcalendar.BEIJING) - timedelta(microseconds=1)).date()
    return workcalendar.workdays_between(day, now.astimezone(workcalendar.BEIJING).date())
