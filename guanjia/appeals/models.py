"""Appeal categories (诉求类别) and the zones' routing tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency


class Handling(models.TextChoices):
    """How much work an answer takes; with urgency it sets the answer's time limit."""

    CONSULT = "consult", _("咨询")
    NORMAL = "normal", _("一般")
    COMPLEX = "complex", _("复杂")


def _days(label: StrOrPromise, default: int, maximum: int = 60) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(maximum)]
    )


class AppealCategory(models.Model):
    """A node of the category tree; its time limits are in working days (DESIGN.md defaults)."""

    name = models.CharField(_("名称"), max_length=50)
    code = models.SlugField(_("编码"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    accept_days = _days(_("受理时限"), 1)
    sign_days = _days(_("签收时限"), 1)
    answer_days_consult = _days(_("答复时限·咨询"), 3)
    answer_days_normal = _days(_("答复时限·一般"), 5)
    answer_days_complex = _days(_("答复时限·复杂"), 15)
    answer_days_urgent = _days(_("答复时限·紧急"), 1)
    extension_max_days = models.PositiveSmallIntegerField(
        _("延期上限（合计）"), default=30, validators=[MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name

    def answer_days(self, handling: str, *, urgent: bool) -> int:
        """Working days to answer: 紧急 overrides the handling class."""
        if urgent:
            return self.answer_days_urgent
        return {
            Handling.CONSULT: self.answer_days_consult,
            Handling.NORMAL: self.answer_days_normal,
            Handling.COMPLEX: self.answer_days_complex,
        }[Handling(handling)]


class CategoryRoute(models.Model):
    """The routing table: in this zone, appeals of this category go first to this lead department."""

    category = models.ForeignKey(AppealCategory, on_delete=models.CASCADE, related_name="routes")
    zone = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    lead_department = models.ForeignKey(
        OrgUnit, verbose_name=_("默认主办部门"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "zone"], name="one_route_per_category_zone")
        ]

    def __str__(self) -> str:
        return f"{self.zone} · {self.category} → {self.lead_department}"


class Channel(models.TextChoices):
    PORTAL = "portal", _("企业门户")
    STEWARD = "steward", _("管家代报")
    PHONE = "phone", _("电话/12345 转办")
    API = "api", _("接口")


class Status(models.TextChoices):
    """The appeal lifecycle of DESIGN.md; the allowed moves are services.TRANSITIONS."""

    SUBMITTED = "submitted", _("待受理")
    DISPATCHED = "dispatched", _("已交办")
    SIGNED = "signed", _("办理中")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")
    DECLINED = "declined", _("不予受理")
    RETURNED = "returned", _("已退回")
    WAITING = "waiting", _("待补充材料")
    MERGED = "merged", _("已合并")


OPEN_STATUSES = (Status.SUBMITTED, Status.DISPATCHED, Status.SIGNED, Status.RETURNED, Status.WAITING)


class Outcome(models.TextChoices):
    SOLVED = "solved", _("已解决")
    PARTLY = "partly", _("部分解决")
    EXPLAINED = "explained", _("已答复未解决")
    PLANNED = "planned", _("纳入计划")


class RatingLevel(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    FAIRLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


class AppealQuerySet(models.QuerySet["Appeal"]):
    def visible_to(self, user: User | None) -> AppealQuerySet:
        """The one entry point for reading appeals: what `user` may see (DESIGN.md roles)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        conditions = models.Q(pk__in=[])
        if user.has_any_role({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}):
            conditions |= models.Q(zone_id__in=user.zone_ids())
        if user.has_role(Role.STEWARD):
            conditions |= models.Q(enterprise__steward=user)
        if user.has_role(Role.ENTERPRISE_USER):
            conditions |= models.Q(
                enterprise__in=EnterpriseMembership.objects.filter(user=user, is_active=True).values(
                    "enterprise_id"
                )
            )
        if user.has_any_role({Role.HANDLER, Role.DEPARTMENT_HEAD}) and user.unit_id:
            # A department sees every appeal it was ever given, whatever the appeal's state now, and
            # the duplicates merged into them: its answer is theirs, and it may dispute their ratings.
            given = Assignment.objects.filter(department_id=user.unit_id).values("appeal_id")
            conditions |= models.Q(pk__in=given) | models.Q(master_id__in=given)
        return self.filter(conditions)


class Appeal(models.Model):
    """A must-answer question (必答题) of one enterprise. Its status is written by services only."""

    zone = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="appeals")
    category = models.ForeignKey(
        AppealCategory,
        verbose_name=_("诉求类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("诉求内容"))
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices)
    handling = models.CharField(
        _("办理类型"), max_length=10, choices=Handling.choices, default=Handling.NORMAL
    )
    urgent = models.BooleanField(_("紧急"), default=False)
    confidential = models.BooleanField(_("对承办部门隐去企业身份"), default=False)
    external_ticket = models.CharField(_("外部工单号"), max_length=40, blank=True)
    external_due = models.DateTimeField(_("外部办理期限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    version = models.PositiveIntegerField(default=1)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))
    accept_due = models.DateTimeField(_("受理期限"))
    accept_due_provisional = models.BooleanField(default=False)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decline_reason = models.TextField(_("不予受理理由"), blank=True)
    decline_advice = models.TextField(_("办理建议"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    rate_due = models.DateTimeField(_("评价期限"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # 合并: a duplicate mirrors its master until the master is answered, then goes on alone.
    master = models.ForeignKey(
        "self",
        verbose_name=_("主诉求"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)
    # 领导协调 after the second reopen: the leader's decision; the next answer is final.
    coordination = models.TextField(_("领导协调意见"), blank=True)
    coordinated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    coordinated_at = models.DateTimeField(_("协调时间"), null=True, blank=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        indexes = [
            models.Index(fields=["zone", "status", "accept_due"], name="appeal_queue_idx"),
            models.Index(fields=["enterprise", "submitted_at"], name="appeal_enterprise_idx"),
            # The appeals a department holds: without it PostgreSQL reads every appeal to find the
            # few thousand in hand when the sweep and the 督办看板 join them to their assignments.
            models.Index(
                fields=["status"],
                name="appeal_in_hand_idx",
                condition=models.Q(status__in=["dispatched", "signed", "waiting"]),
            ),
            # The same appeals with what the worklists and the 督办看板 read of them: PostgreSQL then
            # joins thousands of assignments to their appeal's zone and status from this small index
            # alone, where appeal_queue_idx lacks the id and the table costs a page per appeal.
            # (SQLite reads appeal_queue_idx and the table's rowid instead; this one costs it little.)
            models.Index(
                fields=["id", "zone", "status"],
                name="appeal_in_hand_cover_idx",
                condition=models.Q(status__in=["dispatched", "signed", "waiting"]),
            ),
            models.Index(
                fields=["rate_due"],
                name="appeal_rate_wait_idx",
                condition=models.Q(status__in=["answered", "declined"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class Assignment(models.Model):
    """承办记录: one department's obligation on one appeal, created by each dispatch and reopen.

    Deadlines are never overwritten: the KPIs read these rows only.
    """

    class Kind(models.TextChoices):
        DISPATCH = "dispatch", _("交办")
        REDISPATCH = "redispatch", _("退回后重新交办")
        REOPEN = "reopen", _("重办")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="assignments")
    is_lead = models.BooleanField(_("主办"), default=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DISPATCH)
    is_current = models.BooleanField(default=True)
    dispatched_at = models.DateTimeField(_("交办时间"))
    sign_due = models.DateTimeField(_("签收期限"))
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    # answer_due is the deadline in force (extensions and pauses applied); the first one stays in
    # original_answer_due, and each Extension and Pause row keeps what moved it.
    answer_due = models.DateTimeField(_("答复期限"))
    original_answer_due = models.DateTimeField(_("原答复期限"))
    answer_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"))
    paused_days = models.PositiveSmallIntegerField(_("暂停工作日"), default=0)
    extension_days = models.PositiveSmallIntegerField(_("已批准延期工作日"), default=0)
    provisional = models.BooleanField(_("期限为临时计算"), default=False)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("答复结果"), max_length=10, choices=Outcome.choices, blank=True)
    answer = models.TextField(_("答复内容"), blank=True)
    # An answer waiting for the department head's approval (a step inside 办理中, not a state).
    draft_answer = models.TextField(_("待审核答复"), blank=True)
    draft_outcome = models.CharField(_("待审核答复结果"), max_length=10, choices=Outcome.choices, blank=True)
    drafted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("承办记录")
        verbose_name_plural = _("承办记录")
        indexes = [
            # A department's worklist by deadline, and the overdue sweep over open rows only.
            models.Index(fields=["department", "is_current", "answer_due"], name="assignment_worklist_idx"),
            models.Index(
                fields=["answer_due"],
                name="assignment_open_due_idx",
                condition=models.Q(is_current=True, answered_at__isnull=True),
            ),
            # The open rows only (worklists.py): a department's tabs by deadline, without reading
            # the closed history the worklist index above also holds. The columns after answer_due
            # make it covering: the tab badges count thousands of rows from the index alone. Both
            # databases want every column the query names: SQLite even is_current and answered_at,
            # constant here; PostgreSQL the id, which SQLite has in every index anyway.
            models.Index(
                fields=[
                    "department",
                    "answer_due",
                    "appeal",
                    "is_lead",
                    "signed_at",
                    "returned_at",
                    "is_current",
                    "answered_at",
                    "id",
                ],
                name="assignment_dept_open_idx",
                condition=models.Q(is_current=True, answered_at__isnull=True),
            ),
            # The open lead row of each appeal, covering what the 督办看板 filters, sorts and counts
            # by (as above): the board joins a zone's appeals in hand to it without reading a single
            # assignment row.
            models.Index(
                fields=[
                    "appeal",
                    "department",
                    "answer_due",
                    "sign_due",
                    "signed_at",
                    "is_current",
                    "is_lead",
                    "answered_at",
                    "id",
                ],
                name="assignment_lead_open_idx",
                condition=models.Q(is_current=True, is_lead=True, answered_at__isnull=True),
            ),
            # Unsigned open rows by sign deadline: the sweep's 签收催办 and the 督办看板 ...
            models.Index(
                fields=["sign_due"],
                name="assignment_unsigned_due_idx",
                condition=models.Q(is_current=True, answered_at__isnull=True, signed_at__isnull=True),
            ),
            # ... and a department's 待签收 tab.
            models.Index(
                fields=["department", "sign_due"],
                name="assignment_dept_unsigned_idx",
                condition=models.Q(is_current=True, answered_at__isnull=True, signed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.department}"


class AppealEvent(models.Model):
    """One step of an appeal's timeline: who, when, from, to, note. Written with the transition."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.action}"


class Rating(models.Model):
    """评价 of one answer (or decline): by the enterprise, or recorded for it at a return visit."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="ratings")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(_("评价"), choices=RatingLevel.choices)
    solved = models.BooleanField(_("问题是否解决"))
    comment = models.TextField(_("意见"), blank=True)
    rated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(_("回访代录"), default=False)
    at = models.DateTimeField()
    # 申诉复核: a supervisor's decision replaces the level in the final-satisfaction KPIs.
    reviewed_level = models.PositiveSmallIntegerField(
        _("复核后评价"), choices=RatingLevel.choices, null=True, blank=True
    )

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_level_display()}"

    @property
    def dissatisfied(self) -> bool:
        return self.level <= RatingLevel.DISSATISFIED


class Escalation(models.Model):
    """督办 of one assignment: by the sweep at a deadline, or by a supervisor's hand.

    The sweep's levels happen once per assignment and deadline, however often or
    concurrently it runs: the partial unique constraint is the guard, and the
    notifications are written in the same transaction as the row. The constraint
    includes the deadline's value (`due`): an approved extension or a pause that
    moves answer_due starts the levels again for the new deadline. A supervisor's
    督办 (`manual`) may be repeated, so it is left out of the constraint.
    """

    class Level(models.TextChoices):
        WARNING = "warning", _("预警")
        YELLOW = "yellow", _("催办")
        RED = "red", _("红牌")
        LEADER = "leader", _("领导协调")
        MANUAL = "manual", _("人工督办")

    class Deadline(models.TextChoices):
        ANSWER = "answer", _("答复期限")
        SIGN = "sign", _("签收期限")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="escalations")
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="escalations")
    level = models.CharField(_("督办级别"), max_length=10, choices=Level.choices)
    deadline = models.CharField(
        _("所督期限"), max_length=10, choices=Deadline.choices, default=Deadline.ANSWER
    )
    due = models.DateTimeField(_("期限"), null=True, blank=True)
    created_at = models.DateTimeField(_("督办时间"))
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("督办意见"), blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "deadline", "level", "due"],
                condition=~models.Q(level="manual"),
                name="escalation_once_per_due",
            )
        ]
        indexes = [
            models.Index(fields=["appeal", "created_at"], name="escalation_appeal_idx"),
            # The weekly briefing reads the red cards of a period.
            models.Index(fields=["level", "created_at"], name="escalation_level_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_level_display()}"


class Pause(models.Model):
    """补充材料: the department waits for the enterprise; the clock stops (≤2 per assignment, ≤5 working days)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="pauses")
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="pauses")
    request = models.TextField(_("所需材料"))
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("暂停时间"))
    resume_by = models.DateTimeField(_("最迟恢复时间"))
    resumed_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    resumed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reply = models.TextField(_("补充说明"), blank=True)
    working_days = models.PositiveSmallIntegerField(_("暂停工作日"), null=True, blank=True)

    class Meta:
        verbose_name = _("补充材料")
        verbose_name_plural = _("补充材料")
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(
                fields=["resume_by"], name="pause_open_idx", condition=models.Q(resumed_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} 补充材料"


class Extension(models.Model):
    """延期: asked by the department, decided by a supervisor; approved days move answer_due."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        DENIED = "denied", _("未批准")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("延期工作日"), validators=[MinValueValidator(1)])
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    state = models.CharField(_("审批状态"), max_length=10, choices=State.choices, default=State.PENDING)
    version = models.PositiveIntegerField(default=1)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    previous_due = models.DateTimeField(_("原期限"), null=True, blank=True)
    new_due = models.DateTimeField(_("新期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(state="pending"), name="one_pending_extension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} 延期 {self.days}"


class Review(models.Model):
    """申诉复核, decided by a supervisor: a department disputes a rating, or a decline was rated dissatisfied."""

    class Kind(models.TextChoices):
        RATING = "rating", _("评价申诉")
        DECLINE = "decline", _("不予受理复核")

    class State(models.TextChoices):
        PENDING = "pending", _("待复核")
        UPHELD = "upheld", _("维持原评价")
        CHANGED = "changed", _("改判评价")
        REOPENED = "reopened", _("退回重新受理")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="reviews")
    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(_("复核类型"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("申诉理由"), blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    state = models.CharField(_("复核状态"), max_length=10, choices=State.choices, default=State.PENDING)
    version = models.PositiveIntegerField(default=1)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    decided_level = models.PositiveSmallIntegerField(
        _("复核后评价"), choices=RatingLevel.choices, null=True, blank=True
    )
    decision_note = models.TextField(_("复核意见"), blank=True)

    class Meta:
        verbose_name = _("申诉复核")
        verbose_name_plural = _("申诉复核")
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["rating"], name="one_review_per_rating")]
        indexes = [
            models.Index(fields=["state", "requested_at"], name="review_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_kind_display()}"


class StoredFile(models.Model):
    """A file checked and stored by guanjia.appeals.attachments: outside the web root, under a random
    key, its user-given name kept here only. An appeal's attachment and a visit's photo are ones."""

    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=100, unique=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class Attachment(StoredFile):
    """A file of an appeal, served to the appeal's viewers only."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]


class AppealFacts(models.Model):
    """What one appeal contributes to the KPIs and the volume figures (guanjia.appeals.rollups).

    One row per appeal: its facts as a list of [metric, day, department_id, category_id, channel,
    at, value] (0 and "" for none; see DailyRollup), kept in step with DailyRollup in every transaction that changes the
    appeal, so that the next change knows what to take away. One row rather than a row per fact: an
    appeal has some twenty facts, a city a million appeals.
    """

    appeal = models.OneToOneField(Appeal, primary_key=True, on_delete=models.CASCADE, related_name="+")
    zone_id = models.IntegerField()  # the appeal's zone: every fact's zone, and the rebuild's unit
    facts = models.JSONField(default=list)

    class Meta:
        verbose_name = _("诉求统计事实")
        verbose_name_plural = _("诉求统计事实")
        indexes = [models.Index(fields=["zone_id"], name="appeal_facts_zone_idx")]

    def __str__(self) -> str:
        return f"{self.appeal_id} facts"


class DailyRollup(models.Model):
    """The sum of the appeals' facts per Beijing day, zone, department, metric (and category/channel).

    Maintained by the services in the transaction that changes an appeal (value = value + delta),
    rebuilt by `guanjia kpi rebuild`; the cockpit and the KPIs of whole zones and departments read
    this table instead of the appeals. Plain integer keys, 0 and "" for none: a NULL would be
    distinct from every other NULL in the unique key, and ON CONFLICT would never fire.
    """

    day = models.DateField()
    zone_id = models.IntegerField()
    department_id = models.IntegerField(default=0)
    metric = models.CharField(max_length=40)
    category_id = models.IntegerField(default=0)
    channel = models.CharField(max_length=10, default="")
    # The *.pending metrics only: a deadline not at 24:00 (a 12345 transfer's external one may be
    # any instant), as microseconds after 00:00 of its day; it is judged once that moment passes.
    at = models.BigIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("每日统计")
        verbose_name_plural = _("每日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["zone_id", "metric", "day", "department_id", "category_id", "channel", "at"],
                name="daily_rollup_key",
            )
        ]
        # A zone's figures read the unique key's index; the whole city's read this one.
        indexes = [models.Index(fields=["metric", "day"], name="daily_rollup_city_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.zone_id}/{self.department_id} {self.metric} = {self.value}"
