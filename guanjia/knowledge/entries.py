"""Writes and counts of the knowledge base (知识库): entries kept by departments, the enterprises'
feedback ("did this answer solve your question?") and the portal's searches.

Only the keepers of an entry (the handlers and the head of its department, access.may_keep) write it;
a dispatcher may also turn an answered 咨询 appeal into a draft entry of a department that answered it.
Every write of an entry checks its input and names the field it refuses (InvalidField.field), runs in
one transaction with its audit record and its search index row, and changes the row only if its
version (and state) is still the one the editor read: a stale edit is refused with Conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals.models import Appeal, AppealCategory, Assignment
from guanjia.core import audit, search
from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.validation import clean_text
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.knowledge.access import (
    answered_consultation,
    answering_departments,
    check_keeper,
    keeps_some_entry,
    may_turn_into_entry,
)
from guanjia.knowledge.models import SEARCH_KIND, Entry, EntryStatus, Feedback, Query

QUESTION_MAX = 200
KEYWORDS_MAX = 200
ANSWER_MAX = 10000
QUERY_MAX = 200
UNANSWERED_DAYS = 30

# The allowed moves of an entry: action → the states it starts from, and the state it leads to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({EntryStatus.DRAFT, EntryStatus.ARCHIVED}), EntryStatus.PUBLISHED),
    "archive": (frozenset({EntryStatus.DRAFT, EntryStatus.PUBLISHED}), EntryStatus.ARCHIVED),
}


# --- checks -----------------------------------------------------------------------------------------


def _category(value: Any) -> AppealCategory | None:
    if value is None or value == "":
        return None
    if isinstance(value, AppealCategory):
        return value
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        raise InvalidField("category", _("类别：无效的编号")) from None
    category = AppealCategory.objects.filter(pk=pk).first()
    if category is None:
        raise InvalidField("category", _("类别：未知的类别（编号 %(id)s）") % {"id": pk})
    return category


def _clean(question: Any, answer: Any, keywords: Any, category: Any) -> dict[str, Any]:
    """The entry's fields checked and normalised; InvalidField names the first bad one."""
    return {
        "question": clean_text("question", _("问题"), question, limit=QUESTION_MAX, required=True),
        "answer": clean_text("answer", _("解答"), answer, limit=ANSWER_MAX, required=True),
        "keywords": clean_text("keywords", _("关键词/同义词"), keywords, limit=KEYWORDS_MAX),
        "category": _category(category),
    }


def _detail(clean: dict[str, Any]) -> dict[str, Any]:
    """An audit record's detail: the category as its id, the answer by its length only."""
    detail = {key: value for key, value in clean.items() if key not in ("answer", "category")}
    if "category" in clean:
        detail["category"] = clean["category"].pk if clean["category"] is not None else None
    if "answer" in clean:
        detail["answer_chars"] = len(clean["answer"])
    return detail


def _index(entry: Entry) -> None:
    search.index(SEARCH_KIND, entry.pk, title=entry.question, body=entry.answer, keywords=entry.keywords)


def _zone_of(department: OrgUnit) -> OrgUnit:
    zone = department.parent
    if department.kind != OrgUnit.Kind.DEPARTMENT or zone is None or zone.kind != OrgUnit.Kind.ZONE:
        raise InvalidField("department", _("维护部门：须为园区的部门"))
    return zone


# --- entries ----------------------------------------------------------------------------------------


def _department_for_appeal(appeal: Appeal, by: User, department: OrgUnit | None) -> OrgUnit:
    """The department that will keep an entry made of `appeal`: one that answered it as lead
    department; a keeper writes for its own, a dispatcher of the appeal's zone names one."""
    answered = answering_departments(appeal)
    own = keeps_some_entry(by) and by.unit_id in answered
    dispatcher = by.has_role(Role.DISPATCHER) and appeal.zone_id in by.zone_ids()
    if department is None:
        pk = by.unit_id if own else (answered[0] if answered else None)
        if pk is None:
            raise InvalidField("department", _("维护部门：该诉求没有答复部门"))
        department = OrgUnit.objects.get(pk=pk)
    if department.pk not in answered:
        raise InvalidField("department", _("维护部门：只能是答复过该诉求的部门"))
    if not dispatcher and department.pk != by.unit_id:
        raise NotAllowed(_("维护部门：只能为本部门新建知识条目"))
    return department


def departments_for_appeal(appeal: Appeal, by: User) -> list[OrgUnit]:
    """The departments `by` may name for an entry made of `appeal` (the form's choices)."""
    answered = answering_departments(appeal)
    if by.has_role(Role.DISPATCHER) and appeal.zone_id in by.zone_ids():
        allowed = answered
    else:
        allowed = [pk for pk in answered if pk == by.unit_id]
    units = OrgUnit.objects.in_bulk(allowed)
    return [units[pk] for pk in allowed if pk in units]


def create_entry(
    *,
    by: User,
    question: str,
    answer: str,
    keywords: str = "",
    category: AppealCategory | int | None = None,
    source_appeal: Appeal | None = None,
    department: OrgUnit | None = None,
) -> Entry:
    """A draft entry: a keeper writes one for its own department; a keeper or a dispatcher turns an
    answered 咨询 appeal into one, kept by a department that answered the appeal."""
    if source_appeal is not None:
        if not answered_consultation(source_appeal):
            raise ServiceError(_("只有已答复的咨询类诉求可以转为知识条目"))
        if not may_turn_into_entry(by, source_appeal):
            raise NotAllowed(_("只有答复该诉求的部门或本园区受理员可以将其转为知识条目"))
        department = _department_for_appeal(source_appeal, by, department)
    else:
        if not keeps_some_entry(by):
            raise NotAllowed(_("只有部门承办人或部门负责人可以新建知识条目"))
        if department is not None and department.pk != by.unit_id:
            raise NotAllowed(_("维护部门：只能为本部门新建知识条目"))
        department = by.unit
    assert department is not None
    zone = _zone_of(department)
    clean = _clean(question, answer, keywords, category)
    now = timezone.now()
    with transaction.atomic():
        entry = Entry.objects.create(
            zone=zone,
            department=department,
            source_appeal=source_appeal,
            created_by=by,
            created_at=now,
            updated_at=now,
            **clean,
        )
        _index(entry)
        audit.record(
            by,
            "knowledge.entry_create",
            entry,
            summary=f"新建知识条目：{entry.question}",
            detail={
                "department": department.pk,
                "source_appeal": source_appeal.pk if source_appeal is not None else None,
                **_detail(clean),
            },
        )
    return entry


def update_entry(
    entry: Entry,
    *,
    by: User,
    version: int,
    question: str,
    answer: str,
    keywords: str,
    category: AppealCategory | int | None,
) -> Entry:
    """Edit the entry (and re-index it); `version` is the one the editor read, so a stale edit loses."""
    check_keeper(by, entry)
    clean = _clean(question, answer, keywords, category)
    current = {name: getattr(entry, name) for name in ("question", "answer", "keywords", "category")}
    now = timezone.now()
    with transaction.atomic():
        moved = Entry.objects.filter(pk=entry.pk, version=version).update(
            **clean, updated_at=now, version=version + 1
        )
        if moved != 1:
            raise Conflict(_("知识条目“%(q)s”刚被他人修改，请刷新后重试") % {"q": entry.question})
        for key, value in clean.items():
            setattr(entry, key, value)
        entry.updated_at, entry.version = now, version + 1
        _index(entry)
        changed = {key: value for key, value in clean.items() if current[key] != value}
        audit.record(
            by,
            "knowledge.entry_update",
            entry,
            summary=f"修改知识条目：{entry.question}",
            detail=_detail(changed),
        )
    return entry


def _move(entry: Entry, action: str, *, by: User, version: int) -> Entry:
    check_keeper(by, entry)
    sources, target = TRANSITIONS[action]
    if entry.status not in sources:
        raise ServiceError(
            _("知识条目当前为“%(state)s”，不能执行此操作") % {"state": EntryStatus(entry.status).label}
        )
    now = timezone.now()
    changes: dict[str, Any] = {"status": target, "updated_at": now, "version": version + 1}
    if target == EntryStatus.PUBLISHED:
        changes["published_at"] = now
    with transaction.atomic():
        moved = Entry.objects.filter(pk=entry.pk, version=version, status=entry.status).update(**changes)
        if moved != 1:
            raise Conflict(_("知识条目“%(q)s”刚被他人修改，请刷新后重试") % {"q": entry.question})
        audit.record(
            by,
            f"knowledge.entry_{action}",
            entry,
            summary=f"{'发布' if action == 'publish' else '停用'}知识条目：{entry.question}",
            detail={"from": entry.status, "to": target},
        )
    for key, value in changes.items():
        setattr(entry, key, value)
    return entry


def publish(entry: Entry, *, by: User, version: int) -> Entry:
    """Publish a draft (or an archived entry again): the zone's enterprises find it from now on."""
    return _move(entry, "publish", by=by, version=version)


def archive(entry: Entry, *, by: User, version: int) -> Entry:
    """Withdraw an entry that no longer holds (a policy changed): it is found no more on the portal."""
    return _move(entry, "archive", by=by, version=version)


def lead_answer(appeal: Appeal) -> Assignment | None:
    """The latest answer of the appeal's lead department."""
    return (
        Assignment.objects.filter(appeal=appeal, is_lead=True, answered_at__isnull=False)
        .order_by("-answered_at", "-pk")
        .first()
    )


def entry_draft_from_appeal(appeal: Appeal, *, by: User) -> dict[str, Any]:
    """The new-entry form's initial values for an answered 咨询 appeal: its title as the question, the
    lead department's latest answer as the answer, its category, and the department to keep it."""
    if not answered_consultation(appeal):
        raise ServiceError(_("只有已答复的咨询类诉求可以转为知识条目"))
    if not may_turn_into_entry(by, appeal):
        raise NotAllowed(_("只有答复该诉求的部门或本园区受理员可以将其转为知识条目"))
    lead = lead_answer(appeal)
    departments = departments_for_appeal(appeal, by)
    return {
        "question": appeal.title[:QUESTION_MAX],
        "answer": lead.answer if lead is not None else "",
        "keywords": "",
        "category": appeal.category,
        "department": departments[0] if departments else None,
    }


def entries_from_appeal(appeal: Appeal) -> QuerySet[Entry]:
    return Entry.objects.filter(source_appeal=appeal).exclude(status=EntryStatus.ARCHIVED)


# --- feedback and searches of the portal -------------------------------------------------------------


def _enterprise_in_zone(user: User, zone_id: int | None) -> Enterprise | None:
    membership = (
        EnterpriseMembership.objects.filter(user=user, is_active=True, enterprise__zone_id=zone_id)
        .select_related("enterprise")
        .order_by("pk")
        .first()
    )
    return membership.enterprise if membership is not None else None


def record_feedback(entry: Entry, *, by: User, resolved: bool, query: str = "") -> Feedback:
    """An enterprise user says whether the entry solved its question: one row per entry, user and day,
    and the last answer of the day counts (two clicks at once do not fail: the second one updates)."""
    if not by.has_role(Role.ENTERPRISE_USER) or by.is_admin_account:
        raise NotAllowed(_("只有企业用户可以反馈是否解决"))
    if not Entry.objects.visible_to(by).published().filter(pk=entry.pk).exists():
        raise ServiceError(_("该知识条目未发布或不在您的范围内"))
    values = {
        "resolved": bool(resolved),
        "query": str(query or "").strip()[:QUERY_MAX],
        "enterprise": _enterprise_in_zone(by, entry.zone_id),
        "at": timezone.now(),
    }
    day = timezone.localdate()
    try:
        with transaction.atomic():
            feedback, _created = Feedback.objects.update_or_create(
                entry=entry, user=by, day=day, defaults=values
            )
    except IntegrityError:
        # The other click inserted the day's row between our look and our insert: ours is the later word.
        with transaction.atomic():
            Feedback.objects.filter(entry=entry, user=by, day=day).update(**values)
            feedback = Feedback.objects.get(entry=entry, user=by, day=day)
    return feedback


def log_query(user: User, text: str, hits: int) -> Query | None:
    """Log a search of the enterprise portal (enterprise users only), in the zone of its enterprise."""
    text = str(text or "").strip()[:QUERY_MAX]
    if not text or not user.has_role(Role.ENTERPRISE_USER):
        return None
    membership = (
        EnterpriseMembership.objects.filter(user=user, is_active=True)
        .select_related("enterprise")
        .order_by("pk")
        .first()
    )
    if membership is None:
        return None
    enterprise = membership.enterprise
    return Query.objects.create(
        zone_id=enterprise.zone_id, enterprise=enterprise, text=text, hits=min(max(hits, 0), 32767)
    )


# --- counts -----------------------------------------------------------------------------------------


def with_counts(entries: QuerySet[Entry]) -> QuerySet[Any]:
    """`entries` with resolved_count (questions it solved without an appeal) and unresolved_count.
    (Typed Any: the stubs do not see the annotations, which the callers filter and read.)"""
    return entries.annotate(
        resolved_count=Count("feedback", filter=Q(feedback__resolved=True)),
        unresolved_count=Count("feedback", filter=Q(feedback__resolved=False)),
    )


def top_entries(entries: QuerySet[Entry], limit: int = 5) -> list[Entry]:
    """The entries that solved the most questions, at least one."""
    ranked = with_counts(entries).filter(resolved_count__gt=0).order_by("-resolved_count", "-pk")
    return list(ranked.select_related("department")[:limit])


@dataclass(frozen=True)
class Totals:
    """A zone's knowledge base over a period: questions solved without an appeal, questions not solved,
    portal searches, and searches that found nothing."""

    resolved: int
    unresolved: int
    searches: int
    unanswered: int


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def zone_totals(zone_ids: Iterable[int], start: datetime, end: datetime) -> Totals:
    """Totals over [start, end) of the zones' entries and portal searches."""
    zones = list(zone_ids)
    # The aggregates' names differ from the fields' (Django refuses an aggregate named like a field it reads).
    feedback = Feedback.objects.filter(entry__zone_id__in=zones, at__gte=start, at__lt=end).aggregate(
        n_resolved=Count("id", filter=Q(resolved=True)), n_unresolved=Count("id", filter=Q(resolved=False))
    )
    queries = Query.objects.filter(zone_id__in=zones, at__gte=start, at__lt=end).aggregate(
        n_searches=Count("id"), n_unanswered=Count("id", filter=Q(hits=0))
    )
    return Totals(
        resolved=feedback["n_resolved"] or 0,
        unresolved=feedback["n_unresolved"] or 0,
        searches=queries["n_searches"] or 0,
        unanswered=queries["n_unanswered"] or 0,
    )


def unanswered_queries(
    zone_ids: Iterable[int], *, days: int = UNANSWERED_DAYS, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The portal searches of the last `days` days that found nothing, grouped by their text, most
    asked first: {"text", "count", "last_at"}."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        Query.objects.filter(zone_id__in=list(zone_ids), hits=0, at__gte=since)
        .values("text")
        .annotate(count=Count("id"), last_at=Max("at"))
        .order_by("-count", "-last_at", "text")
    )
    return [dict(row) for row in rows[:limit]]
