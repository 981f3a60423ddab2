"""招商漏斗与投资统计: the figures of the pipeline page, its exports, its API and the investment home.

Reads only. Every count is made in the database, grouped, in a fixed number of queries whatever the
number of leads and projects; only the medians of the time-in-stage figures are computed here, from
one read of the dates they need.

Definitions (the page says them too):
- Lead funnel: the leads created in the year (Beijing time). A lead reached 接触 when it moved to
  接触中 or beyond (洽谈中, 转为项目), is there now, or became a project; 洽谈 likewise; 转为项目 when it
  is converted or has a project. The project steps (签约, 开工, 投产, 达产) count the lead's project when
  it reached that stage or a later one (a milestone with a reached_on, or its current stage), so that
  the funnel never widens when a stage was skipped.
- Project funnel: every project in scope, whatever its year, from a lead or entered directly, by the
  stages it reached (the same rule).
- Time in stage: calendar days. A lead's stint in a state runs from entering it (its creation for
  新线索) to leaving it; a project's stint in a stage from that stage's reached_on to the next reached
  stage's. A lead or project still in a state counts up to now (today): it is included in the mean
  and the median, and the `still` column says how many of n are such unfinished stints.
- Investment: a project is signed in the period its 签约 milestone's reached_on falls in, once
  however many signing events (ProjectSigning) showed it; it counts investment_planned −
  investment_base (a capital increase only its increment). Arrived money is Σ CapitalArrival.amount
  by arrived_on.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractQuarter
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.models import OrgUnit, User
from guanjia.investment import access
from guanjia.investment.models import (
    STAGES,
    ZERO,
    CapitalArrival,
    IndustryChain,
    Lead,
    LeadSource,
    LeadStatus,
    LeadTransition,
    Project,
    ProjectMilestone,
    Stage,
)

OPEN_LEAD_STATES = (LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.NEGOTIATING)
# The lead funnel's project steps: 谋划 and 洽谈 are the lead's own steps, 建设 lies between 开工 and 投产.
LEAD_PROJECT_STEPS = (Stage.SIGNED, Stage.STARTED, Stage.PRODUCING, Stage.AT_CAPACITY)
PERIODS = ("month", "quarter")
MONEY = DecimalField(max_digits=16, decimal_places=2)
NO_CHAIN = "none"  # the key of the "未关联产业链" row


def _no_chain_label() -> str:
    return _("未关联产业链")


# --- scope -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose figures: the user's zones (or one of them), optionally one chain and one source."""

    user: User
    zone_ids: tuple[int, ...]
    zone: OrgUnit | None = None
    chain: IndustryChain | None = None
    source: str = ""
    many_zones: bool = False
    label: str = ""

    @property
    def source_label(self) -> str:
        return str(LeadSource(self.source).label) if self.source else ""

    def leads(self) -> QuerySet[Lead]:
        leads = Lead.objects.visible_to(self.user).filter(zone_id__in=self.zone_ids)
        if self.chain is not None:
            leads = leads.filter(node__chain=self.chain)
        if self.source:
            leads = leads.filter(source=self.source)
        return leads

    def projects(self) -> QuerySet[Project]:
        projects = Project.objects.visible_to(self.user).filter(zone_id__in=self.zone_ids)
        if self.chain is not None:
            # A project names its chain; one that names only a node belongs to the node's chain.
            projects = projects.filter(Q(chain=self.chain) | Q(chain__isnull=True, node__chain=self.chain))
        if self.source:
            projects = projects.filter(source=self.source)
        return projects


def scope_for(
    user: User, *, zone: OrgUnit | None = None, chain: IndustryChain | None = None, source: str = ""
) -> Scope:
    """The scope of `user`, narrowed to a zone, a chain and a source it may see (else ValueError)."""
    zone_ids = tuple(user.zone_ids()) if access.may_read(user) else ()
    if zone is not None:
        if zone.pk not in zone_ids:
            raise ValueError("zone outside the user's scope")
        zone_ids = (zone.pk,)
    if chain is not None and chain.zone_id not in zone_ids:
        raise ValueError("chain outside the scope")
    if source and source not in LeadSource.values:
        raise ValueError("unknown source")
    many = len(user.zone_ids()) > 1
    if zone is not None:
        label = zone.name
    elif many:
        label = _("全部园区")
    else:
        label = OrgUnit.objects.filter(pk__in=zone_ids).values_list("name", flat=True).first() or _("本园区")
    return Scope(
        user=user, zone_ids=zone_ids, zone=zone, chain=chain, source=source, many_zones=many, label=label
    )


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year's first moment and the next year's, in Beijing time."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date(year, 1, 1), time.min), tz)
    end = timezone.make_aware(datetime.combine(date(year + 1, 1, 1), time.min), tz)
    return start, end


# --- rates and funnels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with its n (the denominator); no value when n is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"

    def __str__(self) -> str:
        return self.percent


@dataclass(frozen=True)
class Step:
    """One step of a funnel: its count, and the conversion from the step before and from the first."""

    key: str
    label: str
    count: int
    from_previous: Rate
    from_first: Rate


def _steps(definitions: list[tuple[str, str]], counts: Mapping[str, Any]) -> list[Step]:
    steps: list[Step] = []
    first = counts.get(definitions[0][0], 0) if definitions else 0
    previous = first
    for index, (key, label) in enumerate(definitions):
        count = counts.get(key, 0) or 0
        steps.append(
            Step(
                key=key,
                label=label,
                count=count,
                from_previous=Rate(count, previous if index else count),
                from_first=Rate(count, first),
            )
        )
        previous = count
    return steps


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label)


def lead_step_definitions() -> list[tuple[str, str]]:
    return [
        ("leads", _("线索")),
        ("contacted", _("接触")),
        ("negotiated", _("洽谈")),
        ("converted", _("转为项目")),
        *[(stage.value, _stage_label(stage)) for stage in LEAD_PROJECT_STEPS],
    ]


def project_step_definitions() -> list[tuple[str, str]]:
    return [(stage, _stage_label(stage)) for stage in STAGES]


def _lead_reached(states: Iterable[str]) -> Q:
    """The lead is in one of `states`, moved to one of them once, or has a project."""
    states = list(states)
    moved = LeadTransition.objects.filter(lead=OuterRef("pk"), to_status__in=states)
    has_project = Project.objects.filter(lead=OuterRef("pk"))
    return Q(status__in=states) | Q(Exists(moved)) | Q(Exists(has_project))


def _lead_project_reached(stage: str) -> Q:
    later = STAGES[STAGES.index(stage) :]
    milestone = ProjectMilestone.objects.filter(
        project__lead=OuterRef("pk"), stage__in=later, reached_on__isnull=False
    )
    current = Project.objects.filter(lead=OuterRef("pk"), stage__in=later)
    return Q(Exists(milestone)) | Q(Exists(current))


def _project_reached(stage: str) -> Q:
    later = STAGES[STAGES.index(stage) :]
    milestone = ProjectMilestone.objects.filter(
        project=OuterRef("pk"), stage__in=later, reached_on__isnull=False
    )
    return Q(stage__in=later) | Q(Exists(milestone))


def _lead_counts() -> dict[str, Count]:
    beyond_contact = (LeadStatus.CONTACTING, LeadStatus.NEGOTIATING, LeadStatus.CONVERTED)
    beyond_talks = (LeadStatus.NEGOTIATING, LeadStatus.CONVERTED)
    counts = {
        "leads": Count("pk"),
        "contacted": Count("pk", filter=_lead_reached(beyond_contact)),
        "negotiated": Count("pk", filter=_lead_reached(beyond_talks)),
        "converted": Count("pk", filter=_lead_reached((LeadStatus.CONVERTED,))),
    }
    for stage in LEAD_PROJECT_STEPS:
        counts[stage.value] = Count("pk", filter=_lead_project_reached(stage))
    return counts


def _cohort(scope: Scope, year: int) -> QuerySet[Lead]:
    start, end = year_bounds(year)
    return scope.leads().filter(created_at__gte=start, created_at__lt=end)


def lead_funnel(scope: Scope, year: int) -> list[Step]:
    """线索 → 接触 → 洽谈 → 转为项目 → 签约 → 开工 → 投产 → 达产 of the leads created in `year` (one query)."""
    counts = _cohort(scope, year).order_by().aggregate(**_lead_counts())
    return _steps(lead_step_definitions(), counts)


@dataclass(frozen=True)
class FunnelRow:
    """The lead funnel of one group (a chain or a source)."""

    key: str
    label: str
    steps: list[Step]


def lead_funnel_by(scope: Scope, year: int, by: str) -> list[FunnelRow]:
    """The lead funnel per chain (the lead's node's chain) or per source, in one grouped query."""
    definitions = lead_step_definitions()
    leads = _cohort(scope, year).order_by()
    rows: list[FunnelRow] = []
    if by == "chain":
        grouped = leads.values("node__chain_id", "node__chain__name").annotate(**_lead_counts())
        for counts in sorted(
            grouped, key=lambda c: (c["node__chain_id"] is None, c["node__chain__name"] or "")
        ):
            chain_id = counts["node__chain_id"]
            rows.append(
                FunnelRow(
                    key=str(chain_id) if chain_id is not None else NO_CHAIN,
                    label=counts["node__chain__name"] or _no_chain_label(),
                    steps=_steps(definitions, counts),
                )
            )
        return rows
    if by == "source":
        found = {counts["source"]: counts for counts in leads.values("source").annotate(**_lead_counts())}
        for source in LeadSource:
            if source.value in found:
                rows.append(
                    FunnelRow(source.value, str(source.label), _steps(definitions, found[source.value]))
                )
        return rows
    raise ValueError(f"unknown grouping {by!r}")


def project_funnel(scope: Scope) -> list[Step]:
    """Every project in scope (from a lead or entered directly) by the stages it reached (one query)."""
    counts = {stage: Count("pk", filter=_project_reached(stage)) for stage in STAGES}
    found = scope.projects().order_by().aggregate(**counts)
    return _steps(project_step_definitions(), found)


# --- time in stage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    """Days spent in one state or stage: n stints (of which `still` are not over yet), mean, median."""

    key: str
    label: str
    n: int
    still: int
    mean_days: Decimal | None
    median_days: Decimal | None


def _days(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _stage_times(
    keys: list[tuple[str, str]], stints: dict[str, list[float]], still: dict[str, int]
) -> list[StageTime]:
    rows = []
    for key, label in keys:
        values = stints.get(key, [])
        rows.append(
            StageTime(
                key=key,
                label=label,
                n=len(values),
                still=still.get(key, 0),
                mean_days=_days(statistics.fmean(values)) if values else None,
                median_days=_days(statistics.median(values)) if values else None,
            )
        )
    return rows


def lead_time_in_stage(scope: Scope, year: int, now: datetime | None = None) -> list[StageTime]:
    """Days the leads created in `year` spent in 新线索, 接触中 and 洽谈中 (two queries).

    A lead's time in a state is the sum of its stints there; a lead still in an open state counts up
    to `now`, and is counted in `still`.
    """
    now = now or timezone.now()
    leads = _cohort(scope, year).order_by()
    current: dict[int, str] = {}
    # Where each lead is and since when, walked forward through its transitions.
    entered: dict[int, tuple[str, datetime]] = {}
    for pk, status, created_at in leads.values_list("pk", "status", "created_at"):
        current[pk] = status
        entered[pk] = (LeadStatus.NEW.value, created_at)
    spent: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    transitions = (
        LeadTransition.objects.filter(lead__in=leads.values("pk"))
        .order_by("lead_id", "at", "pk")
        .values_list("lead_id", "from_status", "to_status", "at")
    )
    for lead_id, from_status, to_status, at in transitions.iterator(chunk_size=2000):
        _state, since = entered[lead_id]
        spent[lead_id][from_status] += max((at - since).total_seconds(), 0) / 86400
        entered[lead_id] = (to_status, at)
    open_states = {state.value for state in OPEN_LEAD_STATES}
    still: dict[str, int] = defaultdict(int)
    for lead_id, (state, since) in entered.items():
        if current[lead_id] in open_states and state == current[lead_id]:
            spent[lead_id][state] += max((now - since).total_seconds(), 0) / 86400
            still[state] += 1
    stints: dict[str, list[float]] = defaultdict(list)
    for per_state in spent.values():
        for state, days in per_state.items():
            if state in open_states:
                stints[state].append(days)
    keys = [(state.value, str(state.label)) for state in OPEN_LEAD_STATES]
    return _stage_times(keys, stints, still)


def project_time_in_stage(scope: Scope, today: date | None = None) -> list[StageTime]:
    """Days the projects in scope spent in each stage before 达产 (two queries).

    A stage lasts from its reached_on to the next reached stage's; the project's current stage counts
    up to `today` (and in `still`). Dates out of order (a later stage reached earlier) are left out.
    """
    today = today or access.today()
    projects = scope.projects().order_by()
    current = dict(projects.values_list("pk", "stage"))
    reached: dict[int, list[tuple[int, date]]] = defaultdict(list)
    milestones = ProjectMilestone.objects.filter(
        project__in=projects.values("pk"), reached_on__isnull=False
    ).values_list("project_id", "stage", "reached_on")
    for project_id, stage, reached_on in milestones.iterator(chunk_size=2000):
        if reached_on is not None:  # filtered so; the type does not know
            reached[project_id].append((STAGES.index(stage), reached_on))
    stints: dict[str, list[float]] = defaultdict(list)
    still: dict[str, int] = defaultdict(int)
    last = STAGES[-1]
    for project_id, dates in reached.items():
        dates.sort()
        for (index, start), (_next, end) in zip(dates, dates[1:], strict=False):
            if end >= start:
                stints[STAGES[index]].append(float((end - start).days))
        index, start = dates[-1]
        stage = STAGES[index]
        if stage != last and current.get(project_id) == stage and today >= start:
            stints[stage].append(float((today - start).days))
            still[stage] += 1
    keys = [(stage, _stage_label(stage)) for stage in STAGES[:-1]]
    return _stage_times(keys, stints, still)


# --- investment ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvestmentRow:
    """Projects signed in a period (or of a chain), the investment they count, and the money arrived."""

    key: str
    label: str
    signed: int
    counted: Decimal
    arrived: Decimal


def period_labels(by: str) -> list[tuple[int, str]]:
    if by == "month":
        return [(month, _("%(n)d月") % {"n": month}) for month in range(1, 13)]
    if by == "quarter":
        return [(quarter, _("第%(n)d季度") % {"n": quarter}) for quarter in range(1, 5)]
    raise ValueError(f"unknown period {by!r}")


def _signed_milestones(scope: Scope, year: int) -> QuerySet[ProjectMilestone]:
    # One 签约 milestone per project (project_milestone_unique): a project signed at several events
    # is still one row here.
    return ProjectMilestone.objects.filter(
        project__in=scope.projects().values("pk"),
        stage=Stage.SIGNED,
        reached_on__gte=date(year, 1, 1),
        reached_on__lt=date(year + 1, 1, 1),
    ).order_by()


def _arrivals(scope: Scope, year: int) -> QuerySet[CapitalArrival]:
    return CapitalArrival.objects.filter(
        project__in=scope.projects().values("pk"),
        arrived_on__gte=date(year, 1, 1),
        arrived_on__lt=date(year + 1, 1, 1),
    ).order_by()


COUNTED = Sum(F("project__investment_planned") - F("project__investment_base"), output_field=MONEY)


def investment_by_period(scope: Scope, year: int, by: str) -> list[InvestmentRow]:
    """Each month or quarter of `year`, zeros included (two grouped queries)."""
    labels = period_labels(by)
    extract = ExtractMonth if by == "month" else ExtractQuarter
    signed: dict[int, dict[str, Any]] = {
        row["period"]: dict(row)
        for row in _signed_milestones(scope, year)
        .annotate(period=extract("reached_on"))
        .values("period")
        .annotate(signed=Count("project_id", distinct=True), counted=COUNTED)
    }
    arrived = {
        row["period"]: row["arrived"]
        for row in _arrivals(scope, year)
        .annotate(period=extract("arrived_on"))
        .values("period")
        .annotate(arrived=Sum("amount"))
    }
    return [
        InvestmentRow(
            key=str(key),
            label=label,
            signed=signed.get(key, {}).get("signed", 0),
            counted=signed.get(key, {}).get("counted") or ZERO,
            arrived=arrived.get(key) or ZERO,
        )
        for key, label in labels
    ]


def _project_chain(prefix: str = "") -> Coalesce:
    return Coalesce(f"{prefix}chain_id", f"{prefix}node__chain_id", output_field=IntegerField())


def investment_by_chain(scope: Scope, year: int) -> list[InvestmentRow]:
    """The year's signed projects, counted investment and arrived money per chain (three queries)."""
    signed: dict[int | None, dict[str, Any]] = {
        row["chain"]: dict(row)
        for row in _signed_milestones(scope, year)
        .annotate(chain=_project_chain("project__"))
        .values("chain")
        .annotate(signed=Count("project_id", distinct=True), counted=COUNTED)
    }
    arrived = {
        row["chain"]: row["arrived"]
        for row in _arrivals(scope, year)
        .annotate(chain=_project_chain("project__"))
        .values("chain")
        .annotate(arrived=Sum("amount"))
    }
    keys = set(signed) | set(arrived)
    names = dict(
        IndustryChain.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "name")
    )
    ordered = sorted(keys, key=lambda k: (k is None, names.get(k, "") if k is not None else ""))
    return [
        InvestmentRow(
            key=str(key) if key is not None else NO_CHAIN,
            label=names.get(key, "") if key is not None else _no_chain_label(),
            signed=signed.get(key, {}).get("signed", 0),
            counted=signed.get(key, {}).get("counted") or ZERO,
            arrived=arrived.get(key) or ZERO,
        )
        for key in ordered
    ]


def total(rows: list[InvestmentRow]) -> InvestmentRow:
    return InvestmentRow(
        key="total",
        label=_("合计"),
        signed=sum(row.signed for row in rows),
        counted=sum((row.counted for row in rows), ZERO),
        arrived=sum((row.arrived for row in rows), ZERO),
    )


# --- everything the page shows -----------------------------------------------------------------------


@dataclass
class Figures:
    """The pipeline page's figures, computed once for the page and for its export."""

    scope: Scope
    year: int
    by: str
    lead_funnel: list[Step]
    project_funnel: list[Step]
    by_chain: list[FunnelRow]
    by_source: list[FunnelRow]
    lead_times: list[StageTime]
    project_times: list[StageTime]
    investment: list[InvestmentRow]
    investment_total: InvestmentRow
    investment_chains: list[InvestmentRow]
    investment_chains_total: InvestmentRow


def figures(scope: Scope, year: int, by: str = "month", *, now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    periods = investment_by_period(scope, year, by)
    chains = investment_by_chain(scope, year)
    return Figures(
        scope=scope,
        year=year,
        by=by,
        lead_funnel=lead_funnel(scope, year),
        project_funnel=project_funnel(scope),
        by_chain=lead_funnel_by(scope, year, "chain"),
        by_source=lead_funnel_by(scope, year, "source"),
        lead_times=lead_time_in_stage(scope, year, now),
        project_times=project_time_in_stage(scope, timezone.localdate(now)),
        investment=periods,
        investment_total=total(periods),
        investment_chains=chains,
        investment_chains_total=total(chains),
    )


# --- the investment home --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeFigures:
    """The investment home's key figures."""

    open_leads: int
    stages: list[tuple[str, str, int]]  # (stage, label, projects now in it): 七个一批
    projects: int
    signed: int
    signed_counted: Decimal
    arrived: Decimal
    overdue_milestones: int
    year: int


def home_figures(scope: Scope, day: date | None = None) -> HomeFigures:
    """Open leads, projects per stage, this year's signed and arrived money, overdue milestones (five queries)."""
    day = day or access.today()
    open_leads = scope.leads().filter(status__in=OPEN_LEAD_STATES).count()
    per_stage = dict(
        scope.projects().order_by().values("stage").annotate(n=Count("pk")).values_list("stage", "n")
    )
    signed = _signed_milestones(scope, day.year).aggregate(
        signed=Count("project_id", distinct=True), counted=COUNTED
    )
    arrived = _arrivals(scope, day.year).aggregate(arrived=Sum("amount"))["arrived"] or ZERO
    overdue = ProjectMilestone.objects.filter(
        project__in=scope.projects().values("pk"), reached_on__isnull=True, promised_on__lt=day
    ).count()
    stages = [(stage, _stage_label(stage), per_stage.get(stage, 0)) for stage in STAGES]
    return HomeFigures(
        open_leads=open_leads,
        stages=stages,
        projects=sum(n for _stage, _label, n in stages),
        signed=signed["signed"] or 0,
        signed_counted=signed["counted"] or ZERO,
        arrived=arrived,
        overdue_milestones=overdue,
        year=day.year,
    )


# --- the projects list for export -----------------------------------------------------------------------


def projects_for_export(scope: Scope, stage: str = "") -> QuerySet[Project]:
    """The projects in scope (of a stage when given) with counted investment and arrived money (two
    queries with their milestones)."""
    arrived = (
        CapitalArrival.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    projects = scope.projects()
    if stage:
        projects = projects.filter(stage=stage)
    return (
        projects.select_related("zone", "chain", "node__chain", "owner", "lead")
        .prefetch_related("milestones")
        .annotate(
            counted=F("investment_planned") - F("investment_base"),
            arrived_total=Coalesce(Subquery(arrived, output_field=MONEY), Value(ZERO), output_field=MONEY),
        )
        .order_by("zone_id", "-created_at", "-pk")
    )


def milestone_flag(promised_on: date | None, reached_on: date | None, day: date) -> str:
    """已逾期: promised, passed, not reached; 延迟达成: reached after the promised date."""
    if promised_on is None:
        return ""
    if reached_on is None:
        return _("已逾期") if promised_on < day else ""
    return _("延迟达成") if reached_on > promised_on else ""
