"""督办: the escalation sweep over open assignments, and a supervisor's escalation by hand.

The sweep reads CURRENT, UNANSWERED LEAD assignments of appeals in an open
state (dispatched, signed, waiting) in deadline order. With D the answer
deadline (Assignment.answer_due, the instant the deadline passes: 00:00 Beijing
after the deadline's working day, or an earlier external deadline) and X the
Beijing day of the last instant before D:

- 预警 (warning), to the department's handlers: from 00:00 Beijing of the last
  working day that starts before D — for the usual 24:00 deadline, the start of
  the deadline's own working day, when at most one working day is left — until D.
  A warning is not sent once D has passed.
- 催办 (yellow), to the department's heads: when now >= D.
- 红牌 (red), to the zone's leaders: when now >= 24:00 of the 3rd working day
  after X, i.e. workcalendar.deadline(D - 1 µs, 3).due.
- 签收催办 (yellow on the sign deadline), to the department's heads: when a
  dispatched appeal's lead assignment is still unsigned at sign_due.

A level's batch (up to BATCH rows, in deadline order) is written in one
transaction: the escalations, their timeline events and audit records, and the
notices, with one insert per table. The unique constraint on (assignment,
deadline, level) guards it: if a concurrent sweep wrote one of the rows first,
the whole batch is undone and each row is written again on its own, so none is
sent twice and none is lost. Notices are digests: one per person and level in a
batch (and one per department robot), naming the appeal when there is only one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanjia.appeals import rollups
from guanjia.appeals.models import Appeal, AppealEvent, Assignment, Escalation, Status
from guanjia.core import bulk, notifications, webhooks, workcalendar
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING

Level = Escalation.Level
Deadline = Escalation.Deadline

# Open states a supervisor may escalate by hand.
WATCHED_STATUSES = (Status.DISPATCHED, Status.SIGNED, Status.WAITING)
RED_AFTER_WORKDAYS = 3
BATCH = 1000  # per level and sweep; the rest waits five minutes, in deadline order

# Timeline labels of the events written here (action "escalate.<level>"), for the appeal's page.
EVENT_LABELS = {f"escalate.{level.value}": level.label for level in Escalation.Level}

# Which channels each level uses besides the inbox. SMS written at night waits for the morning.
CHANNELS: dict[str, dict[str, bool]] = {
    Level.WARNING: {"email": False, "sms": False},
    Level.YELLOW: {"email": True, "sms": False},
    Level.RED: {"email": True, "sms": True},
    Level.LEADER: {"email": True, "sms": True},
    Level.MANUAL: {"email": True, "sms": False},
}


@dataclass
class SweepResult:
    """How many escalations this run created, per level and deadline."""

    warning: int = 0
    yellow: int = 0
    red: int = 0
    sign_yellow: int = 0

    @property
    def total(self) -> int:
        return self.warning + self.yellow + self.red + self.sign_yellow


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def warning_horizon(now: datetime) -> datetime:
    """Answer deadlines at or before this instant are in their warning period at `now`.

    The warning starts at 00:00 of the last working day that starts before the
    deadline D. That start is <= now exactly when no working day starts in (now, D),
    i.e. when D <= 00:00 of the next working day after today.
    """
    today = now.astimezone(BEIJING).date()
    return _start(workcalendar.add_workdays(today, 1))


def red_at(answer_due: datetime) -> datetime:
    """24:00 Beijing of the 3rd working day after the deadline's day: 3 working days overdue."""
    return workcalendar.deadline(answer_due - timedelta(microseconds=1), RED_AFTER_WORKDAYS).due


# States whose clock runs: while an appeal waits for material (waiting) its clock stands still, and
# resuming moves answer_due on by the paused working days.
CLOCK_STATUSES = (Status.DISPATCHED, Status.SIGNED)


def _open_leads() -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(
            is_current=True, is_lead=True, answered_at__isnull=True, appeal__status__in=CLOCK_STATUSES
        )
        # What an escalation reads of its row, as one object a row: the appeal's text stays on disk.
        .only("id", "appeal_id", "department_id", "answer_due", "sign_due")
        .annotate(zone_id=F("appeal__zone_id"), department_name=F("department__name"))
    )


def _not_yet(queryset: QuerySet[Assignment], deadline: str, level: str) -> QuerySet[Assignment]:
    """Rows not yet escalated at this level for the deadline they have now (a moved deadline starts again)."""
    due_field = "sign_due" if deadline == Deadline.SIGN else "answer_due"
    done = Escalation.objects.filter(
        assignment=OuterRef("pk"), deadline=deadline, level=level, due=OuterRef(due_field)
    )
    return queryset.filter(~Exists(done))


def department_staff(assignment: Assignment, role: str) -> list[User]:
    return unit_staff(assignment.department_id, role)


def unit_staff(unit_id: int, role: str) -> list[User]:
    return list(User.objects.with_role(role).filter(unit_id=unit_id).distinct())


def zone_staff(zone_id: int, role: str) -> list[User]:
    """Holders of `role` in the zone's own unit or one of its departments (not the city's)."""
    in_zone = Q(unit_id=zone_id) | Q(unit__parent_id=zone_id)
    return list(User.objects.with_role(role).filter(in_zone).distinct())


def recipients(item: _Due, audience: _Audience | None = None) -> list[User]:
    """Who is told: handlers for a warning, heads for 催办 and 督办, the zone's leaders for 红牌.

    Where a department has no head, 催办 goes to the zone's supervisors, so that it reaches someone.
    """
    find = audience or _Audience()
    department, level = item.assignment.department_id, item.level
    if level == Level.WARNING:
        return find.unit(department, Role.HANDLER) or find.unit(department, Role.DEPARTMENT_HEAD)
    if level in (Level.RED, Level.LEADER):
        return find.zone(item.zone_id, Role.LEADER)
    heads = find.unit(department, Role.DEPARTMENT_HEAD)
    if level == Level.MANUAL:
        return heads + find.unit(department, Role.HANDLER)
    return heads or find.zone(item.zone_id, Role.SUPERVISOR)


# Titles name the appeal's number and department, never its text (the inbox shows them to the recipient).
TITLES: dict[tuple[str, str], str] = {
    (Deadline.ANSWER, Level.WARNING): gettext_noop("【预警】诉求 #%(ref)s 答复期限 %(due)s 将至，请抓紧办理"),
    (Deadline.ANSWER, Level.YELLOW): gettext_noop("【催办】诉求 #%(ref)s 已超过答复期限 %(due)s（%(dept)s）"),
    (Deadline.ANSWER, Level.RED): gettext_noop("【红牌】诉求 #%(ref)s 超期 3 个工作日未答复（%(dept)s）"),
    (Deadline.SIGN, Level.YELLOW): gettext_noop(
        "【催办】诉求 #%(ref)s 已超过签收期限 %(due)s 未签收（%(dept)s）"
    ),
    (Deadline.ANSWER, Level.LEADER): gettext_noop("【领导协调】诉求 #%(ref)s 提请领导协调（%(dept)s）"),
    (Deadline.ANSWER, Level.MANUAL): gettext_noop("【督办】诉求 #%(ref)s 被督办，请加快办理（%(dept)s）"),
}


def _due_label(due: datetime | None) -> str:
    if due is None:
        return ""
    local = due.astimezone(BEIJING)
    if local.time() == time(0):  # 00:00 of the next day reads as 24:00 of the deadline's day
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class _Due:
    """One escalation the sweep (or a supervisor) is about to write."""

    assignment: Assignment
    level: str
    deadline: str
    due: datetime | None
    zone_id: int
    department_name: str

    @classmethod
    def of(cls, assignment: Assignment, level: str, deadline: str, due: datetime | None) -> _Due:
        """For one assignment read with its appeal and department (a supervisor's 督办, 领导协调)."""
        return cls(assignment, level, deadline, due, assignment.appeal.zone_id, assignment.department.name)

    @property
    def title(self) -> str:
        return _(TITLES[(self.deadline, self.level)]) % {
            "ref": self.assignment.appeal_id,
            "due": _due_label(self.due),
            "dept": self.department_name,
        }


class _Audience:
    """Who hears of an escalation (recipients()): each role's holders are read once per sweep, in one
    query, and grouped by their unit and by the zone that unit lies in."""

    def __init__(self) -> None:
        self._units: dict[str, dict[int, list[User]]] = {}
        self._zones: dict[str, dict[int, list[User]]] = {}

    def _load(self, role: str) -> None:
        units: dict[int, list[User]] = {}
        zones: dict[int, list[User]] = {}
        for user in User.objects.with_role(role).select_related("unit").distinct().order_by("pk"):
            if user.unit is None:
                continue
            units.setdefault(user.unit.pk, []).append(user)
            # zone_staff(): the zone's own unit, or a department whose parent is the zone.
            zones.setdefault(user.unit.pk, []).append(user)
            if user.unit.parent_id is not None:
                zones.setdefault(user.unit.parent_id, []).append(user)
        self._units[role], self._zones[role] = units, zones

    def unit(self, unit_id: int, role: str) -> list[User]:
        if role not in self._units:
            self._load(role)
        return self._units[role].get(unit_id, [])

    def zone(self, zone_id: int, role: str) -> list[User]:
        if role not in self._zones:
            self._load(role)
        return self._zones[role].get(zone_id, [])


# A batch that finds several appeals for one person (or one department's robots) at one level says so
# once, with the count and a link to the list, instead of once per appeal.
DIGEST_TITLES: dict[tuple[str, str], str] = {
    (Deadline.ANSWER, Level.WARNING): gettext_noop("【预警】%(n)s 件诉求的答复期限将至，请抓紧办理"),
    (Deadline.ANSWER, Level.YELLOW): gettext_noop("【催办】%(n)s 件诉求已超过答复期限"),
    (Deadline.ANSWER, Level.RED): gettext_noop("【红牌】%(n)s 件诉求超期 3 个工作日未答复"),
    (Deadline.SIGN, Level.YELLOW): gettext_noop("【催办】%(n)s 件诉求已超过签收期限未签收"),
    (Deadline.ANSWER, Level.LEADER): gettext_noop("【领导协调】%(n)s 件诉求提请领导协调"),
    (Deadline.ANSWER, Level.MANUAL): gettext_noop("【督办】%(n)s 件诉求被督办，请加快办理"),
}


def _list_link(deadline: str, level: str, *, zone_wide: bool) -> str:
    """Where a digest points: the 督办看板 for zone staff, the department's worklist tab otherwise."""
    if zone_wide:
        return "/appeals/board/"
    if deadline == Deadline.SIGN:
        return "/appeals/worklist/?tab=sign"
    return "/appeals/worklist/?tab=soon" if level == Level.WARNING else "/appeals/worklist/?tab=overdue"


def _notices(items: list[_Due], titles: list[str], audience: _Audience) -> list[notifications.Notice]:
    """One inbox notice per person and level: the appeal's own when there is one, else a digest."""
    grouped: dict[tuple[int, str, str], list[int]] = {}
    people: dict[int, User] = {}
    for index, item in enumerate(items):
        for user in recipients(item, audience):
            people[user.pk] = user
            grouped.setdefault((user.pk, item.deadline, item.level), []).append(index)
    notices = []
    for (pk, deadline, level), indexes in grouped.items():
        user = people[pk]
        if len(indexes) == 1:
            title, link = titles[indexes[0]], f"/appeals/{items[indexes[0]].assignment.appeal_id}/"
        else:
            zone_wide = user.has_any_role((Role.SUPERVISOR, Role.LEADER))
            title = _(DIGEST_TITLES[(deadline, level)]) % {"n": len(indexes)}
            link = _list_link(deadline, level, zone_wide=zone_wide)
        notices.append(notifications.Notice([user], title, link, **CHANNELS[level]))
    return notices


def _robot_events(items: list[_Due]) -> list[webhooks.UnitEvent]:
    """The department's group robots hear of it too: the level, the number (or how many) and a link."""
    grouped: dict[tuple[int, str, str], list[_Due]] = {}
    for item in items:
        grouped.setdefault((item.assignment.department_id, item.deadline, item.level), []).append(item)
    events = []
    for (department_id, deadline, level), found in grouped.items():
        if len(found) == 1:
            ref = found[0].assignment.appeal_id
            events.append(webhooks.UnitEvent(department_id, str(level), ref, f"/appeals/{ref}/"))
        else:
            link = _list_link(deadline, level, zone_wide=False)
            events.append(webhooks.UnitEvent(department_id, f"{level}.many", len(found), link))
    return events


def _write(items: list[_Due], *, now: datetime, by: User | None, note: str, audience: _Audience) -> None:
    """The escalations with their events, audit records, inbox notices and robot messages: one insert
    per table, in the caller's transaction. A sweep writes thousands, so the rows go in through
    guanjia.core.bulk rather than bulk_create, whose per-value preparation was most of the sweep's time."""
    titles = [item.title for item in items]
    by_id = by.pk if by is not None else None
    at = bulk.db_value(Escalation, "created_at")(now)
    due = bulk.db_value(Escalation, "due")
    bulk.insert(
        Escalation,
        ("assignment_id", "appeal_id", "level", "deadline", "due", "created_at", "by_id", "note"),
        [
            (
                item.assignment.pk,
                item.assignment.appeal_id,
                item.level,
                item.deadline,
                due(item.due),
                at,
                by_id,
                note,
            )
            for item in items
        ],
    )
    bulk.insert(
        AppealEvent,
        ("appeal_id", "assignment_id", "actor_id", "at", "action", "note"),
        [
            (
                item.assignment.appeal_id,
                item.assignment.pk,
                by_id,
                at,
                f"escalate.{item.level}",
                note or title,
            )
            for item, title in zip(items, titles, strict=True)
        ],
    )
    detail = bulk.db_value(AuditRecord, "detail")
    actor_name = by.username if by is not None else "system"
    bulk.insert(
        AuditRecord,
        ("actor_id", "actor_name", "action", "object_type", "object_id", "summary", "detail", "at"),
        [
            (
                by_id,
                actor_name,
                f"appeal.escalate.{item.level}",
                Appeal._meta.label_lower,
                str(item.assignment.appeal_id),
                title[:300],
                detail({"assignment": item.assignment.pk, "deadline": item.deadline, "level": item.level}),
                at,
            )
            for item, title in zip(items, titles, strict=True)
        ],
    )
    notifications.notify_many(_notices(items, titles, audience))
    webhooks.notify_units(_robot_events(items))
    # 红牌 are counted in the daily rollups (the cockpit, the weekly briefing).
    rollups.refresh(sorted({item.assignment.appeal_id for item in items if item.level == Level.RED}))


def _escalate_many(
    items: list[_Due],
    *,
    now: datetime,
    by: User | None = None,
    note: str = "",
    audience: _Audience | None = None,
) -> int:
    """Write a batch of escalations in one transaction; returns how many were written. If one of them exists already (a concurrent
    sweep wrote it first), the unique constraint undoes the batch, and each is written on its own, so
    that every escalation is written once and none is lost."""
    if not items:
        return 0
    audience = audience or _Audience()
    try:
        with transaction.atomic():
            _write(items, now=now, by=by, note=note, audience=audience)
            return len(items)
    except IntegrityError:
        if len(items) == 1:
            return 0  # this level of this assignment was escalated already
    return sum(_escalate_many([item], now=now, by=by, note=note, audience=audience) for item in items)


def _escalate(
    assignment: Assignment,
    level: str,
    *,
    deadline: str,
    due: datetime | None,
    now: datetime,
    by: User | None = None,
    note: str = "",
) -> Escalation | None:
    """Write one escalation with its event, audit record and notifications; None if it exists already."""
    if not _escalate_many([_Due.of(assignment, level, deadline, due)], now=now, by=by, note=note):
        return None
    mine = Escalation.objects.filter(assignment=assignment, deadline=deadline, level=level, created_at=now)
    return mine.order_by("-pk").first()


CHUNK = 1000  # escalations written per transaction: a fraction of a second, a few statements


def _escalate_each(
    queryset: QuerySet[Assignment],
    level: str,
    *,
    deadline: str,
    now: datetime,
    result: SweepResult,
    counter: str,
    audience: _Audience,
    ready: Callable[[datetime], bool] | None = None,
) -> None:
    due_field = "sign_due" if deadline == Deadline.SIGN else "answer_due"
    items = []
    for row in queryset.order_by(due_field, "pk")[:BATCH]:
        annotated: Any = row  # _open_leads() adds the appeal's zone and the department's name
        items.append(
            _Due(row, level, deadline, getattr(row, due_field), annotated.zone_id, annotated.department_name)
        )
    if ready is not None:
        items = [item for item in items if item.due is not None and ready(item.due)]
    for start in range(0, len(items), CHUNK):
        written = _escalate_many(items[start : start + CHUNK], now=now, audience=audience)
        setattr(result, counter, getattr(result, counter) + written)


def sweep(now: datetime | None = None) -> SweepResult:
    """Escalate every open lead assignment whose time has come; running it twice or at once does nothing twice."""
    now = now or timezone.now()
    result = SweepResult()
    audience = _Audience()
    leads = _open_leads()
    # 红牌 first: after an outage the most urgent goes out first. 3 working days are at least 3
    # calendar days, so the index narrows by that and the calendar decides each row.
    _escalate_each(
        _not_yet(leads, Deadline.ANSWER, Level.RED).filter(
            answer_due__lte=now - timedelta(days=RED_AFTER_WORKDAYS)
        ),
        Level.RED,
        deadline=Deadline.ANSWER,
        now=now,
        result=result,
        audience=audience,
        counter="red",
        ready=lambda due: red_at(due) <= now,
    )
    _escalate_each(
        _not_yet(leads, Deadline.ANSWER, Level.YELLOW).filter(answer_due__lte=now),
        Level.YELLOW,
        deadline=Deadline.ANSWER,
        now=now,
        result=result,
        audience=audience,
        counter="yellow",
    )
    unsigned = leads.filter(
        appeal__status=Status.DISPATCHED, signed_at__isnull=True, returned_at__isnull=True
    )
    _escalate_each(
        _not_yet(unsigned, Deadline.SIGN, Level.YELLOW).filter(sign_due__lte=now),
        Level.YELLOW,
        deadline=Deadline.SIGN,
        now=now,
        result=result,
        audience=audience,
        counter="sign_yellow",
    )
    # No warning once the deadline has passed: it would only add noise to the 催办.
    _escalate_each(
        _not_yet(leads, Deadline.ANSWER, Level.WARNING).filter(
            answer_due__gt=now, answer_due__lte=warning_horizon(now)
        ),
        Level.WARNING,
        deadline=Deadline.ANSWER,
        now=now,
        result=result,
        audience=audience,
        counter="warning",
    )
    return result


def escalate_by_hand(appeal: Appeal, *, note: str, by: User, to_leader: bool = False) -> Escalation:
    """A supervisor of the appeal's zone escalates it (督办) or asks the zone's leaders to coordinate (领导协调)."""
    if not (by.has_role(Role.SUPERVISOR) and appeal.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的效能督查可以督办诉求"))
    if not note.strip():
        raise ServiceError(_("请填写督办意见"))
    # The row's status now, not the caller's copy; the caller's object is left as it is.
    status = Appeal.objects.filter(pk=appeal.pk).values_list("status", flat=True).first() or appeal.status
    if status not in WATCHED_STATUSES:
        raise Conflict(_("该诉求当前为“%(status)s”，不能督办") % {"status": Status(status).label})
    lead = appeal.assignments.filter(is_current=True, is_lead=True).select_related("appeal", "department")
    assignment = lead.first()
    if assignment is None:
        raise Conflict(_("该诉求当前没有主办部门"))
    level = Level.LEADER if to_leader else Level.MANUAL
    escalation = _escalate(
        assignment,
        level,
        deadline=Deadline.ANSWER,
        due=assignment.answer_due,
        now=timezone.now(),
        by=by,
        note=note.strip(),
    )
    if escalation is None:
        raise Conflict(_("该诉求已提请领导协调"))
    return escalation


def escalate_to_leaders(
    assignment: Assignment, *, note: str, by: User | None, now: datetime
) -> Escalation | None:
    """领导协调 after the second reopen: the zone's leaders are asked for a decision (once per assignment)."""
    return _escalate(
        assignment,
        Level.LEADER,
        deadline=Deadline.ANSWER,
        due=assignment.answer_due,
        now=now,
        by=by,
        note=note,
    )
