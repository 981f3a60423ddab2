"""Writes and reads of investment projects (招商项目, 七个一批): creation (from a lead or directly), stage
moves, corrections, signings, capital arrivals, promised milestones, registration as an enterprise.

Stages move only forward (谋划→洽谈→签约→开工→建设→投产→达产), a skipped stage taking the date of the
move; going back is an explicit, audited correction with a reason. Reaching 签约 records the signing
event (or "直接签约") and creates the approval checklist (approvals.create_checklist) in the same
transaction.

Counting (DESIGN.md "Investment"): a project counts once however many signing events it is shown at
(every figure counts distinct projects whose 签约 milestone is reached), and a capital increase
(增资扩股) counts only its increment (Project.investment_counted = planned − base).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.uscc import clean_uscc
from guanjia.investment import access, approvals, leads
from guanjia.investment.access import check_keeper
from guanjia.investment.models import (
    STAGES,
    ZERO,
    CapitalArrival,
    ChainNode,
    IndustryChain,
    Lead,
    LeadSource,
    LeadStatus,
    NodePlacement,
    Project,
    ProjectEvent,
    ProjectKind,
    ProjectMilestone,
    ProjectSigning,
    ProjectType,
    Stage,
    Target,
    stage_index,
)

# The signing event recorded when a project reaches 签约 without a named ceremony.
DIRECT_SIGNING = "直接签约"
# Stages at or after 签约: a project there is a signed project.
SIGNED_STAGES = STAGES[stage_index(Stage.SIGNED) :]
NAME_MAX = 200
EVENT_MAX = 100
NOTE_MAX = 200
MONEY_MAX = Decimal("999999999999.99")


class UsccInvalid(ServiceError):
    """A USCC the registry refuses (malformed, or already registered): shown on the USCC field."""


# --- reading ---------------------------------------------------------------------------------------


def stage_label(stage: str) -> str:
    """The stage's Chinese name (谋划, 洽谈…)."""
    return str(Stage(stage).label)


def later_stages(stage: str) -> list[str]:
    """The stages after `stage`, in order."""
    return list(STAGES[stage_index(stage) + 1 :])


def is_signed(project: Project) -> bool:
    """Whether the project is at 签约 or a later stage."""
    return project.stage in SIGNED_STAGES


def overdue_milestones(projects: QuerySet[Project], today: date | None = None) -> QuerySet[ProjectMilestone]:
    """The milestones of `projects` promised before today and not reached (逾期节点)."""
    return ProjectMilestone.objects.filter(
        project__in=projects.values("pk"),
        promised_on__lt=today or access.today(),
        reached_on__isnull=True,
    )


def _money_sum(expression: Any) -> Coalesce:
    return Coalesce(expression, Value(ZERO), output_field=DecimalField(max_digits=16, decimal_places=2))


def with_figures(projects: QuerySet[Project], today: date | None = None) -> QuerySet[Project]:
    """Annotate each project with `arrived` (到资 total, 万元) and `overdue_count` (overdue milestones),
    by subqueries so that neither multiplies the other's rows."""
    arrived = (
        CapitalArrival.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    overdue = (
        ProjectMilestone.objects.filter(
            project=OuterRef("pk"), promised_on__lt=today or access.today(), reached_on__isnull=True
        )
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return projects.annotate(
        arrived=_money_sum(Subquery(arrived)),
        overdue_count=Coalesce(Subquery(overdue), Value(0)),
    )


def only_overdue(projects: QuerySet[Project], today: date | None = None) -> QuerySet[Project]:
    """The projects with at least one overdue milestone (the list's "逾期节点" filter)."""
    late = ProjectMilestone.objects.filter(
        project=OuterRef("pk"), promised_on__lt=today or access.today(), reached_on__isnull=True
    )
    return projects.filter(Exists(late))


def signed_in(projects: QuerySet[Project], start: date, end: date) -> QuerySet[Project]:
    """The projects whose 签约 milestone was reached in [start, end]: each once, however many
    signing events (ProjectSigning) showed it."""
    reached = ProjectMilestone.objects.filter(
        stage=Stage.SIGNED, reached_on__gte=start, reached_on__lte=end
    ).values("project_id")
    return projects.filter(pk__in=reached)


def signed_totals(projects: QuerySet[Project], start: date, end: date) -> tuple[int, Decimal]:
    """(signed projects, signed investment in 万元) for the period: distinct projects with 签约 reached
    in [start, end]; a capital increase adds only its increment."""
    figures = signed_in(projects, start, end).aggregate(
        n=Count("pk"), investment=_money_sum(Sum(F("investment_planned") - F("investment_base")))
    )
    return figures["n"], figures["investment"]


def arrived_total(projects: QuerySet[Project], start: date, end: date) -> Decimal:
    """The capital that arrived (到资) for `projects` in [start, end], in 万元."""
    figures = CapitalArrival.objects.filter(
        project__in=projects.values("pk"), arrived_on__gte=start, arrived_on__lte=end
    ).aggregate(total=_money_sum(Sum("amount")))
    return figures["total"]


def stage_counts(projects: QuerySet[Project]) -> dict[str, int]:
    """How many of `projects` are at each stage (every stage present, in order)."""
    counts = dict(projects.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage: counts.get(stage, 0) for stage in STAGES}


@dataclass(frozen=True)
class TimelineStep:
    stage: str
    label: str
    promised_on: date | None
    reached_on: date | None
    current: bool
    overdue: bool


def timeline(project: Project, today: date | None = None) -> list[TimelineStep]:
    """The seven stages of a project with their promised and reached dates."""
    today = today or access.today()
    milestones = {m.stage: m for m in project.milestones.all()}
    steps = []
    for stage in STAGES:
        milestone = milestones.get(stage)
        promised = milestone.promised_on if milestone else None
        reached = milestone.reached_on if milestone else None
        steps.append(
            TimelineStep(
                stage=stage,
                label=stage_label(stage),
                promised_on=promised,
                reached_on=reached,
                current=stage == project.stage,
                overdue=promised is not None and reached is None and promised < today,
            )
        )
    return steps


# --- checks shared by the writes --------------------------------------------------------------------


def _check_stage(value: str, label: str) -> None:
    if value not in STAGES:
        raise ServiceError(_("%(label)s：“%(value)s”不是项目阶段") % {"label": label, "value": value})


def _check_not_future(day: date, label: str) -> None:
    if day > access.today():
        raise ServiceError(_("%(label)s：不能晚于今天") % {"label": label})


def _check_amount(value: Decimal, label: str, *, positive: bool = False) -> None:
    if value is None:
        raise ServiceError(_("%(label)s：不能为空") % {"label": label})
    if positive and value <= 0:
        raise ServiceError(_("%(label)s：必须大于 0") % {"label": label})
    if value < 0:
        raise ServiceError(_("%(label)s：不能为负数") % {"label": label})
    if value > MONEY_MAX:
        raise ServiceError(_("%(label)s：数额过大") % {"label": label})


def _check_text(value: str, label: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(_("%(label)s：不能为空") % {"label": label})
    if len(value) > limit:
        raise ServiceError(_("%(label)s：不能超过 %(n)d 个字") % {"label": label, "n": limit})
    return value


def _check_owner(owner: User, zone: OrgUnit) -> None:
    if not access.promoters_of_zone(zone).filter(is_active=True, pk=owner.pk).exists():
        raise ServiceError(_("招商专员：%(user)s 不是%(zone)s的招商专员") % {"user": owner, "zone": zone})


def _check_links(
    zone: OrgUnit, target: Target | None, chain: IndustryChain | None, node: ChainNode | None
) -> IndustryChain | None:
    """The target, chain and node must be the zone's; a node's chain is the project's chain."""
    if target is not None and target.zone_id != zone.pk:
        raise ServiceError(_("投资方：“%(target)s”不在本园区的目标企业库中") % {"target": target})
    if node is not None:
        if chain is not None and node.chain_id != chain.pk:
            raise ServiceError(
                _("链环节：“%(node)s”不属于产业链“%(chain)s”") % {"node": node, "chain": chain}
            )
        chain = node.chain
    if chain is not None and chain.zone_id != zone.pk:
        raise ServiceError(_("产业链：“%(chain)s”不是本园区的产业链") % {"chain": chain})
    return chain


def _check_investment(
    *, kind: str, enterprise: Enterprise | None, zone: OrgUnit, planned: Decimal, base: Decimal
) -> None:
    _check_amount(planned, _("计划总投资"))
    _check_amount(base, _("增资前已投资"))
    if kind == ProjectKind.CAPITAL_INCREASE:
        if enterprise is None:
            raise ServiceError(_("项目企业：增资扩股项目须指定本园区已有的企业"))
        if enterprise.zone_id != zone.pk:
            raise ServiceError(_("项目企业：“%(name)s”不是本园区的企业") % {"name": enterprise.name})
        if planned < base:
            raise ServiceError(_("计划总投资：增资扩股项目的计划总投资不能低于增资前已投资"))
    else:
        if base:
            raise ServiceError(_("增资前已投资：只有增资扩股项目填写"))
        if enterprise is not None:
            raise ServiceError(_("项目企业：新建项目在注册落地时关联企业，创建时不指定"))


def _check_promised_order(promised: Mapping[str, date | None]) -> None:
    """Promised dates follow the stages: a later stage is not promised before an earlier one."""
    previous: tuple[str, date] | None = None
    for stage in STAGES:
        day = promised.get(stage)
        if day is None:
            continue
        if previous is not None and day < previous[1]:
            raise ServiceError(
                _("约定日期：%(later)s的约定日期不能早于%(earlier)s的约定日期（%(day)s）")
                % {"later": stage_label(stage), "earlier": stage_label(previous[0]), "day": previous[1]}
            )
        previous = (stage, day)


def _event(project: Project, kind: str, *, from_stage: str, to: str, on: date, note: str, by: User) -> None:
    ProjectEvent.objects.create(
        project=project, kind=kind, from_stage=from_stage, to_stage=to, on=on, note=note[:NOTE_MAX], by=by
    )


def _bump(project: Project, version: int, **changes: Any) -> None:
    """Write `changes` to the project if nobody changed it since `version` was read; else Conflict."""
    moved = Project.objects.filter(pk=project.pk, version=version).update(version=version + 1, **changes)
    if moved != 1:
        raise Conflict(_("该项目刚被他人修改，请刷新后重试"))
    project.version = version + 1
    for name, value in changes.items():
        setattr(project, name, value)


# --- creating -----------------------------------------------------------------------------------------


def create_project(
    *,
    zone: OrgUnit | None = None,
    name: str,
    owner: User,
    by: User,
    lead: Lead | None = None,
    target: Target | None = None,
    chain: IndustryChain | None = None,
    node: ChainNode | None = None,
    source: str = LeadSource.OTHER,
    kind: str = ProjectKind.NEW,
    project_type: str = ProjectType.INDUSTRIAL,
    enterprise: Enterprise | None = None,
    investment_planned: Decimal,
    investment_base: Decimal = ZERO,
    land_mu: Decimal = ZERO,
    expected_output: Decimal = ZERO,
    expected_tax: Decimal = ZERO,
    description: str = "",
    promised: Mapping[str, date | None] | None = None,
    on: date | None = None,
) -> Project:
    """Create a project in 谋划, from a lead or directly, with a milestone per stage; `on` is the day it
    was reached (default today: an older project entered now may be back-dated).

    From a lead, the zone, target, node, chain and source are the lead's, and the lead becomes
    转为项目 in the same transaction (so it converts exactly once, however many clicks). A lead that was
    洽谈中 starts the project in 洽谈, with 谋划 and 洽谈 reached on the day the lead entered 洽谈中.
    """
    if lead is not None:
        if zone is not None and zone.pk != lead.zone_id:
            raise ServiceError(_("所属园区：项目须与线索在同一园区"))
        zone = lead.zone
        target, node, source = lead.target, lead.node, lead.source
        chain = node.chain if node is not None else None
    if zone is None:
        raise ServiceError(_("所属园区：不能为空"))
    check_keeper(by, zone.pk)
    name = _check_text(name, _("项目名称"), NAME_MAX, required=True)
    description = (description or "").strip()
    if source not in LeadSource.values:
        raise ServiceError(_("线索来源：“%(value)s”不是可选的来源") % {"value": source})
    if kind not in ProjectKind.values:
        raise ServiceError(_("项目性质：“%(value)s”不是可选的性质") % {"value": kind})
    if project_type not in ProjectType.values:
        raise ServiceError(_("项目类型：“%(value)s”不是可选的类型") % {"value": project_type})
    _check_owner(owner, zone)
    chain = _check_links(zone, target, chain, node)
    _check_investment(
        kind=kind, enterprise=enterprise, zone=zone, planned=investment_planned, base=investment_base
    )
    _check_amount(land_mu, _("用地"))
    _check_amount(expected_output, _("达产后年产值"))
    _check_amount(expected_tax, _("达产后年税收"))
    promised = dict(promised or {})
    for stage in promised:
        _check_stage(stage, _("约定日期"))
    _check_promised_order(promised)

    today = access.today()
    if on is not None:
        _check_not_future(on, _("谋划日期"))
    stage = Stage.PLANNING
    reached_on = on or today
    if lead is not None and lead.status == LeadStatus.NEGOTIATING:
        stage = Stage.NEGOTIATING
        reached_on = on or min(timezone.localdate(lead.status_changed_at), today)
    reached = STAGES[: stage_index(stage) + 1]
    with transaction.atomic():
        if lead is not None:
            # Inside this transaction: of two clicks converting the same lead, the second finds the lead
            # already converted (or loses the conditional update) and creates no project.
            leads.mark_converted(lead, by=by, note=_("转为项目“%(name)s”") % {"name": name})
        project = Project.objects.create(
            zone=zone,
            name=name,
            lead=lead,
            target=target,
            chain=chain,
            node=node,
            source=source,
            kind=kind,
            project_type=project_type,
            enterprise=enterprise,
            stage=stage,
            investment_planned=investment_planned,
            investment_base=investment_base,
            land_mu=land_mu,
            expected_output=expected_output,
            expected_tax=expected_tax,
            owner=owner,
            description=description,
            created_by=by,
        )
        ProjectMilestone.objects.bulk_create(
            ProjectMilestone(
                project=project,
                stage=s,
                promised_on=promised.get(s),
                reached_on=reached_on if s in reached else None,
            )
            for s in STAGES
        )
        _event(project, ProjectEvent.Kind.CREATE, from_stage="", to=stage, on=reached_on, note="", by=by)
        audit.record(
            by,
            "investment.project_create",
            project,
            summary=f"新建招商项目“{project.name}”（{stage_label(stage)}）",
            detail={
                "lead": lead.pk if lead else None,
                "stage": stage,
                "kind": kind,
                "investment_planned": str(investment_planned),
                "investment_base": str(investment_base),
            },
        )
    return project


# --- updating -------------------------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "name",
    "owner",
    "target",
    "chain",
    "node",
    "source",
    "project_type",
    "enterprise",
    "investment_planned",
    "investment_base",
    "land_mu",
    "expected_output",
    "expected_tax",
    "description",
)


def update_project(project: Project, *, version: int, by: User, **fields: Any) -> Project:
    """Change a project's facts (not its stage); a concurrent edit loses with a clear message.

    `fields` are among EDITABLE_FIELDS; `promised` (a dict stage → date or None) changes promised dates.
    """
    check_keeper(by, project.zone_id)
    promised = fields.pop("promised", None)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(names)s") % {"names": "、".join(sorted(unknown))})
    zone = project.zone
    merged = {name: fields.get(name, getattr(project, name)) for name in EDITABLE_FIELDS}
    merged["name"] = _check_text(merged["name"], _("项目名称"), NAME_MAX, required=True)
    merged["description"] = (merged["description"] or "").strip()
    if merged["source"] not in LeadSource.values:
        raise ServiceError(_("线索来源：“%(value)s”不是可选的来源") % {"value": merged["source"]})
    if merged["project_type"] not in ProjectType.values:
        raise ServiceError(_("项目类型：“%(value)s”不是可选的类型") % {"value": merged["project_type"]})
    if "owner" in fields and fields["owner"].pk != project.owner_id:
        _check_owner(fields["owner"], zone)
    merged["chain"] = _check_links(zone, merged["target"], merged["chain"], merged["node"])
    if project.kind == ProjectKind.NEW and "enterprise" in fields:
        if (fields["enterprise"].pk if fields["enterprise"] else None) != project.enterprise_id:
            raise ServiceError(_("项目企业：新建项目的企业由“注册落地”关联，不在此修改"))
        merged["enterprise"] = project.enterprise
    _check_investment(
        kind=project.kind,
        enterprise=merged["enterprise"] if project.kind == ProjectKind.CAPITAL_INCREASE else None,
        zone=zone,
        planned=merged["investment_planned"],
        base=merged["investment_base"],
    )
    _check_amount(merged["land_mu"], _("用地"))
    _check_amount(merged["expected_output"], _("达产后年产值"))
    _check_amount(merged["expected_tax"], _("达产后年税收"))
    changes = {name: value for name, value in merged.items() if value != getattr(project, name)}
    if promised:
        _check_promised(project, promised)
    with transaction.atomic():
        _bump(project, version, **changes)
        if promised:
            _write_promised(project, promised)
        audit.record(
            by,
            "investment.project_update",
            project,
            summary=f"修改招商项目“{project.name}”",
            detail={
                "fields": sorted(changes),
                "promised": {
                    stage: day.isoformat() if day else None for stage, day in (promised or {}).items()
                },
            },
        )
    return project


def _check_promised(project: Project, promised: Mapping[str, date | None]) -> None:
    """The promised dates as they would be after the change follow the stages."""
    for stage in promised:
        _check_stage(stage, _("约定日期"))
    current = dict(ProjectMilestone.objects.filter(project=project).values_list("stage", "promised_on"))
    current.update(promised)
    _check_promised_order(current)


def _write_promised(project: Project, promised: Mapping[str, date | None]) -> None:
    for stage, day in promised.items():
        ProjectMilestone.objects.update_or_create(project=project, stage=stage, defaults={"promised_on": day})


def set_promised(project: Project, stage: str, day: date | None, *, by: User) -> ProjectMilestone:
    """Set (or clear, with None) the date the agreement promises for a stage (约定节点)."""
    check_keeper(by, project.zone_id)
    _check_stage(stage, _("阶段"))
    _check_promised(project, {stage: day})
    with transaction.atomic():
        # Compare-and-set on the project's version: two people setting dates at once, one is told.
        _bump(project, project.version)
        _write_promised(project, {stage: day})
        audit.record(
            by,
            "investment.project_promise",
            project,
            summary=f"招商项目“{project.name}”{stage_label(stage)}的约定日期设为 {day or '（无）'}",
            detail={"stage": stage, "promised_on": day.isoformat() if day else None},
        )
    return ProjectMilestone.objects.get(project=project, stage=stage)


# --- stages ---------------------------------------------------------------------------------------------


def advance_project(
    project: Project,
    *,
    to: str,
    on: date,
    by: User,
    note: str = "",
    event: str = "",
    version: int | None = None,
) -> Project:
    """Move a project forward to `to` on `on` (skipped stages are reached on the same day).

    Reaching 签约 records the signing event (or 直接签约) and creates the approval checklist. `version`
    is the one the user saw (defaults to the project as passed); a concurrent move loses with Conflict.
    """
    check_keeper(by, project.zone_id)
    _check_stage(to, _("推进到"))
    if stage_index(to) <= stage_index(project.stage):
        raise ServiceError(
            _("推进到：项目已在“%(stage)s”阶段，只能向后推进；如需退回请使用“更正阶段”")
            % {"stage": project.get_stage_display()}
        )
    if on is None:
        raise ServiceError(_("日期：不能为空"))
    _check_not_future(on, _("日期"))
    note = _check_text(note, _("说明"), NOTE_MAX)
    event = _check_text(event, _("签约活动"), EVENT_MAX)
    previous = (
        ProjectMilestone.objects.filter(project=project, reached_on__isnull=False)
        .order_by("-reached_on")
        .values_list("reached_on", flat=True)
        .first()
    )
    if previous is not None and on < previous:
        raise ServiceError(_("日期：不能早于上一阶段的日期（%(day)s）") % {"day": previous.isoformat()})
    from_stage = project.stage
    crossing = STAGES[stage_index(from_stage) + 1 : stage_index(to) + 1]
    signs = Stage.SIGNED in crossing
    seen = version if version is not None else project.version
    with transaction.atomic():
        moved = Project.objects.filter(pk=project.pk, version=seen, stage=from_stage).update(
            stage=to, stage_changed_at=timezone.now(), version=seen + 1
        )
        if moved != 1:
            raise Conflict(_("该项目的阶段刚被他人调整，请刷新后重试"))
        project.stage, project.version = to, seen + 1
        for stage in crossing:
            ProjectMilestone.objects.update_or_create(
                project=project, stage=stage, defaults={"reached_on": on}
            )
        signing_event = ""
        if signs:
            signing_event = event or DIRECT_SIGNING
            ProjectSigning.objects.get_or_create(
                project=project, event=signing_event, defaults={"signed_on": on, "by": by}
            )
            approvals.create_checklist(project)
        _event(project, ProjectEvent.Kind.ADVANCE, from_stage=from_stage, to=to, on=on, note=note, by=by)
        audit.record(
            by,
            "investment.project_advance",
            project,
            summary=f"招商项目“{project.name}”由{stage_label(from_stage)}推进到{stage_label(to)}",
            detail={"from": from_stage, "to": to, "on": on.isoformat(), "event": signing_event, "note": note},
        )
    return project


def correct_project(
    project: Project, *, to: str, reason: str, by: User, version: int | None = None
) -> Project:
    """The explicit correction of a wrongly recorded stage: back to an earlier stage, with a reason.

    The stages after `to` lose their reached dates; signings, arrivals and the approval checklist stay
    (a project below 签约 no longer counts as signed: the counting reads the 签约 milestone).
    """
    check_keeper(by, project.zone_id)
    _check_stage(to, _("更正为"))
    reason = _check_text(reason, _("更正原因"), NOTE_MAX, required=True)
    if stage_index(to) >= stage_index(project.stage):
        raise ServiceError(
            _("更正为：更正只能退回到“%(stage)s”之前的阶段；向后推进请使用“推进阶段”")
            % {"stage": project.get_stage_display()}
        )
    from_stage = project.stage
    seen = version if version is not None else project.version
    with transaction.atomic():
        moved = Project.objects.filter(pk=project.pk, version=seen, stage=from_stage).update(
            stage=to, stage_changed_at=timezone.now(), version=seen + 1
        )
        if moved != 1:
            raise Conflict(_("该项目的阶段刚被他人调整，请刷新后重试"))
        project.stage, project.version = to, seen + 1
        ProjectMilestone.objects.filter(project=project, stage__in=later_stages(to)).update(reached_on=None)
        _event(
            project,
            ProjectEvent.Kind.CORRECT,
            from_stage=from_stage,
            to=to,
            on=access.today(),
            note=reason,
            by=by,
        )
        audit.record(
            by,
            "investment.project_correct",
            project,
            summary=f"更正招商项目“{project.name}”的阶段：{stage_label(from_stage)}→{stage_label(to)}",
            detail={"from": from_stage, "to": to, "reason": reason},
        )
    return project


# --- signings and arrivals --------------------------------------------------------------------------------


def _hold_signed(project: Project, message: str) -> None:
    """Inside a transaction: the project is (still) signed, and stays so until we commit."""
    # A no-op update takes the row's lock (PostgreSQL) and checks the stage as of now, so a concurrent
    # correction below 签约 cannot slip between the check and the insert.
    held = Project.objects.filter(pk=project.pk, stage__in=SIGNED_STAGES).update(stage=F("stage"))
    if held != 1:
        raise ServiceError(message)


def add_signing(project: Project, *, event: str, signed_on: date, by: User) -> ProjectSigning:
    """The same signed project shown at another signing event (招商大会, 云签约…): recorded, counted once."""
    check_keeper(by, project.zone_id)
    event = _check_text(event, _("签约活动"), EVENT_MAX, required=True)
    if signed_on is None:
        raise ServiceError(_("签约日期：不能为空"))
    _check_not_future(signed_on, _("签约日期"))
    with transaction.atomic():
        _hold_signed(project, _("签约活动：项目签约后才能登记签约活动"))
        if ProjectSigning.objects.filter(project=project, event=event).exists():
            raise ServiceError(_("签约活动：该项目已登记过“%(event)s”") % {"event": event})
        signing = ProjectSigning.objects.create(project=project, event=event, signed_on=signed_on, by=by)
        audit.record(
            by,
            "investment.project_signing",
            project,
            summary=f"招商项目“{project.name}”在“{event}”签约",
            detail={"event": event, "signed_on": signed_on.isoformat()},
        )
    return signing


def record_arrival(
    project: Project, *, amount: Decimal, arrived_on: date, by: User, note: str = ""
) -> CapitalArrival:
    """Record capital that arrived (到资) for a signed project; a total above the counted investment is
    allowed (and flagged on the page)."""
    check_keeper(by, project.zone_id)
    _check_amount(amount, _("到资金额"), positive=True)
    if arrived_on is None:
        raise ServiceError(_("到资日期：不能为空"))
    _check_not_future(arrived_on, _("到资日期"))
    note = _check_text(note, _("说明"), NOTE_MAX)
    with transaction.atomic():
        _hold_signed(project, _("到资：项目签约后才能登记到资"))
        arrival = CapitalArrival.objects.create(
            project=project, amount=amount, arrived_on=arrived_on, note=note, by=by
        )
        audit.record(
            by,
            "investment.project_arrival",
            project,
            summary=f"招商项目“{project.name}”到资 {amount} 万元",
            detail={"amount": str(amount), "arrived_on": arrived_on.isoformat()},
        )
    return arrival


def arrived_of(project: Project) -> Decimal:
    """The capital that arrived for the project so far, in 万元."""
    return CapitalArrival.objects.filter(project=project).aggregate(total=_money_sum(Sum("amount")))["total"]


# --- registration as an enterprise ---------------------------------------------------------------------------


def register_project_enterprise(
    project: Project, *, uscc: str, name: str, by: User, steward: User | None = None
) -> Enterprise:
    """A signed new project registers as an enterprise: it enters the zone's registry, gets a steward
    (the one given, else the zone's lightest-loaded one) and becomes the project's enterprise."""
    check_keeper(by, project.zone_id)
    if project.kind == ProjectKind.CAPITAL_INCREASE:
        raise ServiceError(_("注册落地：增资扩股项目已有企业，无需注册"))
    if project.enterprise_id is not None:
        raise ServiceError(_("注册落地：该项目已关联企业“%(name)s”") % {"name": project.enterprise})
    if not is_signed(project):
        raise ServiceError(_("注册落地：项目签约后才能注册为企业"))
    name = _check_text(name, _("企业名称"), NAME_MAX, required=True)
    try:
        code = clean_uscc(uscc)
    except ValidationError as exc:
        raise UsccInvalid(exc.messages[0]) from exc
    if Enterprise.objects.filter(uscc=code).exists():
        raise UsccInvalid(_("统一社会信用代码 %(uscc)s 已登记") % {"uscc": code})
    if steward is None:
        steward = enterprise_services.suggest_steward(project.zone_id)
        if steward is None:
            raise ServiceError(_("服务管家：本园区没有在岗的服务管家，无法为新企业分配管家"))
    elif not enterprise_services.stewards_of_zones([project.zone_id]).filter(pk=steward.pk).exists():
        raise ServiceError(_("服务管家：%(user)s 不是本园区在岗的服务管家") % {"user": steward})
    with transaction.atomic():
        try:
            enterprise = enterprise_services.register_enterprise(
                data={"uscc": code, "name": name}, zone=project.zone, by=by
            )
        except ServiceError as exc:
            raise UsccInvalid(str(exc)) from exc
        # The zone's registry assigns stewards; here the platform does it on the project's behalf.
        enterprise_services.assign_steward(enterprise, steward, reason="招商项目落地", by=None)
        # The link the project was brought in to fill now has a local enterprise: the chain map counts it.
        if project.node_id is not None:
            NodePlacement.objects.create(node_id=project.node_id, enterprise=enterprise, placed_by=by)
        moved = Project.objects.filter(
            pk=project.pk, version=project.version, enterprise__isnull=True
        ).update(enterprise=enterprise, version=project.version + 1)
        if moved != 1:
            raise Conflict(_("该项目刚被他人修改，请刷新后重试"))
        project.enterprise, project.version = enterprise, project.version + 1
        audit.record(
            by,
            "investment.project_register",
            project,
            summary=f"招商项目“{project.name}”注册为企业 {enterprise.name}（{code}），服务管家 {steward}",
            detail={"enterprise": enterprise.pk, "uscc": code, "steward": steward.pk},
        )
    return enterprise
