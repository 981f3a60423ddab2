"""The knowledge part of `guanjia demo-data`: 高新区's knowledge base from the corpus (guanjia.knowledge.corpus),
published by its six departments with demo staff, a few drafts among them; a small set for 经开区, so that
each zone's users find their own zone's answers; one entry made from an answered 咨询 appeal of the demo;
the enterprise users' "did this solve your question?" over the last weeks; and the portal searches of the
last month, some of which found nothing (the questions the departments should answer next).

Rows are written by ORM in the demo's transaction and every entry is indexed (guanjia.core.search), as the
entry services do. The random stream is drawn from a copy of the demo's generator, so the rest of the demo
stays as it was.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from guanjia.appeals.models import Assignment, Handling, Status
from guanjia.core import audit, search
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.knowledge.corpus import ENTRIES, EntrySpec, jk_entries, load_corpus
from guanjia.knowledge.models import SEARCH_KIND, Entry, EntryStatus, Feedback, Query

BEIJING = ZoneInfo("Asia/Shanghai")
ZONE_ENTRIES: tuple[tuple[str, str], ...] = (("jn-gx", "corpus"), ("jn-jk", "jk"))
# Entries were written over the past half year, and read and searched over the past weeks.
WRITTEN_WITHIN_DAYS = 180
FEEDBACK_WITHIN_DAYS = 42
QUERIES_WITHIN_DAYS = 28
FEEDBACK_PER_USER = 90
RESOLVED_SHARE = 0.75
SEARCH_RESULTS = 10  # as many as the portal shows (guanjia.knowledge.finding)

# What enterprises typed on the portal: questions the knowledge base answers…
ANSWERED_SEARCHES = (
    "开办企业要准备什么材料",
    "营业执照丢了怎么补",
    "新招的员工怎么交社保",
    "怎么开发票",
    "留抵退税多久到账",
    "研发费用加计扣除",
    "高新企业认定条件",
    "人才公寓申请",
    "厂房想加层",
    "环评怎么办",
    "排污证",
    "危废处置",
    "施工许可证",
    "消防验收",
    "用电报装",
    "稳岗返还",
)
# …and questions it has no entry for yet: they find nothing (test_demo_knowledge checks it).
UNANSWERED_SEARCHES = (
    "进口清关",
    "签证",
    "托育",
    "篮球场",
    "门卫保安",
    "咖啡厅",
)


def _own_stream(rng: random.Random) -> random.Random:
    """A generator seeded from a copy of the demo's: deterministic, and draws nothing from the shared one."""
    copy = random.Random()
    copy.setstate(rng.getstate())
    return random.Random(copy.getrandbits(64) ^ 0x4B_0A_1E)


def _moment(rng: random.Random, days_ago: int) -> datetime:
    day = timezone.now().astimezone(BEIJING).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=BEIJING)


def _keeper(department: OrgUnit) -> User | None:
    """The department's first handler, else its head: who writes its entries."""
    for role in (Role.HANDLER, Role.DEPARTMENT_HEAD):
        user = User.objects.with_role(role).filter(unit=department).order_by("username").first()
        if user is not None:
            return user
    return None


def _zone_entries(zone: OrgUnit, units: dict[str, OrgUnit], specs: list[EntrySpec]) -> list[Entry]:
    """The specs whose department is in the demo and has a keeper, written and indexed."""
    departments: dict[str, OrgUnit] = {}
    keepers: dict[str, User] = {}
    for key in {spec.department for spec in specs}:
        department = units.get(f"{zone.code}-{key}")
        keeper = _keeper(department) if department is not None else None
        if department is not None and keeper is not None:
            departments[key], keepers[key] = department, keeper
    return load_corpus(zone, departments, keepers, [spec for spec in specs if spec.department in keepers])


def _date_entries(rng: random.Random, entries: list[Entry]) -> None:
    """Spread the entries' dates over the past months (drafts are the most recent)."""
    for entry in entries:
        written = _moment(rng, rng.randint(20, WRITTEN_WITHIN_DAYS))
        if entry.status == EntryStatus.DRAFT:
            written = _moment(rng, rng.randint(1, 10))
        changed = min(written + timedelta(days=rng.randint(0, 15)), timezone.now())
        Entry.objects.filter(pk=entry.pk).update(
            created_at=written,
            updated_at=changed,
            published_at=changed if entry.status == EntryStatus.PUBLISHED else None,
        )


def _from_answered_consultation(zone: OrgUnit) -> Entry | None:
    """An entry made from one of the zone's answered 咨询 appeals, by the department that answered it."""
    assignment = (
        Assignment.objects.filter(
            appeal__zone=zone,
            appeal__handling=Handling.CONSULT,
            appeal__status__in=(Status.ANSWERED, Status.CLOSED),
            is_lead=True,
            answered_at__isnull=False,
            answered_by__isnull=False,
        )
        .exclude(answer="")
        .select_related("appeal", "answered_by")
        .order_by("answered_at", "pk")
        .first()
    )
    if assignment is None or assignment.answered_at is None or assignment.answered_by is None:
        return None
    appeal = assignment.appeal
    at = min(assignment.answered_at + timedelta(days=1), timezone.now())
    entry = Entry.objects.create(
        zone=zone,
        department_id=assignment.department_id,
        category_id=appeal.category_id,
        question=appeal.title[:200],
        answer=assignment.answer,
        status=EntryStatus.PUBLISHED,
        source_appeal=appeal,
        created_by=assignment.answered_by,
        created_at=at,
        updated_at=at,
        published_at=at,
    )
    search.index(SEARCH_KIND, entry.pk, title=entry.question, body=entry.answer, keywords=entry.keywords)
    return entry


def _feedback(rng: random.Random, zone: OrgUnit, entries: list[Entry]) -> list[Feedback]:
    """Each enterprise user of the zone said, for entries it read, whether its question was solved."""
    published = list(Entry.objects.filter(pk__in=[e.pk for e in entries], status=EntryStatus.PUBLISHED))
    memberships = (
        EnterpriseMembership.objects.filter(enterprise__zone=zone, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username", "pk")
    )
    rows: dict[tuple[int, int, Any], Feedback] = {}
    for membership in memberships:
        for _ in range(FEEDBACK_PER_USER if published else 0):
            entry = rng.choice(published)
            days_ago = rng.randint(0, FEEDBACK_WITHIN_DAYS)
            at = min(_moment(rng, days_ago), timezone.now())
            if entry.published_at is None or entry.published_at > at:
                continue  # read before it was published: not a story to tell
            key = (entry.pk, membership.user_id, timezone.localdate(at))
            rows.setdefault(
                key,
                Feedback(
                    entry=entry,
                    user=membership.user,
                    enterprise_id=membership.enterprise_id,
                    day=timezone.localdate(at),  # Beijing's day, as entries.give_feedback records it
                    resolved=rng.random() < RESOLVED_SHARE,
                    query=entry.keywords.split()[0] if entry.keywords else entry.question[:20],
                    at=at,
                ),
            )
    return Feedback.objects.bulk_create(rows.values())


def _queries(rng: random.Random, zone: OrgUnit) -> list[Query]:
    """The zone's portal searches of the past weeks, with as many results as the search really gives."""
    within = Entry.objects.filter(zone=zone, status=EntryStatus.PUBLISHED)
    enterprises = list(
        EnterpriseMembership.objects.filter(enterprise__zone=zone, is_active=True)
        .order_by("pk")
        .values_list("enterprise_id", flat=True)
    )
    rows = []
    for text in ANSWERED_SEARCHES + UNANSWERED_SEARCHES:
        hits = len(search.search(SEARCH_KIND, text, within=within, limit=SEARCH_RESULTS))
        for _ in range(rng.randint(1, 3)):
            rows.append(
                Query(
                    zone=zone,
                    text=text,
                    hits=hits,
                    enterprise_id=rng.choice(enterprises) if enterprises and rng.random() < 0.6 else None,
                    at=min(_moment(rng, rng.randint(0, QUERIES_WITHIN_DAYS)), timezone.now()),
                )
            )
    return Query.objects.bulk_create(rows)


def add_demo_knowledge(sender: Any, *, units: dict[str, OrgUnit], rng: random.Random, **kwargs: Any) -> None:
    """demo_built hook: both zones' knowledge bases, feedback and searches, in the demo's transaction."""
    own = _own_stream(rng)
    totals = {"entries": 0, "feedback": 0, "queries": 0}
    for code, which in ZONE_ENTRIES:
        zone = units.get(code)
        if zone is None:
            continue
        specs = list(ENTRIES) if which == "corpus" else jk_entries()
        entries = _zone_entries(zone, units, specs)
        _date_entries(own, entries)
        if which == "corpus":
            from_appeal = _from_answered_consultation(zone)
            if from_appeal is not None:
                entries.append(from_appeal)
        totals["entries"] += len(entries)
        totals["feedback"] += len(_feedback(own, zone, entries))
        totals["queries"] += len(_queries(own, zone))
    audit.record(
        None,
        "knowledge.demo_load",
        summary=f"装入知识库演示数据：{totals['entries']} 条知识、{totals['feedback']} 条反馈、"
        f"{totals['queries']} 条搜索记录",
        detail=totals,
    )
