"""Which enterprises qualify for a benefit item, and which benefit items an enterprise qualifies for
(政策直达): each direction is one query, and both read the same rules (BenefitItem's docstring).

- An item applies only while its policy is in force on the day (effective_on ≤ day ≤ expires_on).
- Hard filter, not a condition: the enterprise's zone is in the policy's coverage
  (access.coverage_zones) and, where the item names zones, among them.
- Conditions, each counted once for a near miss (CONDITIONS): industry division, scale, tier, tags
  (any of them), full years since founding (min_years ≤ years < max_years) and registered capital
  (capital_min ≤ capital ≤ capital_max, limits included). An empty condition does not restrict; an
  enterprise without a founding date or a capital misses a condition that asks for it.
- Full years (周年): an enterprise founded on 2021-11-28 has 5 full years on 2026-11-28; one founded on
  a 29 February reaches its anniversary on 28 February in common years.

Benefit → enterprises annotates each set condition as a "miss" (0 or 1) and sums them: 0 qualifies,
exactly 1 is a near miss, and the annotation names which. Enterprise → benefits reads the enterprise's
values as constants against the items' columns (the multi-valued conditions are delimited strings,
",large,medium,", so a code is matched with LIKE '%,code,%'). Both work alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MINYEAR, date
from decimal import Decimal
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.industries import DIVISIONS
from guanjia.enterprises.models import Enterprise, Scale, Tier
from guanjia.policies.access import coverage_zones, today
from guanjia.policies.models import BenefitItem, Delivery, Policy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

# The conditions a near miss names, in the order the pages list them.
CONDITIONS: dict[str, StrOrPromise] = {
    "division": gettext_lazy("行业大类"),
    "scale": gettext_lazy("企业规模"),
    "tier": gettext_lazy("企业分级"),
    "tags": gettext_lazy("企业标签"),
    "years": gettext_lazy("成立年限"),
    "capital": gettext_lazy("注册资本"),
}

EnterpriseTag = Enterprise.tags.through
ItemTag = BenefitItem.tags.through
ItemZone = BenefitItem.zones.through


# --- full years since founding -------------------------------------------------------------------------


def anniversary(founded: date, years: int) -> date:
    """The day an enterprise founded on `founded` has `years` full years (29 Feb → 28 Feb in common years)."""
    year = founded.year + years
    if founded.month == 2 and founded.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return founded.replace(year=year)


def full_years(founded: date, on: date) -> int:
    """Full years (周年) since `founded` on the day `on` (negative before the founding day)."""
    years = on.year - founded.year
    return years - 1 if anniversary(founded, years) > on else years


def founded_by(on: date, years: int) -> date | None:
    """The latest founding date with at least `years` full years on `on` (None: none can have them).

    full_years(f, on) ≥ years exactly when f ≤ founded_by(on, years): on 28 February of a common year,
    a founder of 29 February `years` earlier has just reached its anniversary.
    """
    year = on.year - years
    if year < MINYEAR:
        return None
    if on.month == 2 and on.day == 28 and not calendar.isleap(on.year) and calendar.isleap(year):
        return date(year, 2, 29)
    if on.month == 2 and on.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return on.replace(year=year)


# --- an item's requirements, as conditions on Enterprise rows -------------------------------------------


def _related_ids(item: BenefitItem, name: str) -> list[int]:
    """The ids of an item's tags or zones: the prefetched ones when the caller prefetched them."""
    return [obj.pk for obj in getattr(item, name).all()]


def in_force(policy: Policy, on: date) -> bool:
    return policy.effective_on <= on and (policy.expires_on is None or on <= policy.expires_on)


def _scope(item: BenefitItem) -> Q:
    """The hard filter: the policy's coverage, narrowed to the item's zones where it names some."""
    scope = Q(zone__in=coverage_zones(item.policy))
    zone_ids = _related_ids(item, "zones")
    if zone_ids:
        scope &= Q(zone_id__in=zone_ids)
    return scope


def _years_requirement(item: BenefitItem, on: date) -> Q:
    requirement = Q(founded_on__isnull=False)
    if item.min_years is not None:
        cutoff = founded_by(on, item.min_years)
        # Nobody founded before year 1 has that many years: an empty IN is false on every database.
        requirement &= Q(founded_on__lte=cutoff) if cutoff is not None else Q(pk__in=[])
    if item.max_years is not None:
        cutoff = founded_by(on, item.max_years)
        if cutoff is not None:
            requirement &= Q(founded_on__gt=cutoff)
    return requirement


def _capital_requirement(item: BenefitItem) -> Q:
    requirement = Q(registered_capital__isnull=False)
    if item.capital_min is not None:
        requirement &= Q(registered_capital__gte=item.capital_min)
    if item.capital_max is not None:
        requirement &= Q(registered_capital__lte=item.capital_max)
    return requirement


def requirements(item: BenefitItem, on: date) -> dict[str, Q | Exists]:
    """Each condition the item sets (code → what an Enterprise row must satisfy); unset ones are absent."""
    found: dict[str, Q | Exists] = {}
    if item.division_list:
        found["division"] = Q(industry_division__in=item.division_list)
    if item.scale_list:
        found["scale"] = Q(scale__in=item.scale_list)
    if item.tier_list:
        found["tier"] = Q(tier__in=item.tier_list)
    tag_ids = _related_ids(item, "tags")
    if tag_ids:
        found["tags"] = Exists(EnterpriseTag.objects.filter(enterprise_id=OuterRef("pk"), tag_id__in=tag_ids))
    if item.min_years is not None or item.max_years is not None:
        found["years"] = _years_requirement(item, on)
    if item.capital_min is not None or item.capital_max is not None:
        found["capital"] = _capital_requirement(item)
    return found


def _miss(requirement: Q | Exists) -> Case:
    # When(...) is false for NULL as well as for a mismatch: a NULL capital or date counts as a miss.
    return Case(When(requirement, then=Value(0)), default=Value(1), output_field=IntegerField())


# --- benefit → enterprises ------------------------------------------------------------------------------


# Typed Any: django-stubs would refuse the filters on its annotations (misses) as unknown fields.
def scored(item: BenefitItem, *, on: date | None = None, among: QuerySet[Enterprise] | None = None) -> Any:
    """The enterprises the item's scope reaches (`among` them), each annotated with `miss_<code>` (0 or
    1) for every condition the item sets and `misses`, their sum; none while the policy is not in force."""
    on = on or today()
    base = among if among is not None else Enterprise.objects.all()
    found = requirements(item, on)
    annotations: dict[str, Any] = {f"miss_{code}": _miss(requirement) for code, requirement in found.items()}
    misses = reduce(operator.add, (F(name) for name in annotations), Value(0))
    enterprises = base.filter(_scope(item)).annotate(**annotations).annotate(misses=misses)
    return enterprises if in_force(item.policy, on) else enterprises.none()


def qualifying(
    item: BenefitItem, *, on: date | None = None, among: QuerySet[Enterprise] | None = None
) -> QuerySet[Enterprise]:
    """The enterprises that qualify for the item on the day (today by default), `among` those given."""
    return scored(item, on=on, among=among).filter(misses=0)


def near_miss_queryset(
    item: BenefitItem, *, on: date | None = None, among: QuerySet[Enterprise] | None = None
) -> QuerySet[Enterprise]:
    """The enterprises that miss exactly one condition (annotated as in scored(): see near_miss())."""
    return scored(item, on=on, among=among).filter(misses=1)


def counts(
    item: BenefitItem, *, on: date | None = None, among: QuerySet[Enterprise] | None = None
) -> tuple[int, int]:
    """(qualifying, near misses): both counted in one pass over the enterprises."""
    rows = scored(item, on=on, among=among).filter(misses__lte=1).order_by().values_list("misses")
    found = dict(rows.annotate(n=Count("pk")))
    return found.get(0, 0), found.get(1, 0)


@dataclass(frozen=True)
class NearMiss:
    """An enterprise that misses one condition of an item: which one, and what the enterprise has."""

    enterprise: Enterprise
    missed: str  # a CONDITIONS code
    label: str
    has: str  # the enterprise's own value, in words


def near_miss(enterprise: Enterprise, *, on: date | None = None) -> NearMiss:
    """A row of near_miss_queryset() as a NearMiss."""
    on = on or today()
    missed = next(code for code in CONDITIONS if getattr(enterprise, f"miss_{code}", 0))
    return NearMiss(enterprise, missed, str(CONDITIONS[missed]), enterprise_value(enterprise, missed, on))


def near_misses(
    item: BenefitItem, *, on: date | None = None, among: QuerySet[Enterprise] | None = None
) -> list[NearMiss]:
    """The enterprises that miss exactly one of the item's conditions, each with the condition missed."""
    on = on or today()
    return [near_miss(e, on=on) for e in near_miss_queryset(item, on=on, among=among).order_by("name", "pk")]


def qualifies(item: BenefitItem, enterprise: Enterprise, *, on: date | None = None) -> bool:
    return qualifying(item, on=on, among=Enterprise.objects.filter(pk=enterprise.pk)).exists()


# --- enterprise → benefits ------------------------------------------------------------------------------


def _has_code(column: str, code: str) -> Q:
    """The delimited column (",a,b,") is empty (any) or holds `code`."""
    if not code:
        return Q(**{column: ""})
    return Q(**{column: ""}) | Q(**{f"{column}__contains": f",{code},"})


def benefits_for(enterprise: Enterprise, *, on: date | None = None) -> QuerySet[BenefitItem]:
    """The benefit items of policies in force on the day (today by default) that the enterprise qualifies for."""
    on = on or today()
    zone_ids = [enterprise.zone_id]
    if enterprise.zone.parent_id is not None:
        zone_ids.append(enterprise.zone.parent_id)
    items = BenefitItem.objects.filter(
        Q(policy__effective_on__lte=on),
        Q(policy__expires_on__isnull=True) | Q(policy__expires_on__gte=on),
        # The department's parent is the zone itself, or the city over it (covering all its zones).
        policy__department__parent_id__in=zone_ids,
    )
    zones = ItemZone.objects.filter(benefititem_id=OuterRef("pk"))
    tags = ItemTag.objects.filter(benefititem_id=OuterRef("pk"))
    own_tags = EnterpriseTag.objects.filter(enterprise_id=enterprise.pk).values("tag_id")
    years = full_years(enterprise.founded_on, on) if enterprise.founded_on is not None else None
    capital = enterprise.registered_capital
    items = items.filter(
        ~Exists(zones) | Exists(zones.filter(orgunit_id=enterprise.zone_id)),
        ~Exists(tags) | Exists(tags.filter(tag_id__in=own_tags)),
        _has_code("divisions", enterprise.industry_division),
        _has_code("scales", enterprise.scale),
        _has_code("tiers", enterprise.tier),
    )
    if years is None:
        items = items.filter(min_years__isnull=True, max_years__isnull=True)
    else:
        items = items.filter(
            Q(min_years__isnull=True) | Q(min_years__lte=years),
            Q(max_years__isnull=True) | Q(max_years__gt=years),
        )
    if capital is None:
        items = items.filter(capital_min__isnull=True, capital_max__isnull=True)
    else:
        items = items.filter(
            Q(capital_min__isnull=True) | Q(capital_min__lte=capital),
            Q(capital_max__isnull=True) | Q(capital_max__gte=capital),
        )
    return items.select_related("policy").order_by("-policy__effective_on", "policy_id", "pk")


# --- a steward's worklist: its enterprises × their qualifying benefits not yet pushed ---------------------


@dataclass
class Worklist:
    """A steward's enterprises that qualify for a benefit not yet pushed to them, and the candidate items.

    `enterprises` come from one query in which each row carries `pending_<item pk>` for every
    candidate item (the database decides); those with none pending are left out.
    """

    items: list[BenefitItem]
    enterprises: list[Enterprise]

    def pending(self, enterprise: Enterprise) -> list[BenefitItem]:
        return [item for item in self.items if getattr(enterprise, f"pending_{item.pk}", False)]


def _covered(item: BenefitItem, zones: Mapping[int, int | None]) -> list[int]:
    """Which of `zones` (zone → its city) the item reaches: access.coverage_zones (the department's zone,
    or every zone of its city) and the item's own zones, as constants (the worklist compiles one
    condition per item: a subquery each would cost more to build than to run)."""
    parent = item.policy.department.parent_id
    covered = [zone for zone, city in zones.items() if parent in (zone, city)]
    named = _related_ids(item, "zones")
    return [zone for zone in covered if zone in named] if named else covered


def _pending(item: BenefitItem, on: date, zone_ids: list[int], delivered: list[int]) -> Case:
    """True for an enterprise of `zone_ids` that qualifies for `item` and is not among `delivered`."""
    condition = reduce(operator.and_, [Q(zone_id__in=zone_ids), *requirements(item, on).values()])
    if delivered:
        condition &= ~Q(pk__in=delivered)
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def steward_worklist(steward: User, *, on: date | None = None) -> Worklist:
    """The enterprises `steward` serves that qualify for benefits not yet pushed to them (政策直达 工作清单)."""
    on = on or today()
    served = Enterprise.objects.filter(steward=steward)
    zones = dict(OrgUnit.objects.filter(pk__in=served.values("zone_id")).values_list("pk", "parent_id"))
    units = set(zones) | {city for city in zones.values() if city is not None}
    items = list(
        BenefitItem.objects.filter(
            policy__in=Policy.objects.in_force(on), policy__department__parent_id__in=units
        )
        .select_related("policy__department")
        .prefetch_related("tags", "zones")
        .order_by("-policy__effective_on", "policy_id", "pk")
    )
    covered = {item.pk: _covered(item, zones) for item in items}
    items = [item for item in items if covered[item.pk]]
    if not items:
        return Worklist([], [])
    delivered: dict[int, list[int]] = {item.pk: [] for item in items}
    pairs = Delivery.objects.filter(item_id__in=list(delivered), enterprise__steward=steward)
    for item_id, enterprise_id in pairs.values_list("item_id", "enterprise_id"):
        delivered[item_id].append(enterprise_id)
    annotations = {
        f"pending_{item.pk}": _pending(item, on, covered[item.pk], delivered[item.pk]) for item in items
    }
    rows = served.annotate(**annotations).select_related("zone").order_by("name", "pk")
    # The database decided each pair; rows with nothing pending are dropped here rather than by a WHERE
    # that would repeat every item's condition.
    return Worklist(items, [row for row in rows if any(getattr(row, name) for name in annotations)])


# --- words for the pages ----------------------------------------------------------------------------------


def _division_name(code: str) -> str:
    return f"{code} {DIVISIONS[code][1]}" if code in DIVISIONS else code


def _names(codes: Iterable[str], labels: dict[str, str]) -> str:
    return "、".join(labels.get(code, code) for code in codes)


def enterprise_value(enterprise: Enterprise, code: str, on: date) -> str:
    """What the enterprise has for a condition, in words (the near-miss list shows it)."""
    if code == "division":
        return _division_name(enterprise.industry_division) if enterprise.industry_division else _("未填写")
    if code == "scale":
        return str(enterprise.get_scale_display())
    if code == "tier":
        return str(enterprise.get_tier_display())
    if code == "tags":
        return _("无所列标签")
    if code == "years":
        if enterprise.founded_on is None:
            return _("成立日期未填写")
        return _("成立 %(years)s 年（%(date)s）") % {
            "years": max(full_years(enterprise.founded_on, on), 0),
            "date": enterprise.founded_on.isoformat(),
        }
    if enterprise.registered_capital is None:
        return _("注册资本未填写")
    return _("%(amount)s 万元") % {"amount": _amount(enterprise.registered_capital)}


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def requirement_text(item: BenefitItem, code: str) -> str:
    """What the item asks for a condition, in words."""
    scale_labels = {str(v): str(label) for v, label in Scale.choices}
    tier_labels = {str(v): str(label) for v, label in Tier.choices}
    if code == "division":
        return "、".join(_division_name(c) for c in item.division_list)
    if code == "scale":
        return _names(item.scale_list, scale_labels)
    if code == "tier":
        return _names(item.tier_list, tier_labels)
    if code == "tags":
        return _("任一：%(tags)s") % {"tags": "、".join(t.name for t in item.tags.all())}
    if code == "years":
        low, high = item.min_years, item.max_years
        if low is not None and high is not None:
            return _("成立满 %(low)s 年、不满 %(high)s 年") % {"low": low, "high": high}
        if low is not None:
            return _("成立满 %(low)s 年") % {"low": low}
        return _("成立不满 %(high)s 年") % {"high": high}
    low_capital, high_capital = item.capital_min, item.capital_max
    if low_capital is not None and high_capital is not None:
        return _("%(low)s–%(high)s 万元（含）") % {"low": _amount(low_capital), "high": _amount(high_capital)}
    if low_capital is not None:
        return _("不低于 %(low)s 万元") % {"low": _amount(low_capital)}
    return _("不高于 %(high)s 万元") % {"high": _amount(high_capital or Decimal(0))}
