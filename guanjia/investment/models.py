"""Investment promotion along the industry chain (产业链招商): chains and their nodes, the target library,
leads, projects (七个一批) with their approval agency (审批代办), and financing matchmaking (投融资对接).

Every row belongs to one zone (directly, or through its chain, project or enterprise); the promoters
(招商专员) and leaders of a zone read it, the promoters write it. Amounts are in 万元, land in 亩.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership, Scale

# Who reads the investment data of its zones (the pipeline, chains, leads, projects, funds).
INVESTMENT_READERS = frozenset({Role.PROMOTER, Role.LEADER})
# Who writes it: leads, projects, approval agency, funds and matchmaking.
INVESTMENT_KEEPERS = frozenset({Role.PROMOTER})

ZERO = Decimal("0")


def _money(label: Any, **options: Any) -> models.DecimalField:
    """An amount in 万元."""
    return models.DecimalField(label, max_digits=14, decimal_places=2, **options)


def _zone_field(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name=related_name,
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )


def _reads_investment(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_any_role(INVESTMENT_READERS)
    )


class ZoneScopedQuerySet(models.QuerySet):
    """Rows of a zone: the promoters and leaders of that zone (or of its city) see them."""

    zone_path = "zone_id"

    def visible_to(self, user: User | None):  # noqa: ANN201 - the subclass's own queryset
        if not _reads_investment(user):
            return self.none()
        assert user is not None
        return self.filter(**{f"{self.zone_path}__in": user.zone_ids()})


# --- industry chains -------------------------------------------------------------------------------


class Segment(models.TextChoices):
    UPSTREAM = "up", _("上游")
    MIDSTREAM = "mid", _("中游")
    DOWNSTREAM = "down", _("下游")


class Strength(models.TextChoices):
    """A node's local strength: computed from the enterprises placed on it, never stored."""

    STRONG = "strong", _("强")
    WEAK = "weak", _("弱")
    MISSING = "missing", _("缺失")


class IndustryChain(models.Model):
    """A leading industry of a zone (e.g. 新能源) mapped as a tree of nodes."""

    zone = _zone_field("industry_chains")
    name = models.CharField(_("产业链名称"), max_length=50)
    description = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("产业链")
        verbose_name_plural = _("产业链")
        ordering = ["zone_id", "name"]
        constraints = [models.UniqueConstraint(fields=["zone", "name"], name="industry_chain_name_unique")]

    def __str__(self) -> str:
        return self.name


class ChainNodeQuerySet(ZoneScopedQuerySet):
    zone_path = "chain__zone_id"


class ChainNode(models.Model):
    """A link of a chain (链环节): a product or process in the up-, mid- or downstream segment."""

    chain = models.ForeignKey(IndustryChain, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级环节"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    name = models.CharField(_("环节名称"), max_length=50)
    segment = models.CharField(_("链段"), max_length=4, choices=Segment.choices)
    position = models.PositiveIntegerField(_("排序"), default=0)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    objects = ChainNodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("链环节")
        verbose_name_plural = _("链环节")
        ordering = ["chain_id", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["chain", "name"], name="chain_node_name_unique")]

    def __str__(self) -> str:
        return self.name


class NodePlacementQuerySet(ZoneScopedQuerySet):
    zone_path = "node__chain__zone_id"


class NodePlacement(models.Model):
    """A local enterprise placed on a node; a 龙头 (leader) weighs most in the node's strength."""

    node = models.ForeignKey(ChainNode, on_delete=models.CASCADE, related_name="placements")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        related_name="chain_placements",
    )
    is_leader = models.BooleanField(_("龙头企业"), default=False)
    placed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)

    objects = NodePlacementQuerySet.as_manager()

    class Meta:
        verbose_name = _("链上企业")
        verbose_name_plural = _("链上企业")
        constraints = [models.UniqueConstraint(fields=["node", "enterprise"], name="node_placement_unique")]
        indexes = [models.Index(fields=["enterprise"], name="node_placement_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.node_id} ← {self.enterprise_id}"


# --- the target library ----------------------------------------------------------------------------


class Target(models.Model):
    """A company outside the zone that could fill a link (招商目标企业库)."""

    zone = _zone_field("investment_targets")
    name = models.CharField(_("企业名称"), max_length=200)
    # Known for most Chinese companies, not for foreign ones; unique in the zone's library when given.
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    headquarters = models.CharField(_("总部所在地"), max_length=100, blank=True)
    scale = models.CharField(_("企业规模"), max_length=10, choices=Scale.choices, default=Scale.MEDIUM)
    listed = models.BooleanField(_("上市企业"), default=False)
    stock_code = models.CharField(_("股票代码"), max_length=20, blank=True)
    nodes = models.ManyToManyField(ChainNode, verbose_name=_("覆盖环节"), blank=True, related_name="targets")
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("目标企业")
        verbose_name_plural = _("目标企业")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "name"], name="investment_target_name_unique"),
            models.UniqueConstraint(
                fields=["zone", "uscc"], condition=~Q(uscc=""), name="investment_target_uscc_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- leads -----------------------------------------------------------------------------------------


class LeadSource(models.TextChoices):
    SECONDED_CADRE = "seconded_cadre", _("挂职干部")
    FUND = "fund", _("基金")
    ASSOCIATION = "association", _("商协会")
    REFERRAL = "referral", _("以商招商")
    AGENCY = "agency", _("中介")
    EXPO = "expo", _("展会")
    OTHER = "other", _("其他")


class LeadStatus(models.TextChoices):
    NEW = "new", _("新线索")
    CONTACTING = "contacting", _("接触中")
    NEGOTIATING = "negotiating", _("洽谈中")
    CONVERTED = "converted", _("转为项目")
    ABANDONED = "abandoned", _("放弃")


class Lead(models.Model):
    """A lead (招商线索): a target company, the node it would fill, where the lead came from, its owner."""

    zone = _zone_field("leads")
    target = models.ForeignKey(
        Target, verbose_name=_("目标企业"), on_delete=models.PROTECT, related_name="leads"
    )
    node = models.ForeignKey(
        ChainNode,
        verbose_name=_("链环节"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    source = models.CharField(_("线索来源"), max_length=20, choices=LeadSource.choices)
    source_detail = models.CharField(_("来源说明"), max_length=200, blank=True)
    owner = models.ForeignKey(
        User, verbose_name=_("招商专员"), on_delete=models.PROTECT, related_name="leads"
    )
    status = models.CharField(_("状态"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    abandon_reason = models.CharField(_("放弃原因"), max_length=200, blank=True)
    summary = models.TextField(_("线索说明"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("招商线索")
        verbose_name_plural = _("招商线索")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["zone", "status"], name="lead_zone_status_idx"),
            models.Index(fields=["owner", "status"], name="lead_owner_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="abandoned") | ~Q(abandon_reason=""), name="lead_abandon_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.get_status_display()}"


class LeadContact(models.Model):
    """A person at the target company the promoter deals with."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("联系人"), max_length=50)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)

    class Meta:
        verbose_name = _("线索联系人")
        verbose_name_plural = _("线索联系人")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class LeadLog(models.Model):
    """One contact with the target (接洽记录): when, how, what was said."""

    class Mode(models.TextChoices):
        VISIT = "visit", _("上门拜访")
        MEETING = "meeting", _("来访洽谈")
        PHONE = "phone", _("电话")
        VIDEO = "video", _("视频")
        EVENT = "event", _("活动对接")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="logs")
    happened_on = models.DateField(_("日期"))
    mode = models.CharField(_("方式"), max_length=10, choices=Mode.choices)
    summary = models.TextField(_("内容"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("接洽记录")
        verbose_name_plural = _("接洽记录")
        ordering = ["-happened_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.happened_on}"


class LeadTransition(models.Model):
    """A lead's move from one state to another: the time-in-stage figures read these."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=LeadStatus.choices)
    to_status = models.CharField(max_length=12, choices=LeadStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["lead", "at"], name="lead_transition_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.from_status}→{self.to_status}"


# --- projects (七个一批) -----------------------------------------------------------------------------


class Stage(models.TextChoices):
    """The seven stages of a project, in order (谋划一批、洽谈一批、签约一批、开工一批、建设一批、投产一批、达产一批)."""

    PLANNING = "planning", _("谋划")
    NEGOTIATING = "negotiating", _("洽谈")
    SIGNED = "signed", _("签约")
    STARTED = "started", _("开工")
    BUILDING = "building", _("建设")
    PRODUCING = "producing", _("投产")
    AT_CAPACITY = "at_capacity", _("达产")


STAGES: tuple[str, ...] = tuple(Stage.values)


def stage_index(stage: str) -> int:
    return STAGES.index(stage)


class ProjectKind(models.TextChoices):
    NEW = "new", _("新建项目")
    # 增资扩股: an enterprise already here invests more; only the increment counts.
    CAPITAL_INCREASE = "increase", _("增资扩股")


class ProjectType(models.TextChoices):
    """Sets the approval checklist a signed project gets."""

    INDUSTRIAL = "industrial", _("工业项目")
    SERVICE = "service", _("服务业项目")
    RESEARCH = "research", _("研发平台项目")


class Project(models.Model):
    """An investment project (招商项目), from a lead or entered directly, through the seven stages."""

    zone = _zone_field("projects")
    name = models.CharField(_("项目名称"), max_length=200)
    lead = models.OneToOneField(
        Lead,
        verbose_name=_("来源线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="project",
    )
    target = models.ForeignKey(
        Target,
        verbose_name=_("投资方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    chain = models.ForeignKey(
        IndustryChain,
        verbose_name=_("产业链"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    node = models.ForeignKey(
        ChainNode,
        verbose_name=_("链环节"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    source = models.CharField(
        _("线索来源"), max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER
    )
    kind = models.CharField(
        _("项目性质"), max_length=10, choices=ProjectKind.choices, default=ProjectKind.NEW
    )
    project_type = models.CharField(
        _("项目类型"), max_length=12, choices=ProjectType.choices, default=ProjectType.INDUSTRIAL
    )
    # A capital increase names the enterprise that invests; a new project, once registered, its new enterprise.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("项目企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="investment_projects",
    )
    stage = models.CharField(_("阶段"), max_length=12, choices=Stage.choices, default=Stage.PLANNING)
    stage_changed_at = models.DateTimeField(_("进入当前阶段时间"), default=timezone.now)
    investment_planned = _money(_("计划总投资（万元）"), default=ZERO, validators=[MinValueValidator(ZERO)])
    # 增资扩股: the investment already made before this increase; the project counts planned − base.
    investment_base = _money(_("增资前已投资（万元）"), default=ZERO, validators=[MinValueValidator(ZERO)])
    land_mu = models.DecimalField(_("用地（亩）"), max_digits=10, decimal_places=2, default=ZERO)
    expected_output = _money(_("达产后年产值（万元）"), default=ZERO)
    expected_tax = _money(_("达产后年税收（万元）"), default=ZERO)
    owner = models.ForeignKey(
        User, verbose_name=_("招商专员"), on_delete=models.PROTECT, related_name="projects"
    )
    agent = models.ForeignKey(
        User,
        verbose_name=_("代办员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agency_projects",
    )
    description = models.TextField(_("项目概况"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("招商项目")
        verbose_name_plural = _("招商项目")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["zone", "stage"], name="project_zone_stage_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(investment_planned__gte=F("investment_base")),
                name="project_increment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind="increase") | Q(investment_base=0), name="project_base_only_for_increase"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def investment_counted(self) -> Decimal:
        """What this project adds to the zone's figures: a capital increase only its increment."""
        return self.investment_planned - self.investment_base


class ProjectMilestone(models.Model):
    """One stage of one project: the date it was reached and the date the agreement promised."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    stage = models.CharField(_("阶段"), max_length=12, choices=Stage.choices)
    promised_on = models.DateField(_("约定日期"), null=True, blank=True)
    reached_on = models.DateField(_("实际日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        constraints = [models.UniqueConstraint(fields=["project", "stage"], name="project_milestone_unique")]
        indexes = [
            # The overdue list: promised, not reached.
            models.Index(
                fields=["promised_on"], condition=Q(reached_on__isnull=True), name="milestone_overdue_idx"
            ),
            models.Index(fields=["stage", "reached_on"], name="milestone_reached_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.stage}"


class ProjectSigning(models.Model):
    """A signing ceremony a project appeared at; a project signed at several events still counts once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="signings")
    event = models.CharField(_("签约活动"), max_length=100)
    signed_on = models.DateField(_("签约日期"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("签约记录")
        verbose_name_plural = _("签约记录")
        ordering = ["signed_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "event"], name="project_signing_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.event}"


class CapitalArrival(models.Model):
    """Money that arrived (到资) for a project; the arrived total is the sum of these."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="arrivals")
    arrived_on = models.DateField(_("到资日期"))
    amount = _money(_("到资金额（万元）"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("到资记录")
        verbose_name_plural = _("到资记录")
        ordering = ["arrived_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="capital_arrival_positive")]
        indexes = [models.Index(fields=["arrived_on"], name="capital_arrival_on_idx")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.arrived_on} {self.amount}"


class ProjectEvent(models.Model):
    """A project's stage move or correction: who, when, from, to, why."""

    class Kind(models.TextChoices):
        CREATE = "create", _("创建")
        ADVANCE = "advance", _("推进")
        CORRECT = "correct", _("更正")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.from_stage}→{self.to_stage}"


# --- approval agency (审批代办) ----------------------------------------------------------------------


class ApprovalTemplateItem(models.Model):
    """One item of the approval checklist a signed project of a type gets."""

    project_type = models.CharField(_("项目类型"), max_length=12, choices=ProjectType.choices)
    name = models.CharField(_("审批事项"), max_length=50)
    statutory_days = models.PositiveIntegerField(_("法定时限（工作日）"))
    promised_days = models.PositiveIntegerField(_("承诺时限（工作日）"))
    position = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("审批事项模板")
        verbose_name_plural = _("审批事项模板")
        ordering = ["project_type", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project_type", "name"], name="approval_template_item_unique"),
            models.CheckConstraint(
                condition=Q(promised_days__lte=F("statutory_days")),
                name="approval_template_promise_within_law",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalItem(models.Model):
    """An approval a signed project needs, handled by its agent: statutory, promised and actual working days."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="approvals")
    name = models.CharField(_("审批事项"), max_length=50)
    statutory_days = models.PositiveIntegerField(_("法定时限（工作日）"))
    promised_days = models.PositiveIntegerField(_("承诺时限（工作日）"))
    position = models.PositiveIntegerField(default=0)
    started_on = models.DateField(_("受理日期"), null=True, blank=True)
    # The promised date: promised_days working days after started_on.
    promised_by = models.DateField(_("承诺办结日期"), null=True, blank=True)
    finished_on = models.DateField(_("办结日期"), null=True, blank=True)
    # Working days from started_on (excluded) to finished_on (included), set when finished.
    actual_days = models.PositiveIntegerField(_("实际用时（工作日）"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("审批代办事项")
        verbose_name_plural = _("审批代办事项")
        ordering = ["project_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="approval_item_unique"),
            models.CheckConstraint(
                condition=Q(finished_on__isnull=True) | Q(started_on__isnull=False),
                name="approval_item_started_before_finished",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- funds and financing matchmaking (投融资对接) ----------------------------------------------------


class InvestmentStage(models.TextChoices):
    """The round an enterprise raises, and the rounds a fund invests in."""

    SEED = "seed", _("种子期")
    ANGEL = "angel", _("天使轮")
    EARLY = "early", _("A轮")
    GROWTH = "growth", _("B/C轮")
    PRE_IPO = "pre_ipo", _("Pre-IPO")
    BUYOUT = "buyout", _("并购")


class FinancingKind(models.TextChoices):
    EQUITY = "equity", _("股权融资")
    DEBT = "debt", _("债权融资")
    LOAN = "loan", _("银行贷款")


class Fund(models.Model):
    """An industrial fund (产业基金) the zone works with: its manager, size, focus and ticket range."""

    zone = _zone_field("funds")
    name = models.CharField(_("基金名称"), max_length=100)
    manager = models.CharField(_("基金管理人"), max_length=100)
    size = _money(_("基金规模（万元）"), validators=[MinValueValidator(ZERO)])
    focus_chains = models.ManyToManyField(
        IndustryChain, verbose_name=_("关注产业链"), blank=True, related_name="funds"
    )
    focus_nodes = models.ManyToManyField(
        ChainNode, verbose_name=_("关注环节"), blank=True, related_name="funds"
    )
    # InvestmentStage values the fund invests in, and FinancingKind values it provides.
    stages = models.JSONField(_("投资阶段"), default=list)
    kinds = models.JSONField(_("投资方式"), default=list)
    ticket_min = _money(_("单笔投资下限（万元）"), default=ZERO)
    ticket_max = _money(_("单笔投资上限（万元）"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("产业基金")
        verbose_name_plural = _("产业基金")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "name"], name="fund_name_unique"),
            models.CheckConstraint(
                condition=Q(ticket_max__gte=F("ticket_min")), name="fund_ticket_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FinancingNeedStatus(models.TextChoices):
    OPEN = "open", _("对接中")
    FULFILLED = "fulfilled", _("已融资")
    WITHDRAWN = "withdrawn", _("已撤回")


class FinancingNeedQuerySet(models.QuerySet["FinancingNeed"]):
    def visible_to(self, user: User | None) -> FinancingNeedQuerySet:
        """Promoters and leaders see their zones' needs; an enterprise user its own enterprise's; a steward
        those of the enterprises it serves."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = Q(pk__in=[])
        if user.has_any_role(INVESTMENT_READERS):
            conditions |= Q(enterprise__zone_id__in=user.zone_ids())
        if user.has_role(Role.STEWARD):
            conditions |= Q(enterprise__steward=user)
        if user.has_role(Role.ENTERPRISE_USER):
            conditions |= Q(
                enterprise_id__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values(
                    "enterprise_id"
                )
            )
        return self.filter(conditions)


class FinancingNeed(models.Model):
    """An enterprise's financing need (融资需求), posted by the enterprise or by a promoter for it."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="financing_needs",
    )
    amount = _money(_("融资金额（万元）"))
    kind = models.CharField(_("融资方式"), max_length=10, choices=FinancingKind.choices)
    stage = models.CharField(_("融资轮次"), max_length=10, choices=InvestmentStage.choices, blank=True)
    purpose = models.CharField(_("资金用途"), max_length=200)
    needed_by = models.DateField(_("需求时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=FinancingNeedStatus.choices, default=FinancingNeedStatus.OPEN
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = FinancingNeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="financing_need_positive")]
        indexes = [models.Index(fields=["enterprise", "status"], name="financing_need_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.amount}"


class Roadshow(models.Model):
    """A roadshow (路演): enterprises present to funds."""

    zone = _zone_field("roadshows")
    title = models.CharField(_("路演名称"), max_length=100)
    held_on = models.DateField(_("举办日期"))
    location = models.CharField(_("地点"), max_length=100, blank=True)
    funds = models.ManyToManyField(Fund, verbose_name=_("参会基金"), blank=True, related_name="roadshows")
    needs = models.ManyToManyField(
        FinancingNeed, verbose_name=_("路演企业的融资需求"), blank=True, related_name="roadshows"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ZoneScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("路演活动")
        verbose_name_plural = _("路演活动")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class FinancingOutcome(models.Model):
    """Money invested in an enterprise through matchmaking: by which fund, for which need, after which roadshow."""

    need = models.ForeignKey(FinancingNeed, on_delete=models.PROTECT, related_name="outcomes")
    fund = models.ForeignKey(
        Fund,
        verbose_name=_("出资基金"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcomes",
    )
    investor = models.CharField(_("出资方（非基金时）"), max_length=100, blank=True)
    roadshow = models.ForeignKey(
        Roadshow,
        verbose_name=_("路演"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outcomes",
    )
    amount = _money(_("投资金额（万元）"))
    invested_on = models.DateField(_("投资日期"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("对接成果")
        verbose_name_plural = _("对接成果")
        ordering = ["-invested_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="financing_outcome_positive"),
            models.CheckConstraint(
                condition=Q(fund__isnull=False) | ~Q(investor=""), name="financing_outcome_has_investor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need_id} {self.amount}"
