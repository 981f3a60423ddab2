"""Routing suggestions of a zone: from its active model, or from the keyword rules while it has too
little history; training runs with promotion on a held-out slice; the adoption rate.

History. A zone learns from its own appeals whose lead assignment was answered, labelled with the
category and the department that finally answered (after returns: a returned assignment has no answer,
and a reopen keeps the department). Merged children have no assignment of their own and are not in it.
The newest HISTORY_CAP appeals are read: a year or two of a busy zone, and what one training run can
fit in memory and minutes; older history describes departments and rules that have since changed.

Promotion. The most recent fifth of the history is held out; a candidate is fitted on the older rest
and scored on it, and so is the model then active. The candidate is promoted only if it scores no
worse; it is then refitted on the whole history. Switching models is one short transaction: the
partial unique constraint one_active_routing_model decides between two runs promoting at once.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, AppealCategory, Assignment
from guanjia.core import audit
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.dispatch import learning, rules
from guanjia.dispatch.access import WAITING, acts_on_desk, keeps_routing
from guanjia.dispatch.models import KeywordRule, RoutingModel, Source, Suggestion

logger = logging.getLogger(__name__)

HISTORY_CAP = 50_000  # newest answered appeals a zone learns from (see the module's docstring)
MIN_HISTORY = 100  # below this, or with a single label, the keyword rules answer
MIN_LABELS = 2
HELD_OUT_SHARE = 0.2  # the most recent fifth of the history ...
HELD_OUT_MIN = 20  # ... and never fewer than this
SEED = 0
TOP = 3
# Labels asked of the model: more than TOP, so that labels whose department has left the zone can be
# skipped and three routes still remain.
ASKED = 8
WORDS = 5
CACHE_SIZE = 8  # fitted pipelines kept per process: a worker serves a handful of zones


@dataclass(frozen=True)
class Route:
    """One suggestion: dispatch to `department` as lead, under `category`."""

    rank: int  # 1, 2, 3
    category: AppealCategory | None
    department: OrgUnit
    confidence: float  # 0..1
    words: tuple[str, ...]


@dataclass(frozen=True)
class Suggestions:
    source: str  # Source.MODEL or Source.RULES
    model: RoutingModel | None
    routes: list[Route]


@dataclass(frozen=True)
class Adoption:
    """How often the zone's dispatchers took the suggestions over a period."""

    dispatched: int  # dispatch rounds that had suggestions
    first: int  # ... where the first suggestion's department was chosen
    top3: int  # ... where one of the three was chosen
    one_click: int  # ... dispatched with the one-click button

    @property
    def first_rate(self) -> float | None:
        return self.first / self.dispatched if self.dispatched else None

    @property
    def top3_rate(self) -> float | None:
        return self.top3 / self.dispatched if self.dispatched else None


@dataclass(frozen=True)
class History:
    """A zone's labelled history, newest first."""

    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)


# --- Model cache --------------------------------------------------------------------------------

_cache: OrderedDict[int, Any] = OrderedDict()
_cache_lock = threading.Lock()


def _pipeline(model_id: int) -> Any:
    """The fitted pipeline of a RoutingModel, unpickled once per process (a small LRU by id).

    Raises learning.ModelOutdated when the blob cannot be used by this scikit-learn."""
    with _cache_lock:
        if model_id in _cache:
            _cache.move_to_end(model_id)
            return _cache[model_id]
    blob = RoutingModel.objects.filter(pk=model_id).values_list("blob", flat=True).first()
    if not blob:
        raise learning.ModelOutdated(_("分派模型没有可用的内容，需要重新训练。"))
    pipeline = learning.load(bytes(blob))
    with _cache_lock:
        _cache[model_id] = pipeline
        _cache.move_to_end(model_id)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return pipeline


def forget_cached_models() -> None:
    """Empty this process's model cache (tests; a model's blob never changes once written)."""
    with _cache_lock:
        _cache.clear()


# --- Suggestions --------------------------------------------------------------------------------


def text_of(title: str, body: str) -> str:
    return f"{title}。{body}"


def label_of(category_id: int | None, department_id: int) -> str:
    return f"{category_id or '-'}:{department_id}"


def department_label(label: str) -> str:
    """What the model learns of a history label: the department (the category is chosen afterwards)."""
    return label.partition(":")[2] or label


def _category_map(labels: list[str]) -> dict[str, list[int]]:
    """Each department's categories in the history, most frequent first."""
    counts: dict[str, Counter[int]] = {}
    for label in labels:
        pair = _parse(label)
        if pair is not None and pair[0] is not None:
            counts.setdefault(str(pair[1]), Counter())[pair[0]] += 1
    return {
        department: [category for category, _n in found.most_common()] for department, found in counts.items()
    }


def _categories_for(picks: list[tuple[int | None, list[int]]], title: str, body: str) -> list[int | None]:
    """The category each route dispatches under. A pick is (the label's own category, or None; the
    department's categories in the history, most frequent first): without its own, the one whose
    keyword rule the text matches best, else the department's most frequent one. One query."""
    undecided = {
        category
        for own, candidates in picks
        if own is None and len(candidates) > 1
        for category in candidates
    }
    scores = {
        rule.category_id: rules.matched(rule.word_list(), title, body)[0]
        for rule in (KeywordRule.objects.filter(category_id__in=undecided) if undecided else ())
    }
    chosen: list[int | None] = []
    for own, candidates in picks:
        if own is not None or not candidates:
            chosen.append(own)
        else:
            # max() keeps the first of equal scores: the most frequent category wins a tie.
            chosen.append(max(candidates, key=lambda category_id: scores.get(category_id, 0)))
    return chosen


def _parse(label: str) -> tuple[int | None, int] | None:
    """(category id, department id) of a label: "category:department", or a department alone."""
    if ":" not in label:
        try:
            return None, int(label)
        except ValueError:
            return None
    category, _sep, department = label.partition(":")
    try:
        return (None if category == "-" else int(category)), int(department)
    except ValueError:
        return None


def suggest_text(zone: OrgUnit, title: str, body: str) -> Suggestions:
    """The suggestions for a text that is not (yet) an appeal; nothing is recorded."""
    active = RoutingModel.objects.filter(zone=zone, is_active=True).defer("blob").first()
    if active is not None:
        try:
            pipeline = _pipeline(active.pk)
        except learning.ModelOutdated:
            logger.warning(
                "routing model %s of zone %s cannot be loaded; using the rules", active.pk, zone.pk
            )
        else:
            ranked = learning.rank(pipeline, text_of(title, body), top=ASKED, words=WORDS)
            routes = _model_routes(zone, ranked, active.categories, title, body)
            if routes:
                return Suggestions(source=Source.MODEL, model=active, routes=routes)
    return Suggestions(source=Source.RULES, model=None, routes=_rule_routes(zone, title, body))


def _model_routes(
    zone: OrgUnit,
    ranked: Iterable[learning.Ranked],
    category_map: dict[str, list[int]],
    title: str,
    body: str,
) -> list[Route]:
    """Labels to routes, one per department (its most likely label: probability and words), in the
    model's order, with the category of _categories_for. Departments no longer of the zone are skipped.

    A department's labels are not summed: with balanced class weights a department answering many
    categories would gather small shares into a first place none of its labels earned."""
    parsed = [(item, pair) for item in ranked if (pair := _parse(item.label)) is not None]
    departments = OrgUnit.objects.in_bulk({department_id for _item, (_c, department_id) in parsed})
    best: dict[int, tuple[learning.Ranked, int | None]] = {}  # in the model's order
    for item, (category_id, department_id) in parsed:
        department = departments.get(department_id)
        if (
            department is None
            or department.kind != OrgUnit.Kind.DEPARTMENT
            or department.parent_id != zone.pk
        ):
            continue
        best.setdefault(department_id, (item, category_id))
    top = list(best.items())[:TOP]
    chosen = _categories_for(
        [
            (category_id, category_map.get(str(department_id), []))
            for department_id, (_item, category_id) in top
        ],
        title,
        body,
    )
    categories = AppealCategory.objects.in_bulk(
        {category_id for category_id in chosen if category_id is not None}
    )
    routes: list[Route] = []
    for (department_id, (item, _own)), category_id in zip(top, chosen, strict=True):
        category = categories.get(category_id) if category_id is not None else None
        if category is not None and not category.is_active:
            category = None
        routes.append(
            Route(
                rank=len(routes) + 1,
                category=category,
                department=departments[department_id],
                confidence=round(item.confidence, 4),  # as recorded in Suggestion.ranked
                words=tuple(item.words),
            )
        )
    return routes


def _rule_routes(zone: OrgUnit, title: str, body: str) -> list[Route]:
    return [
        Route(
            rank=i,
            category=hit.category,
            department=hit.department,
            confidence=round(hit.confidence, 4),
            words=hit.words,
        )
        for i, hit in enumerate(rules.routes(zone, title, body, top=TOP), start=1)
    ]


def _ranked_json(routes: list[Route]) -> list[dict[str, Any]]:
    return [
        {
            "category": route.category.pk if route.category else None,
            "department": route.department.pk,
            "confidence": route.confidence,
            "words": list(route.words),
        }
        for route in routes
    ]


def _routes_of(row: Suggestion, zone: OrgUnit) -> list[Route]:
    """The routes a round's row recorded, as they were first shown."""
    entries = [entry for entry in row.ranked if isinstance(entry, dict)]
    departments = OrgUnit.objects.in_bulk({entry.get("department") for entry in entries} - {None})
    categories = AppealCategory.objects.in_bulk({entry.get("category") for entry in entries} - {None})
    routes: list[Route] = []
    for position, entry in enumerate(entries, start=1):
        department = departments.get(entry.get("department"))
        if department is None or department.parent_id != zone.pk:
            continue
        routes.append(
            Route(
                rank=position,
                category=categories.get(entry.get("category")),
                department=department,
                confidence=float(entry.get("confidence") or 0.0),
                words=tuple(entry.get("words") or ()),
            )
        )
    return routes


def _open_row(appeal: Appeal) -> Suggestion | None:
    return (
        Suggestion.objects.filter(appeal=appeal, dispatched_at__isnull=True)
        .select_related("model")
        .defer("model__blob")
        .order_by("-id")
        .first()
    )


def _round(appeal: Appeal) -> tuple[Suggestion | None, Suggestions]:
    """The current dispatch round's row and suggestions: what was first shown, or fresh ones recorded."""
    row = _open_row(appeal)
    if row is not None:
        return row, Suggestions(source=row.source, model=row.model, routes=_routes_of(row, appeal.zone))
    fresh = suggest_text(appeal.zone, appeal.title, appeal.body)
    if appeal.status not in WAITING or not fresh.routes:
        # Nothing to dispatch, or nothing shown: no round to count.
        return None, fresh
    try:
        # A savepoint: two desks opening the appeal at once both try to open the round, and the partial
        # unique constraint one_open_suggestion lets one row in; the other reads it.
        with transaction.atomic():
            row = Suggestion.objects.create(
                appeal=appeal,
                zone=appeal.zone,
                model=fresh.model,
                source=fresh.source,
                created_at=timezone.now(),
                ranked=_ranked_json(fresh.routes),
            )
    except IntegrityError:
        row = _open_row(appeal)
        if row is None:
            raise
        return row, Suggestions(source=row.source, model=row.model, routes=_routes_of(row, appeal.zone))
    return row, fresh


def suggest(appeal: Appeal) -> Suggestions:
    """The suggestions for an appeal waiting for dispatch (submitted or returned); recorded once per
    dispatch round in a Suggestion row, so its adoption can be counted."""
    return _round(appeal)[1]


def take(appeal: Appeal, rank: int, *, by: User) -> Route:
    """一键交办: dispatch `appeal` as its suggestion `rank` says (lifecycle.dispatch_appeal checks the
    dispatcher's right and the state)."""
    if not acts_on_desk(by, appeal):
        raise NotAllowed(_("只有本园区的受理员可以受理和交办诉求"))
    with transaction.atomic():
        row, suggestions = _round(appeal)
        chosen = next((route for route in suggestions.routes if route.rank == rank), None)
        if chosen is None:
            raise ServiceError(_("没有第 %(rank)d 项建议") % {"rank": rank})
        lifecycle.dispatch_appeal(
            appeal,
            to=chosen.department,
            category=chosen.category,
            by=by,
            note=_("按智能分派建议第 %(rank)d 项交办") % {"rank": rank},
        )
        if row is not None:
            Suggestion.objects.filter(pk=row.pk).update(one_click=True)
    return chosen


def record_dispatch(appeal: Appeal, department_id: int, at: datetime) -> Suggestion | None:
    """Called on every dispatch (receivers.py): marks the round's Suggestion with the rank taken."""
    row = _open_row(appeal)
    if row is None:
        return None  # no suggestion was shown for this round: nothing to count
    departments = [entry.get("department") for entry in row.ranked if isinstance(entry, dict)][:TOP]
    taken = departments.index(department_id) + 1 if department_id in departments else 0
    # Conditional on the round still being open: a round is counted once.
    if not Suggestion.objects.filter(pk=row.pk, dispatched_at__isnull=True).update(
        dispatched_at=at, dispatched_department_id=department_id, taken_rank=taken
    ):
        return None
    row.dispatched_at, row.dispatched_department_id, row.taken_rank = at, department_id, taken
    return row


def adoption(zone_ids: list[int], since: datetime, until: datetime | None = None) -> Adoption:
    """The adoption of the suggestions by the dispatchers of these zones, rounds dispatched in [since, until)."""
    rows = Suggestion.objects.filter(zone_id__in=zone_ids, dispatched_at__gte=since)
    if until is not None:
        rows = rows.filter(dispatched_at__lt=until)
    counts = rows.aggregate(
        dispatched=Count("id"),
        first=Count("id", filter=Q(taken_rank=1)),
        top3=Count("id", filter=Q(taken_rank__gte=1, taken_rank__lte=TOP)),
        one_click=Count("id", filter=Q(one_click=True)),
    )
    return Adoption(**counts)


# --- Training -----------------------------------------------------------------------------------


def history(zone: OrgUnit, *, cap: int = HISTORY_CAP) -> History:
    """The zone's labelled appeals, newest answer first, at most `cap` of them (see the docstring)."""
    answered = (
        Assignment.objects.filter(appeal__zone_id=zone.pk, is_lead=True, answered_at__isnull=False)
        .order_by("-answered_at", "-id")
        .values_list("appeal_id", "department_id", "appeal__category_id", "appeal__title", "appeal__body")
    )
    seen: set[int] = set()
    texts: list[str] = []
    labels: list[str] = []
    # A reopened appeal has several answered lead rows: the newest is the final department.
    for appeal_id, department_id, category_id, title, body in answered.iterator(chunk_size=2000):
        if appeal_id in seen:
            continue
        seen.add(appeal_id)
        texts.append(text_of(title, body))
        labels.append(label_of(category_id, department_id))
        if len(texts) >= cap:
            break
    return History(texts=texts, labels=labels)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def retrain(zone: OrgUnit, *, by: User | None = None, now: datetime | None = None) -> RoutingModel:
    """Train on the zone's history; promote only if it scores no worse on the held-out slice."""
    if by is not None and not keeps_routing(by, zone.pk):
        raise NotAllowed(_("只有本园区的受理员或系统管理员可以重新训练分派模型"))
    now = now or timezone.now()
    data = history(zone)
    # The model learns the department that answered; the category follows from the department's own
    # history (_category_for): (category, department) pairs would split a department's few examples.
    departments = [department_label(label) for label in data.labels]
    classes = len(set(departments))
    row = RoutingModel(
        zone=zone,
        created_at=now,
        trained_by=by,
        algorithm=learning.ALGORITHM,
        samples=len(data),
        classes=classes,
        blob=b"",
    )
    if len(data) < MIN_HISTORY or classes < MIN_LABELS:
        if len(data) < MIN_HISTORY:
            row.note = _("历史数据不足（%(count)d 条，至少 %(min)d 条），继续使用关键词规则") % {
                "count": len(data),
                "min": MIN_HISTORY,
            }
        else:
            row.note = _("历史数据只有 1 个分派去向，无法训练，继续使用关键词规则")
        return _record(row, by)

    held = max(HELD_OUT_MIN, math.ceil(len(data) * HELD_OUT_SHARE))
    test_texts, test_labels = data.texts[:held], departments[:held]
    train_texts, train_labels = data.texts[held:], departments[held:]
    row.held_out = held
    if len(set(train_labels)) < MIN_LABELS:
        row.note = _("留出集之外的历史只有 1 个分派去向，无法训练，继续使用当前设置")
        return _record(row, by)
    candidate = learning.fit(train_texts, train_labels, seed=SEED)
    row.held_out_accuracy, row.held_out_macro_f1 = learning.score(candidate, test_texts, test_labels)

    active = RoutingModel.objects.filter(zone=zone, is_active=True).defer("blob").first()
    if active is not None:
        try:
            row.previous_accuracy = learning.score(_pipeline(active.pk), test_texts, test_labels)[0]
        except learning.ModelOutdated:
            logger.warning("routing model %s of zone %s cannot be loaded; it is replaced", active.pk, zone.pk)
    if row.previous_accuracy is not None and row.held_out_accuracy < row.previous_accuracy:
        row.note = _("留出集准确率 %(new)s 低于当前模型的 %(old)s，未启用") % {
            "new": _percent(row.held_out_accuracy),
            "old": _percent(row.previous_accuracy),
        }
        return _record(row, by)

    if row.previous_accuracy is None:
        row.note = _("留出集准确率 %(new)s，已启用") % {"new": _percent(row.held_out_accuracy)}
    else:
        row.note = _("留出集准确率 %(new)s 不低于当前模型的 %(old)s，已启用") % {
            "new": _percent(row.held_out_accuracy),
            "old": _percent(row.previous_accuracy),
        }
    # The model that answers is refitted on the whole history, the held-out slice (the newest) included.
    blob = learning.dump(learning.fit(data.texts, departments, seed=SEED))
    row.categories = _category_map(data.labels)
    try:
        with transaction.atomic():
            if active is not None:
                # Only the model this run was compared with is retired. If another run promoted its own
                # model meanwhile, that one stays active and the insert below breaks the constraint.
                RoutingModel.objects.filter(pk=active.pk, is_active=True).update(is_active=False)
            row.blob = blob
            row.is_active = True
            row.save(force_insert=True)
            _audit(row, by)
    except IntegrityError:
        row.pk = None
        row.blob = b""
        row.is_active = False
        row.note = _("留出集准确率 %(new)s；同一时间另一次训练已启用新模型，本次未启用") % {
            "new": _percent(row.held_out_accuracy)
        }
        return _record(row, by)
    return row


def _record(row: RoutingModel, by: User | None) -> RoutingModel:
    """A run that was not promoted: kept with its reason, no pipeline."""
    with transaction.atomic():
        row.blob = b""
        row.is_active = False
        row.save(force_insert=True)
        _audit(row, by)
    return row


def _audit(row: RoutingModel, by: User | None) -> None:
    audit.record(
        by,
        "routing.retrain",
        row,
        summary=_("训练分派模型：%(zone)s，%(samples)d 条样本。%(note)s")
        % {"zone": row.zone, "samples": row.samples, "note": row.note},
        detail={
            "zone": row.zone_id,
            "samples": row.samples,
            "classes": row.classes,
            "held_out": row.held_out,
            "accuracy": row.held_out_accuracy,
            "macro_f1": row.held_out_macro_f1,
            "previous_accuracy": row.previous_accuracy,
            "promoted": row.is_active,
        },
    )
