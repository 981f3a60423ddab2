"""Writes and reads of service campaigns (专项行动): the campaign, its target list, assignment, coverage.

Coverage (DESIGN.md "Visits"): a target is visited when a visit of its enterprise, by any steward,
has visited_on within the campaign's period [starts_on, ends_on]; coverage = visited targets /
targets. The counting runs in the database with EXISTS subqueries on visit_enterprise_idx, so it
costs one indexed probe per target however many visits there are. Problems: the appeals raised
from those visits (visits.VisitAppeal); solved = closed and the last rating says solved, as the
实际解决率 KPI reads it (appeals/kpi.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals.models import Appeal, Rating, Status
from guanjia.campaigns.models import (
    CAMPAIGN_KEEPERS,
    CAMPAIGN_OVERSEERS,
    Campaign,
    CampaignStatus,
    CampaignTarget,
)
from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.industries import DIVISIONS, SECTIONS
from guanjia.enterprises.models import Enterprise, Tag, Tier
from guanjia.visits.models import Visit, VisitAppeal

NAME_MAX = 100
# Targets per reassignment by selection (a page of checkboxes, or an API list).
MAX_SELECTED = 5000
INSERT_BATCH = 2000


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


# --- who may do what -------------------------------------------------------------------------------


def may_view(user: User) -> bool:
    """Whether the user's roles let it see any campaign (which ones: Campaign.objects.visible_to)."""
    return not user.is_admin_account and user.has_any_role(CAMPAIGN_OVERSEERS | {Role.STEWARD})


def may_create(user: User) -> bool:
    return user.has_any_role(CAMPAIGN_KEEPERS) and bool(user.zone_ids())


def zones_of_user(user: User) -> QuerySet[OrgUnit]:
    """The zones a user works in (a city's user: all its zones): a campaign's default coverage."""
    return OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by("code")


def zone_ids_of(campaign: Campaign) -> list[int]:
    cached = getattr(campaign, "_zone_ids", None)
    if cached is None:
        cached = sorted(campaign.zones.values_list("pk", flat=True))
        campaign._zone_ids = cached  # type: ignore[attr-defined]
    return cached


def can_manage(user: User, campaign: Campaign) -> bool:
    """The dispatchers and supervisors whose zones include every zone the campaign covers."""
    return user.has_any_role(CAMPAIGN_KEEPERS) and set(zone_ids_of(campaign)) <= set(user.zone_ids())


def oversees(user: User, campaign: Campaign) -> bool:
    """A dispatcher, supervisor or leader of one of the campaign's zones: sees the whole campaign."""
    return user.has_any_role(CAMPAIGN_OVERSEERS) and bool(set(zone_ids_of(campaign)) & set(user.zone_ids()))


def targets_visible_to(user: User, campaign: Campaign) -> QuerySet[CampaignTarget]:
    """The targets a user may list: the overseers those of their zones, a steward its own."""
    targets = CampaignTarget.objects.filter(campaign=campaign)
    if oversees(user, campaign):
        return targets.filter(enterprise__zone_id__in=user.zone_ids())
    if user.has_role(Role.STEWARD):
        return targets.filter(steward=user)
    return targets.none()


def check_keeper(campaign: Campaign, by: User) -> None:
    if not can_manage(by, campaign):
        raise NotAllowed(_("只有专项行动所覆盖园区的受理员或效能督查可以调整专项行动"))


def check_open(campaign: Campaign) -> None:
    if campaign.status_on(today()) == CampaignStatus.ENDED:
        raise ServiceError(_("专项行动“%(name)s”已结束，不能再调整目标企业") % {"name": campaign.name})


# --- the campaign ----------------------------------------------------------------------------------


def _clean_fields(
    *, name: str, starts_on: date, ends_on: date, zones: Sequence[OrgUnit], by: User
) -> tuple[str, list[OrgUnit]]:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("名称：请填写"))
    if len(name) > NAME_MAX:
        raise ServiceError(_("名称：不能超过 %(max)d 个字") % {"max": NAME_MAX})
    if ends_on < starts_on:
        raise ServiceError(_("结束日期：不能早于开始日期"))
    zones = list(dict.fromkeys(zones))
    if not zones:
        raise ServiceError(_("覆盖园区：请至少选择一个园区"))
    mine = set(by.zone_ids())
    for zone in zones:
        if zone.kind != OrgUnit.Kind.ZONE:
            raise ServiceError(_("覆盖园区：“%(zone)s”不是园区或县区") % {"zone": zone})
        if zone.pk not in mine:
            raise NotAllowed(_("覆盖园区：“%(zone)s”不在您的管辖范围内") % {"zone": zone})
    return name, zones


def create_campaign(
    *,
    name: str,
    starts_on: date,
    ends_on: date,
    zones: Sequence[OrgUnit],
    by: User,
    description: str = "",
) -> Campaign:
    """A dispatcher or supervisor launches a campaign over zones of its own."""
    if not may_create(by):
        raise NotAllowed(_("只有受理员或效能督查可以发起专项行动"))
    name, zones = _clean_fields(name=name, starts_on=starts_on, ends_on=ends_on, zones=zones, by=by)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            description=(description or "").strip(),
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=by,
        )
        campaign.zones.set(zones)
        audit.record(
            by,
            "campaign.create",
            campaign,
            summary=f"发起专项行动：{name}（{starts_on} 至 {ends_on}）",
            detail={"zones": [z.pk for z in zones], "starts_on": str(starts_on), "ends_on": str(ends_on)},
        )
    return campaign


def update_campaign(
    campaign: Campaign,
    *,
    by: User,
    version: int,
    name: str | None = None,
    description: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    zones: Sequence[OrgUnit] | None = None,
) -> Campaign:
    """Edit what was given; `version` is the one the editor read, so a stale edit loses (Conflict)."""
    check_keeper(campaign, by)
    new_name, new_zones = _clean_fields(
        name=campaign.name if name is None else name,
        starts_on=starts_on or campaign.starts_on,
        ends_on=ends_on or campaign.ends_on,
        zones=list(campaign.zones.all()) if zones is None else zones,
        by=by,
    )
    values: dict[str, Any] = {
        "name": new_name,
        "description": campaign.description if description is None else description.strip(),
        "starts_on": starts_on or campaign.starts_on,
        "ends_on": ends_on or campaign.ends_on,
    }
    removed = set(zone_ids_of(campaign)) - {z.pk for z in new_zones}
    with transaction.atomic():
        if removed:
            kept = CampaignTarget.objects.filter(campaign=campaign, enterprise__zone_id__in=removed)
            holding = OrgUnit.objects.filter(pk__in=kept.values("enterprise__zone_id")).order_by("code")
            if holding:
                raise ServiceError(
                    _("覆盖园区：%(zones)s 已有目标企业，不能移除（请先确认目标清单）")
                    % {"zones": "、".join(z.name for z in holding)}
                )
        moved = Campaign.objects.filter(pk=campaign.pk, version=version).update(
            **values, version=version + 1, updated_at=timezone.now()
        )
        if moved != 1:
            raise Conflict(_("专项行动“%(name)s”刚被他人修改，请刷新后重试") % {"name": campaign.name})
        campaign.zones.set(new_zones)
        audit.record(
            by,
            "campaign.update",
            campaign,
            summary=f"修改专项行动：{new_name}",
            detail={
                **{key: str(value) for key, value in values.items() if key != "description"},
                "zones": [z.pk for z in new_zones],
            },
        )
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.version = version + 1
    campaign._zone_ids = sorted(z.pk for z in new_zones)  # type: ignore[attr-defined]
    return campaign


# --- building the target list ------------------------------------------------------------------------


@dataclass
class TargetCriteria:
    """Which enterprises of the campaign's zones to target; an empty field does not filter.

    Tiers and tags each match any of the values given (重点 or 规上; 专精特新 or 高新技术企业).
    """

    zones: list[OrgUnit] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    industry_section: str = ""
    industry_division: str = ""
    tags: list[Tag] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "zones": [z.pk for z in self.zones],
            "tiers": list(self.tiers),
            "industry_section": self.industry_section,
            "industry_division": self.industry_division,
            "tags": [t.name for t in self.tags],
        }


def matching_enterprises(campaign: Campaign, criteria: TargetCriteria) -> QuerySet[Enterprise]:
    """The enterprises of the campaign's zones that the criteria select."""
    zone_ids = zone_ids_of(campaign)
    if criteria.zones:
        outside = [z for z in criteria.zones if z.pk not in zone_ids]
        if outside:
            raise ServiceError(
                _("园区：“%(zone)s”不在本专项行动的覆盖园区内") % {"zone": "、".join(z.name for z in outside)}
            )
        zone_ids = [z.pk for z in criteria.zones]
    unknown = [tier for tier in criteria.tiers if tier not in Tier.values]
    if unknown:
        raise ServiceError(_("企业分级：“%(tier)s”不是重点、规上或一般") % {"tier": unknown[0]})
    if criteria.industry_section and criteria.industry_section not in SECTIONS:
        raise ServiceError(
            _("行业门类：“%(code)s”不是国民经济行业分类的门类代码") % {"code": criteria.industry_section}
        )
    if criteria.industry_division and criteria.industry_division not in DIVISIONS:
        raise ServiceError(
            _("行业大类：“%(code)s”不是国民经济行业分类的 2 位大类代码")
            % {"code": criteria.industry_division}
        )
    enterprises = Enterprise.objects.filter(zone_id__in=zone_ids)
    if criteria.tiers:
        enterprises = enterprises.filter(tier__in=criteria.tiers)
    if criteria.industry_section:
        enterprises = enterprises.filter(industry_section=criteria.industry_section)
    if criteria.industry_division:
        enterprises = enterprises.filter(industry_division=criteria.industry_division)
    if criteria.tags:
        # A subquery, not a join: an enterprise with two of the tags is one enterprise.
        tagged = Enterprise.tags.through.objects.filter(tag__in=criteria.tags).values("enterprise_id")
        enterprises = enterprises.filter(pk__in=tagged)
    return enterprises


@dataclass(frozen=True)
class TargetPreview:
    matching: int
    already: int

    @property
    def new(self) -> int:
        return self.matching - self.already


def preview_targets(campaign: Campaign, criteria: TargetCriteria) -> TargetPreview:
    """How many enterprises the criteria select, and how many of them are targets already."""
    enterprises = matching_enterprises(campaign, criteria)
    already = CampaignTarget.objects.filter(campaign=campaign, enterprise__in=enterprises.values("pk"))
    return TargetPreview(matching=enterprises.count(), already=already.count())


@dataclass(frozen=True)
class AddResult:
    added: int
    skipped: int  # already on the list


def add_target_pairs(
    campaign: Campaign,
    pairs: Iterable[tuple[int, int | None]],
    *,
    by: User,
    source: str,
    detail: dict[str, Any] | None = None,
) -> AddResult:
    """Add (enterprise id, steward id) pairs to the list in one transaction; those on it are skipped.

    The campaign row is locked first, so two additions at once (a double click, two dispatchers)
    run one after the other and each reports what it really added; the unique constraint and
    ignore_conflicts hold even where the lock does not (SQLite's IMMEDIATE transactions serialise
    instead).
    """
    check_keeper(campaign, by)
    check_open(campaign)
    pairs = list(pairs)
    now = timezone.now()
    with transaction.atomic():
        if not Campaign.objects.select_for_update().filter(pk=campaign.pk).exists():
            raise Conflict(_("专项行动已被删除"))
        existing = set(
            CampaignTarget.objects.filter(campaign=campaign).values_list("enterprise_id", flat=True)
        )
        new = [
            CampaignTarget(campaign=campaign, enterprise_id=enterprise, steward_id=steward, added_at=now)
            for enterprise, steward in dict(pairs).items()
            if enterprise not in existing
        ]
        CampaignTarget.objects.bulk_create(new, batch_size=INSERT_BATCH, ignore_conflicts=True)
        result = AddResult(added=len(new), skipped=len(pairs) - len(new))
        audit.record(
            by,
            "campaign.add_targets",
            campaign,
            summary=f"专项行动“{campaign.name}”添加目标企业 {result.added} 家，跳过已在清单中的 {result.skipped} 家",
            detail={"source": source, "added": result.added, "skipped": result.skipped, **(detail or {})},
        )
    return result


def add_targets_by_criteria(campaign: Campaign, criteria: TargetCriteria, *, by: User) -> AddResult:
    """Add every enterprise the criteria select; each target's steward is its enterprise's steward now."""
    check_keeper(campaign, by)
    pairs = matching_enterprises(campaign, criteria).order_by("pk").values_list("pk", "steward_id")
    return add_target_pairs(
        campaign, pairs, by=by, source="filters", detail={"criteria": criteria.describe()}
    )


# --- assignment ------------------------------------------------------------------------------------------


def stewards_for(campaign: Campaign) -> QuerySet[User]:
    """Active stewards working in the campaign's zones: whom targets may be assigned to."""
    zone_ids = zone_ids_of(campaign)
    return (
        User.objects.filter(role_grants__role=Role.STEWARD, is_active=True)
        .filter(Q(unit_id__in=zone_ids) | Q(unit__parent_id__in=zone_ids))
        .order_by("username")
        .distinct()
    )


def reassign_targets(
    campaign: Campaign,
    *,
    to: User,
    by: User,
    target_ids: Sequence[int] | None = None,
    from_steward: User | None = None,
) -> int:
    """Give the selected targets, or all targets of `from_steward`, to `to`; returns how many moved.

    Only the campaign's answerable steward changes: the enterprise's own steward (and so who may
    record its visits) is the registry's business (enterprises.services.assign_steward).
    """
    check_keeper(campaign, by)
    check_open(campaign)
    if (target_ids is None) == (from_steward is None):
        raise ServiceError(_("请选择要改派的目标企业，或选择一位服务管家改派其全部目标"))
    if not (to.is_active and to.has_role(Role.STEWARD)):
        raise ServiceError(_("改派给：%(to)s 不是在岗的服务管家") % {"to": to})
    selected = CampaignTarget.objects.filter(campaign=campaign)
    if target_ids is not None:
        ids = set(target_ids)
        if not ids:
            raise ServiceError(_("请至少选择一家目标企业"))
        if len(ids) > MAX_SELECTED:
            raise ServiceError(_("一次最多改派 %(max)d 家目标企业") % {"max": MAX_SELECTED})
        selected = selected.filter(pk__in=ids)
        missing = ids - set(selected.values_list("pk", flat=True))
        if missing:
            raise ServiceError(
                _("目标 %(ids)s 不在本专项行动的目标清单中")
                % {"ids": "、".join(str(i) for i in sorted(missing)[:10])}
            )
    else:
        selected = selected.filter(steward=from_steward)
        if from_steward == to:
            raise ServiceError(_("改派给：不能与原服务管家相同"))
        if not selected.exists():
            raise ServiceError(_("%(steward)s 在本专项行动中没有目标企业") % {"steward": from_steward})
    outside = selected.exclude(enterprise__zone_id__in=to.zone_ids()).count()
    if outside:
        raise ServiceError(
            _("改派给：%(to)s 不是其中 %(n)d 家目标企业所在园区的服务管家") % {"to": to, "n": outside}
        )
    with transaction.atomic():
        moved = selected.exclude(steward=to).update(steward=to)
        audit.record(
            by,
            "campaign.reassign_targets",
            campaign,
            summary=f"专项行动“{campaign.name}”改派 {moved} 家目标企业给 {to}",
            detail={
                "to": to.pk,
                "moved": moved,
                "from_steward": from_steward.pk if from_steward else None,
                "targets": sorted(target_ids)[:MAX_SELECTED] if target_ids is not None else None,
            },
        )
    return moved


def follow_steward_change(
    sender: Any, *, enterprise: Enterprise, previous_id: int | None, steward: User, **kwargs: Any
) -> None:
    """enterprises.signals.steward_changed: the enterprise's targets in campaigns not yet ended whose
    answerable steward was the previous steward move to the new one (a target a dispatcher gave to
    someone else on purpose stays). Runs inside assign_steward's transaction, whose audit record
    names the change."""
    targets = CampaignTarget.objects.filter(enterprise=enterprise, campaign__ends_on__gte=today())
    if previous_id is None:
        targets = targets.filter(steward__isnull=True)
    else:
        targets = targets.filter(steward_id=previous_id)
    targets.update(steward=steward)


# --- coverage --------------------------------------------------------------------------------------------


def visited_in_period(enterprise: Any, starts_on: Any, ends_on: Any) -> Exists:
    """EXISTS a visit of `enterprise` dated within [starts_on, ends_on] (values or OuterRefs).

    A planned visit not yet made has no visited_on: the range excludes it.
    """
    return Exists(
        Visit.objects.filter(enterprise_id=enterprise, visited_on__gte=starts_on, visited_on__lte=ends_on)
    )


@dataclass(frozen=True)
class Share:
    """visited of total targets; the rate is None for no targets (shown as "—", never a division by 0)."""

    visited: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.total if self.total else None

    @property
    def percent(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class GroupShare(Share):
    """One steward's or one zone's share; key None is the targets without a steward."""

    key: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Problems:
    """Appeals raised from visits to targets within the period: how many, closed, confirmed solved."""

    raised: int
    closed: int
    solved: int


@dataclass(frozen=True)
class Coverage:
    campaign_id: int
    starts_on: date
    ends_on: date
    overall: Share
    by_zone: list[GroupShare]
    by_steward: list[GroupShare]
    problems: Problems


def annotate_visited(campaign: Campaign, targets: QuerySet[CampaignTarget]) -> QuerySet[CampaignTarget]:
    """Targets with `visited` (bool): the same test coverage() counts with."""
    return targets.annotate(
        visited=visited_in_period(OuterRef("enterprise_id"), campaign.starts_on, campaign.ends_on)
    )


_COUNTS = {"total": Count("pk"), "visited_count": Count("pk", filter=Q(visited=True))}

PROBLEM_KINDS = ("raised", "closed", "solved")


def problem_appeals(campaign: Campaign, targets: QuerySet[CampaignTarget] | None = None) -> QuerySet[Appeal]:
    """The appeals raised from visits to the targets within the period, with `last_solved`."""
    if targets is None:
        targets = CampaignTarget.objects.filter(campaign=campaign)
    # From the links (few: one per appeal raised on a visit) to their visits by primary key, rather
    # than from the visits of every target: the visit table is the large one.
    links = VisitAppeal.objects.filter(
        Exists(targets.filter(enterprise_id=OuterRef("visit__enterprise_id"))),
        visit__visited_on__gte=campaign.starts_on,
        visit__visited_on__lte=campaign.ends_on,
    )
    last = Rating.objects.filter(appeal=OuterRef("pk")).order_by("-at", "-pk")
    return Appeal.objects.filter(pk__in=links.values("appeal_id")).annotate(
        last_solved=Subquery(last.values("solved")[:1])
    )


def problem_filter(kind: str) -> Q:
    """raised: all; closed: 已办结; solved: closed and the enterprise's last rating says solved."""
    if kind == "closed":
        return Q(status=Status.CLOSED)
    if kind == "solved":
        return Q(status=Status.CLOSED, last_solved=True)
    return Q()


def coverage(campaign: Campaign, *, steward: User | None = None) -> Coverage:
    """The campaign's coverage overall, by zone and by answerable steward, and its problems.

    With `steward`, everything is counted over that steward's targets only (a steward's own view).
    """
    targets = CampaignTarget.objects.filter(campaign=campaign)
    if steward is not None:
        targets = targets.filter(steward=steward)
    # One pass over the targets, grouped by (zone, steward): both breakdowns are sums of its rows.
    groups: list[dict[str, Any]] = [
        dict(group)
        for group in annotate_visited(campaign, targets)
        .order_by()
        .values("enterprise__zone_id", "steward_id")
        .annotate(**_COUNTS)
    ]
    zone_sums: dict[int, Share] = {}
    steward_sums: dict[int | None, Share] = {}
    for group in groups:
        for sums, key in ((zone_sums, group["enterprise__zone_id"]), (steward_sums, group["steward_id"])):
            before = sums.get(key, Share(0, 0))
            sums[key] = Share(before.visited + group["visited_count"], before.total + group["total"])
    zones = {z.pk: z for z in OrgUnit.objects.filter(pk__in=zone_ids_of(campaign))}
    none = Share(0, 0)
    by_zone = [
        GroupShare(
            visited=zone_sums.get(pk, none).visited,
            total=zone_sums.get(pk, none).total,
            key=pk,
            name=zone.name,
        )
        for pk, zone in sorted(zones.items(), key=lambda item: item[1].code)
    ]
    names = {
        user.pk: str(user) for user in User.objects.filter(pk__in=[k for k in steward_sums if k is not None])
    }
    by_steward = sorted(
        (
            GroupShare(
                visited=share.visited,
                total=share.total,
                key=key,
                name=names.get(key, "") if key is not None else _("未分配管家"),
            )
            for key, share in steward_sums.items()
        ),
        key=lambda share: (share.key is None, share.name),
    )
    problems = problem_appeals(campaign, targets).aggregate(
        raised=Count("pk"),
        closed=Count("pk", filter=problem_filter("closed")),
        solved=Count("pk", filter=problem_filter("solved")),
    )
    return Coverage(
        campaign_id=campaign.pk,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        # Every target has one answerable steward (or none): the steward rows add up to the whole.
        overall=Share(visited=sum(s.visited for s in by_steward), total=sum(s.total for s in by_steward)),
        by_zone=by_zone,
        by_steward=by_steward,
        problems=Problems(raised=problems["raised"], closed=problems["closed"], solved=problems["solved"]),
    )


def with_coverage(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Each campaign with target_count and visited_count (one query for a list page)."""
    visited = visited_in_period(
        OuterRef("targets__enterprise_id"), OuterRef("starts_on"), OuterRef("ends_on")
    )
    return campaigns.annotate(
        target_count=Count("targets"), visited_count=Count("targets", filter=Q(visited))
    )
