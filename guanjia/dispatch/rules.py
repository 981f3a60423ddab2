"""Keyword rules (关键词规则): the suggestions of a zone that has too little history for a model.

Each category's KeywordRule holds the words that point an appeal to it. A category scores one point for
each distinct keyword found in the appeal's text, two when the keyword is in the title (a title says
what the appeal is about; its body also tells the story around it). The three best categories with a hit
and a lead department in the zone's routing table are suggested, each with its share of the score.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.dispatch.access import keeps_routing
from guanjia.dispatch.models import KeywordRule

MAX_WORDS = 200
TOP = 3


@dataclass(frozen=True)
class RuleRoute:
    """One category the rules point to, with the zone's lead department for it."""

    category: AppealCategory
    department: OrgUnit
    confidence: float
    words: tuple[str, ...]


def matched(words: list[str], title: str, body: str) -> tuple[int, tuple[str, ...]]:
    """(score, the keywords found) of one rule's words in a text: title hits count twice."""
    score = 0
    found: list[str] = []
    for word in dict.fromkeys(words):  # distinct, in the rule's order
        if word in title:
            score += 2
        elif word in body:
            score += 1
        else:
            continue
        found.append(word)
    return score, tuple(found)


def routes(zone: OrgUnit, title: str, body: str, *, top: int = TOP) -> list[RuleRoute]:
    """The `top` categories the keywords point to, each with the zone's default lead department."""
    hits: list[tuple[int, AppealCategory, tuple[str, ...]]] = []
    for rule in KeywordRule.objects.filter(category__is_active=True).select_related(
        "category", "category__parent"
    ):
        score, found = matched(rule.word_list(), title, body)
        if score:
            hits.append((score, rule.category, found))
    if not hits:
        return []
    departments = _lead_departments(zone)
    candidates = []
    for score, category, found in hits:
        department = _department_for(category, departments)
        if department is not None:
            candidates.append((score, category, department, found))
    # Best score first; ties by the category tree's own order.
    candidates.sort(key=lambda hit: (-hit[0], hit[1].position, hit[1].code))
    total = sum(hit[0] for hit in candidates)
    return [
        RuleRoute(category=category, department=department, confidence=score / total, words=found)
        for score, category, department, found in candidates[:top]
    ]


def _lead_departments(zone: OrgUnit) -> dict[int, OrgUnit]:
    """The zone's routing table, category id → lead department, in one query."""
    return {
        route.category_id: route.lead_department
        for route in CategoryRoute.objects.filter(zone=zone).select_related("lead_department")
    }


def _department_for(category: AppealCategory, departments: dict[int, OrgUnit]) -> OrgUnit | None:
    """As guanjia.appeals.services.default_department: the category's route, else its nearest ancestor's."""
    node: AppealCategory | None = category
    while node is not None:
        if node.pk in departments:
            return departments[node.pk]
        node = node.parent
    return None


def save_rule(rule: KeywordRule, *, words: str, version: int, by: User) -> KeywordRule:
    """Replace a category's keywords; refused unless `version` is still the rule's version."""
    if not keeps_routing(by):
        raise NotAllowed(_("只有受理员或系统管理员可以修改分派关键词规则"))
    cleaned = KeywordRule(words=words).word_list()
    distinct = list(dict.fromkeys(cleaned))
    if not distinct:
        raise ServiceError(_("关键词：请至少填写一个关键词"))
    if len(distinct) > MAX_WORDS:
        raise ServiceError(
            _("关键词：最多 %(max)d 个（现有 %(count)d 个）") % {"max": MAX_WORDS, "count": len(distinct)}
        )
    text = " ".join(distinct)
    with transaction.atomic():
        # The conditional update on the version is the guard: two keepers editing from the same
        # version, one wins and the other is told (it works on SQLite as on PostgreSQL).
        changed = KeywordRule.objects.filter(pk=rule.pk, version=version).update(
            words=text, version=version + 1, updated_by=by, updated_at=timezone.now()
        )
        if changed != 1:
            raise Conflict(_("关键词规则已被他人修改，请刷新后重试"))
        rule.refresh_from_db()
        audit.record(
            by,
            "routing.rule",
            rule,
            summary=_("修改分派关键词规则：%(category)s（%(count)d 个关键词）")
            % {"category": rule.category, "count": len(distinct)},
            detail={"category": rule.category_id, "words": distinct, "version": rule.version},
        )
    return rule
