"""Full-text search over appeals, answers and the knowledge base, through core.search, each kind in
the asking user's scope.

- Appeals are indexed as they are submitted (title and body), answers as they are given (the lead
  department's answer and the co-departments' opinions, under the appeal's title): receivers.py.
  `guanjia reindex_appeals` rewrites both for the appeals already there.
- Each kind is searched within its own visible_to: an appeal within Appeal.objects.visible_to(user),
  an answer within the assignments of those appeals, a knowledge entry within what the knowledge base
  lets the user read (published entries, drafts for its keepers and overseers: knowledge.finding).
- All kinds at once (kind=None): the kinds' scores are not comparable (each kind's ranking weighs a
  word by how rare it is among that kind's texts, and an answer is longer than a question), so the
  lists are merged by how many of the query's words a hit holds, which means the same in every
  kind, and then by each hit's rank within its own kind, taking the kinds in turn (merge()).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from guanjia.appeals.models import Appeal, Assignment
from guanjia.appeals.permissions import EnterpriseVisibility
from guanjia.core import search
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.knowledge import finding

APPEAL_KIND = "appeals.appeal"
ANSWER_KIND = "appeals.answer"

APPEAL, ANSWER, KNOWLEDGE = "appeal", "answer", "knowledge"
KINDS = (APPEAL, ANSWER, KNOWLEDGE)


def index_appeal(appeal: Appeal) -> None:
    """Index (or re-index) an appeal's title and body; in the transaction that saves it."""
    search.index(APPEAL_KIND, appeal.pk, title=appeal.title, body=appeal.body)


def index_answer(assignment: Assignment) -> None:
    """Index an answer, under its appeal's title; with it, the co-departments' opinions on the appeal
    (they are given before the lead answers, and the lifecycle tells nothing of them)."""
    appeal = assignment.appeal
    answered = [assignment] if assignment.answer.strip() else []
    answered += list(
        Assignment.objects.filter(appeal_id=assignment.appeal_id, answered_at__isnull=False)
        .exclude(pk=assignment.pk)
        .exclude(answer="")
        .only("pk", "answer")
    )
    for one in answered:
        search.index(ANSWER_KIND, one.pk, title=appeal.title, body=one.answer)


def answered_assignments(user: User) -> QuerySet[Assignment]:
    """The answers `user` may read: the answered assignments of the appeals it sees.

    Each answer's own appeal is looked up (EXISTS), not the user's appeals listed (`appeal__in`):
    SQLite would list a dispatcher's whole zone, hundreds of thousands of appeals, at every call."""
    return (
        Assignment.objects.filter(answered_at__isnull=False)
        .exclude(answer="")
        .filter(Exists(Appeal.objects.visible_to(user).filter(pk=OuterRef("appeal_id"))))
    )


class AnswerScope(search.Scope):
    """The answers' scope in a search: checked per page by answered_assignments (EXISTS on each
    answer's appeal); listed, when the search asks whether it is small, from the appeals' side,
    which is quick for an enterprise's few appeals where scanning the answers for them is not."""

    def __init__(self, user: User) -> None:
        super().__init__(answered_assignments(user))
        self.appeals = Appeal.objects.visible_to(user)

    def list_small(self, most: int) -> list[int] | None:
        appeal_ids = list(self.appeals.order_by().values_list("pk", flat=True)[: most + 1])
        if len(appeal_ids) > most:
            return None  # each appeal in scope has at most a few answers: not small either
        assert self.within is not None
        ids = list(
            self.within.order_by().filter(appeal_id__in=appeal_ids).values_list("pk", flat=True)[: most + 1]
        )
        return ids if len(ids) <= most else None


@dataclass(frozen=True)
class Found:
    kind: str  # "appeal", "answer", "knowledge"
    url: str
    title_html: str
    snippet_html: str
    score: float
    object_id: int
    # How many of the query's words the hit holds (0..1): the measure merge() compares across kinds.
    coverage: float = 0.0
    # Appeals and answers: the appeal's status and date, and its enterprise's name where the user may
    # see it ("" for a confidential appeal shown to its handling department).
    status: str = ""
    status_label: str = ""
    date: datetime | None = None
    enterprise_name: str = ""
    # Answers: 主办答复 or 协办意见. Knowledge: the department that answers it.
    note: str = ""


def find(user: User, query: str, *, kind: str | None = None, limit: int = 20) -> list[Found]:
    """What `user` may see that matches `query`, best first: one kind, or all three merged."""
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(kind)
        return _FINDERS[kind](user, query, limit)
    return merge(find_each(user, query, limit=limit), limit)


def find_each(user: User, query: str, *, limit: int = 20) -> dict[str, list[Found]]:
    """Each kind's hits for `query`, best first, at most `limit` of each (the search page's tabs)."""
    return {kind: _FINDERS[kind](user, query, limit) for kind in KINDS}


def merge(found: dict[str, list[Found]], limit: int) -> list[Found]:
    """The kinds' lists as one: more of the query's words first, then by rank within the kind, the
    kinds in turn (a kind's scores say nothing about another kind's)."""
    keyed = [
        (-round(item.coverage, 2), rank, position, item)
        for position, kind in enumerate(KINDS)
        for rank, item in enumerate(found.get(kind, []))
    ]
    keyed.sort(key=lambda key: key[:3])
    return [item for *_, item in keyed[:limit]]


def _coverage(hit: search.Hit) -> float:
    if not hit.words:
        return 0.0
    text = f"{hit.title}\n{hit.body}".lower()
    return sum(1 for word in hit.words if word in text) / len(hit.words)


# What a hit shows of its appeal, and what EnterpriseVisibility.sees reads: only these are loaded.
_LISTED_APPEAL = ("status", "submitted_at", "confidential", "zone", "enterprise__name", "enterprise__steward")


def _status_labels() -> dict[str, str]:
    """The appeal statuses' labels in the active language, translated once per search."""
    return {value: str(label) for value, label in Appeal._meta.get_field("status").flatchoices}


def _find_appeals(user: User, query: str, limit: int) -> list[Found]:
    hits = search.search(APPEAL_KIND, query, within=Appeal.objects.visible_to(user), limit=limit)
    if not hits:
        return []
    appeals = (
        Appeal.objects.select_related("enterprise")
        .only(*_LISTED_APPEAL)
        .in_bulk([hit.object_id for hit in hits])
    )
    shown = EnterpriseVisibility(user)
    labels = _status_labels()
    found = []
    for hit in hits:
        appeal = appeals.get(hit.object_id)
        if appeal is None:
            continue
        found.append(
            Found(
                kind=APPEAL,
                url=reverse("appeals:detail", args=[appeal.pk]),
                title_html=hit.title_html,
                snippet_html=hit.snippet_html(),
                score=hit.score,
                object_id=appeal.pk,
                coverage=_coverage(hit),
                status=appeal.status,
                status_label=labels.get(appeal.status, appeal.status),
                date=appeal.submitted_at,
                enterprise_name=appeal.enterprise.name if shown.sees(appeal) else "",
            )
        )
    return found


def _find_answers(user: User, query: str, limit: int) -> list[Found]:
    hits = search.search(ANSWER_KIND, query, within=AnswerScope(user), limit=limit)
    if not hits:
        return []
    assignments = (
        Assignment.objects.select_related("appeal", "appeal__enterprise", "department")
        .only(
            "pk",
            "is_lead",
            "answered_at",
            "department__name",
            *(f"appeal__{name}" for name in _LISTED_APPEAL),
        )
        .in_bulk([hit.object_id for hit in hits])
    )
    shown = EnterpriseVisibility(user)
    labels = _status_labels()
    found = []
    for hit in hits:
        assignment = assignments.get(hit.object_id)
        if assignment is None:
            continue
        appeal = assignment.appeal
        role = _("主办答复") if assignment.is_lead else _("协办意见")
        found.append(
            Found(
                kind=ANSWER,
                url=reverse("appeals:detail", args=[appeal.pk]) + "#assignments",
                title_html=hit.title_html,
                snippet_html=hit.snippet_html(),
                score=hit.score,
                object_id=assignment.pk,
                coverage=_coverage(hit),
                status=appeal.status,
                status_label=labels.get(appeal.status, appeal.status),
                date=assignment.answered_at,
                enterprise_name=appeal.enterprise.name if shown.sees(appeal) else "",
                note=f"{assignment.department.name} · {role}",
            )
        )
    return found


def _knowledge_url(user: User, entry_id: int, query: str) -> str:
    """The entry's page for the staff; the enterprise users read entries on the portal's search."""
    if user.roles - {Role.ENTERPRISE_USER}:
        return reverse("knowledge:entry", args=[entry_id])
    return f"{reverse('knowledge:portal')}?{urlencode({'q': query})}#entry-{entry_id}"


def _find_knowledge(user: User, query: str, limit: int) -> list[Found]:
    return [
        Found(
            kind=KNOWLEDGE,
            url=_knowledge_url(user, item.entry.pk, query),
            title_html=item.hit.title_html,
            snippet_html=item.hit.snippet_html(),
            score=item.hit.score,
            object_id=item.entry.pk,
            coverage=_coverage(item.hit),
            status=item.entry.status,
            status_label=item.entry.get_status_display(),
            date=item.entry.updated_at,
            note=item.entry.department.name,
        )
        for item in finding.find(user, query, limit=limit)
    ]


_FINDERS = {APPEAL: _find_appeals, ANSWER: _find_answers, KNOWLEDGE: _find_knowledge}
