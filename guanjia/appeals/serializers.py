"""Serializers of the appeal API: shapes and input checks only; every change is a lifecycle service.

The read serializers need `request` and `visibility` (a permissions.EnterpriseVisibility
built once per request) in their context: a confidential appeal names no enterprise to the
handling department, as on the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.appeals import permissions, presentation
from guanjia.appeals.lifecycle import STEPS, needs_coordination
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    Attachment,
    Extension,
    Handling,
    Outcome,
    Pause,
    Rating,
    RatingLevel,
    Review,
)
from guanjia.appeals.presentation import EVENT_LABELS, actor_name, row_due
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise


def _request_user(field: serializers.Field) -> User | None:
    request = field.context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def _shown(field: serializers.Field, appeal: Appeal) -> bool:
    visibility = field.context.get("visibility")
    if visibility is None:
        user = _request_user(field)
        return user is not None and permissions.sees_enterprise(appeal, user)
    return bool(visibility.sees(appeal))


# --- reads ----------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    """A current 承办记录: the department, lead or co, its deadlines and what it did."""

    department_name = serializers.CharField(source="department.name", read_only=True)
    # Declared so that the schema admits "" (not answered yet) besides the outcomes.
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "department",
            "department_name",
            "is_lead",
            "kind",
            "dispatched_at",
            "sign_due",
            "signed_at",
            "answer_due",
            "answer_days",
            "provisional",
            "answered_at",
            "outcome",
            "answer",
            "returned_at",
            "return_reason",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    """One step of the timeline; the actor named as the appeal page names it."""

    action_label = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()
    # Plain strings: the values of `status`, or "" where the step changed none.
    from_status = serializers.CharField(read_only=True, help_text=_("此前状态（status 的取值，可为空）"))
    to_status = serializers.CharField(read_only=True, help_text=_("此后状态（status 的取值，可为空）"))

    class Meta:
        model = AppealEvent
        fields = ["action", "action_label", "at", "actor_name", "from_status", "to_status", "note"]
        read_only_fields = fields

    def get_action_label(self, obj: AppealEvent) -> str:
        return str(EVENT_LABELS.get(obj.action, obj.action))

    def get_actor_name(self, obj: AppealEvent) -> str:
        appeal = self.context["appeal"]
        return str(actor_name(obj.actor, appeal, _shown(self, appeal)))


class RatingSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    rated_by_name = serializers.SerializerMethodField()
    reviewed_level = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("申诉复核改判后的评价；未改判为 null")
    )
    disputable = serializers.SerializerMethodField(
        help_text=_("调用者（被评价的承办部门）现在可否对该评价申请复核")
    )

    class Meta:
        model = Rating
        fields = [
            "id",
            "level",
            "level_label",
            "solved",
            "comment",
            "on_behalf",
            "at",
            "rated_by_name",
            "reviewed_level",
            "disputable",
        ]
        read_only_fields = fields

    def get_rated_by_name(self, obj: Rating) -> str:
        appeal = self.context["appeal"]
        return str(actor_name(obj.rated_by, appeal, _shown(self, appeal)))

    def get_disputable(self, obj: Rating) -> bool:
        user = _request_user(self)
        return user is not None and permissions.may_dispute(obj, user)


class AttachmentSerializer(serializers.ModelSerializer):
    """An attachment: its name, detected type, size and checksum, who added it, where to download it."""

    uploaded_by_name = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(help_text=_("下载地址（需登录，范围外为 404）"))

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "uploaded_by_name",
            "download_url",
        ]
        read_only_fields = fields

    def get_uploaded_by_name(self, obj: Attachment) -> str:
        appeal = self.context["appeal"]
        return str(actor_name(obj.uploaded_by, appeal, _shown(self, appeal)))

    def get_download_url(self, obj: Attachment) -> str:
        return reverse("appeal-attachment", kwargs={"pk": obj.appeal_id, "attachment": obj.pk})


# --- the handling steps (补充材料, 延期, 申诉复核, 协办意见, 合并), named as the appeal page names them ------


class _PeopleMixin:
    """`<who>_name` fields: a person as the appeal page names them (hidden where confidential)."""

    context: dict[str, Any]

    def _person(self, user: User | None) -> str:
        appeal = self.context["appeal"]
        return str(actor_name(user, appeal, _shown(self, appeal)))  # type: ignore[arg-type]


class _DecisionMixin(_PeopleMixin):
    """Who asked for a decision (an extension, a review) and who took it."""

    def get_requested_by_name(self, obj: Extension | Review) -> str:
        return self._person(obj.requested_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by_name(self, obj: Extension | Review) -> str | None:
        return self._person(obj.decided_by) if obj.decided_at else None


class PauseRecordSerializer(_PeopleMixin, serializers.ModelSerializer):
    """补充材料: what was asked, when the clock stopped and ran again, and the working days it stood."""

    requested_by_name = serializers.SerializerMethodField()
    resumed_by_name = serializers.SerializerMethodField(
        help_text=_("恢复计时者；期限到了自动恢复为“系统”；尚未恢复为 null")
    )

    class Meta:
        model = Pause
        fields = [
            "id",
            "assignment",
            "request",
            "requested_by_name",
            "started_at",
            "resume_by",
            "resumed_at",
            "resumed_by_name",
            "reply",
            "working_days",
        ]
        read_only_fields = fields

    def get_requested_by_name(self, obj: Pause) -> str:
        return self._person(obj.requested_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resumed_by_name(self, obj: Pause) -> str | None:
        return self._person(obj.resumed_by) if obj.resumed_at else None


class ExtensionRecordSerializer(_DecisionMixin, serializers.ModelSerializer):
    """延期 asked by the lead department; `decidable`: the caller (a supervisor of the zone) may decide it."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    requested_by_name = serializers.SerializerMethodField()
    decided_by_name = serializers.SerializerMethodField(help_text=_("审批者；未审批为 null"))
    decidable = serializers.SerializerMethodField()

    class Meta:
        model = Extension
        fields = [
            "id",
            "assignment",
            "days",
            "reason",
            "requested_by_name",
            "requested_at",
            "state",
            "state_label",
            "decided_by_name",
            "decided_at",
            "decision_note",
            "previous_due",
            "new_due",
            "version",
            "decidable",
        ]
        read_only_fields = fields

    def get_decidable(self, obj: Extension) -> bool:
        user = _request_user(self)  # type: ignore[arg-type]
        return user is not None and permissions.may_decide_extension(self.context["appeal"], obj, user)


class ReviewRecordSerializer(_DecisionMixin, serializers.ModelSerializer):
    """申诉复核 of a rating (disputed by the department) or of a decline rated dissatisfied."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    rating_level = serializers.IntegerField(source="rating.level", read_only=True, help_text=_("原评价"))
    decided_level = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("改判后的评价；未改判为 null")
    )
    requested_by_name = serializers.SerializerMethodField()
    decided_by_name = serializers.SerializerMethodField(help_text=_("复核者；未复核为 null"))
    decidable = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "kind",
            "kind_label",
            "rating",
            "rating_level",
            "reason",
            "requested_by_name",
            "requested_at",
            "state",
            "state_label",
            "decided_by_name",
            "decided_at",
            "decided_level",
            "decision_note",
            "version",
            "decidable",
        ]
        read_only_fields = fields

    def get_decidable(self, obj: Review) -> bool:
        user = _request_user(self)  # type: ignore[arg-type]
        return user is not None and permissions.may_decide_review(self.context["appeal"], obj, user)


class OpinionRecordSerializer(serializers.ModelSerializer):
    """协办意见 of one current co-handling assignment; `opinion` is empty until given."""

    assignment = serializers.IntegerField(source="pk", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    given_at = serializers.DateTimeField(source="answered_at", read_only=True, allow_null=True)
    opinion = serializers.CharField(source="answer", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "assignment",
            "department",
            "department_name",
            "dispatched_at",
            "answer_due",
            "given_at",
            "opinion",
        ]
        read_only_fields = fields


class DraftAnswerSerializer(serializers.Serializer):
    """An answer waiting for the department head's approval (shown to the head and to its writer)."""

    answer = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    drafted_by_name = serializers.CharField()
    drafted_at = serializers.DateTimeField(allow_null=True)


class MasterAppealSerializer(serializers.Serializer):
    """A merged child's master: its number and status, and its answer once answered."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    answer = serializers.CharField(allow_blank=True)


class ChildAppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()


class ChildrenSerializer(serializers.Serializer):
    """Duplicates merged into this appeal: those the caller may see, and how many others."""

    visible = ChildAppealSerializer(many=True)
    others = serializers.IntegerField()


APPEAL_FIELDS = [
    "id",
    "title",
    "status",
    "status_label",
    "channel",
    "zone",
    "enterprise",
    "enterprise_name",
    "category",
    "category_name",
    "handling",
    "urgent",
    "confidential",
    "submitted_at",
    "accept_due",
    "lead_department",
    "lead_department_name",
    "due",
    "overdue",
    "version",
]


class AppealSerializer(serializers.ModelSerializer):
    """An appeal as a list row shows it; `enterprise` and `enterprise_name` are null where hidden."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    enterprise = serializers.SerializerMethodField(help_text=_("企业编号；对承办部门保密时为 null"))
    enterprise_name = serializers.SerializerMethodField(help_text=_("企业名称；对承办部门保密时为 null"))
    category_name = serializers.SerializerMethodField()
    lead_department = serializers.SerializerMethodField(help_text=_("当前主办部门编号"))
    lead_department_name = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField(help_text=_("当前要紧的期限：受理、答复或评价期限"))
    overdue = serializers.SerializerMethodField(help_text=_("当前期限是否已过"))

    class Meta:
        model = Appeal
        fields = APPEAL_FIELDS
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_enterprise(self, obj: Appeal) -> int | None:
        return obj.enterprise_id if _shown(self, obj) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, obj: Appeal) -> str | None:
        return obj.enterprise.name if _shown(self, obj) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category_name(self, obj: Appeal) -> str | None:
        return str(obj.category) if obj.category_id else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_lead_department(self, obj: Appeal) -> int | None:
        lead = permissions.current_lead(obj)
        return lead.department_id if lead is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_lead_department_name(self, obj: Appeal) -> str | None:
        lead = permissions.current_lead(obj)
        return lead.department.name if lead is not None else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due(self, obj: Appeal) -> str | None:
        due = row_due(obj, permissions.current_lead(obj))
        return serializers.DateTimeField().to_representation(due) if due is not None else None

    def get_overdue(self, obj: Appeal) -> bool:
        due: datetime | None = row_due(obj, permissions.current_lead(obj))
        return due is not None and due <= timezone.now()


class AppealDetailSerializer(AppealSerializer):
    """One appeal: the row, its text, the current assignments, the timeline, the ratings, and what
    the caller may do now (the names of the transition endpoints it may call)."""

    assignments = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    ratings = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    pauses = serializers.SerializerMethodField(help_text=_("补充材料（暂停计时）记录"))
    extensions = serializers.SerializerMethodField(help_text=_("延期申请及其审批"))
    reviews = serializers.SerializerMethodField(help_text=_("申诉复核及其决定"))
    opinions = serializers.SerializerMethodField(help_text=_("当前各协办部门的协办意见"))
    draft_answer = serializers.SerializerMethodField(
        help_text=_("待部门负责人审核的答复：仅向该部门负责人和撰写人返回，否则为 null")
    )
    coordination = serializers.CharField(read_only=True, help_text=_("领导协调意见；尚无为空"))
    coordinated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    needs_coordination = serializers.SerializerMethodField(help_text=_("是否正等待领导协调"))
    master = serializers.SerializerMethodField(help_text=_("已合并诉求的主诉求；非合并诉求为 null"))
    children = serializers.SerializerMethodField(help_text=_("并入本诉求的重复诉求；没有为 null"))
    actions = serializers.SerializerMethodField(help_text=_("调用者现在可以执行的操作"))

    class Meta:
        model = Appeal
        fields = [
            *APPEAL_FIELDS,
            "body",
            "external_ticket",
            "external_due",
            "accepted_at",
            "decline_reason",
            "decline_advice",
            "reopen_count",
            "answered_at",
            "rate_due",
            "closed_at",
            "assignments",
            "events",
            "ratings",
            "attachments",
            "pauses",
            "extensions",
            "reviews",
            "opinions",
            "draft_answer",
            "coordination",
            "coordinated_at",
            "needs_coordination",
            "master",
            "children",
            "actions",
        ]
        read_only_fields = fields

    def _nested(self, obj: Appeal) -> dict[str, Any]:
        return {**self.context, "appeal": obj}

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, obj: Appeal) -> list[Any]:
        current = [a for a in obj.assignments.all() if a.is_current]
        return list(AssignmentSerializer(current, many=True, context=self._nested(obj)).data)

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, obj: Appeal) -> list[Any]:
        return list(EventSerializer(obj.events.all(), many=True, context=self._nested(obj)).data)

    @extend_schema_field(RatingSerializer(many=True))
    def get_ratings(self, obj: Appeal) -> list[Any]:
        return list(RatingSerializer(obj.ratings.all(), many=True, context=self._nested(obj)).data)

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj: Appeal) -> list[Any]:
        return list(AttachmentSerializer(obj.attachments.all(), many=True, context=self._nested(obj)).data)

    @extend_schema_field(PauseRecordSerializer(many=True))
    def get_pauses(self, obj: Appeal) -> list[Any]:
        rows = Pause.objects.filter(appeal=obj).select_related(
            "requested_by", "requested_by__unit", "resumed_by", "resumed_by__unit"
        )
        return list(PauseRecordSerializer(rows, many=True, context=self._nested(obj)).data)

    @extend_schema_field(ExtensionRecordSerializer(many=True))
    def get_extensions(self, obj: Appeal) -> list[Any]:
        rows = Extension.objects.filter(appeal=obj).select_related(
            "requested_by", "requested_by__unit", "decided_by", "decided_by__unit"
        )
        return list(ExtensionRecordSerializer(rows, many=True, context=self._nested(obj)).data)

    @extend_schema_field(ReviewRecordSerializer(many=True))
    def get_reviews(self, obj: Appeal) -> list[Any]:
        rows = Review.objects.filter(appeal=obj).select_related(
            "rating", "requested_by", "requested_by__unit", "decided_by", "decided_by__unit"
        )
        return list(ReviewRecordSerializer(rows, many=True, context=self._nested(obj)).data)

    @extend_schema_field(OpinionRecordSerializer(many=True))
    def get_opinions(self, obj: Appeal) -> list[Any]:
        co = [a for a in obj.assignments.all() if a.is_current and not a.is_lead]
        return list(OpinionRecordSerializer(co, many=True).data)

    @extend_schema_field(DraftAnswerSerializer(allow_null=True))
    def get_draft_answer(self, obj: Appeal) -> dict[str, Any] | None:
        user = _request_user(self)
        draft = presentation.draft_answer(permissions.current_lead(obj), user) if user is not None else None
        return dict(DraftAnswerSerializer(draft).data) if draft is not None else None

    def get_needs_coordination(self, obj: Appeal) -> bool:
        return obj.status in STEPS["coordinate"] and needs_coordination(obj)

    @extend_schema_field(MasterAppealSerializer(allow_null=True))
    def get_master(self, obj: Appeal) -> dict[str, Any] | None:
        user = _request_user(self)
        found = presentation.master_appeal(obj, user) if user is not None else None
        if found is None:
            return None
        master, answered = found["appeal"], found["answered"]
        return {
            "id": master.pk,
            "status": master.status,
            "status_label": str(master.get_status_display()),
            "answered_at": serializers.DateTimeField().to_representation(answered.answered_at)
            if answered
            else None,
            "department_name": answered.department.name if answered else None,
            "outcome": answered.outcome if answered else "",
            "answer": answered.answer if answered else "",
        }

    @extend_schema_field(ChildrenSerializer(allow_null=True))
    def get_children(self, obj: Appeal) -> dict[str, Any] | None:
        user = _request_user(self)
        found = presentation.merged_children(obj, user) if user is not None else None
        if found is None:
            return None
        visible = [{"id": c.pk, "title": c.title, "status": c.status} for c in found["visible"]]
        return {"visible": visible, "others": found["others"]}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, obj: Appeal) -> list[str]:
        user = _request_user(self)
        return permissions.available_actions(obj, user) if user is not None else []


# --- inputs ---------------------------------------------------------------------


class VisibleEnterpriseField(serializers.PrimaryKeyRelatedField):
    """An enterprise id, accepted only among the enterprises the caller may see."""

    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不在您的范围内")}

    def get_queryset(self) -> QuerySet[Enterprise]:
        return Enterprise.objects.visible_to(_request_user(self))


def _active_categories() -> QuerySet[AppealCategory]:
    return AppealCategory.objects.filter(is_active=True)


def _departments() -> QuerySet[OrgUnit]:
    # The service checks that each department belongs to the appeal's zone.
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT)


def version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        help_text=_("读取时的版本号；若诉求已有新的进展，返回 409，请重新读取后再提交"),
    )


def files_field(**kwargs: Any) -> serializers.ListField:
    # Empty files pass here so that the attachments service refuses them by name.
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        help_text=_("附件（multipart/form-data，可重复）：一次最多 10 个；按文件内容判断类型"),
        **kwargs,
    )


class AttachmentUploadSerializer(serializers.Serializer):
    files = files_field(allow_empty=False, error_messages={"empty": _("请选择要上传的文件")})


class AppealCreateSerializer(serializers.Serializer):
    """A new appeal; the channel follows the caller's role (see docs/api.md)."""

    enterprise = VisibleEnterpriseField(queryset=Enterprise.objects.none(), help_text=_("企业编号"))
    title = serializers.CharField(max_length=100)
    body = serializers.CharField()
    category = serializers.PrimaryKeyRelatedField(
        queryset=_active_categories(), required=False, allow_null=True, default=None
    )
    handling = serializers.ChoiceField(choices=Handling.choices, default=Handling.NORMAL)
    urgent = serializers.BooleanField(default=False)
    confidential = serializers.BooleanField(default=False, help_text=_("对承办部门隐去企业身份"))
    external_ticket = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text=_("外部工单号（受理员必填）")
    )
    external_due = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("外部办理期限（当日 24:00），受理员可填")
    )
    files = files_field(required=False, default=list)


class DispatchSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(
        queryset=_departments(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("主办部门；不填时按类别的默认主办部门"),
    )
    co_departments = serializers.PrimaryKeyRelatedField(
        queryset=_departments(), many=True, required=False, default=list, help_text=_("协办部门")
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=_active_categories(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("交办意见"))
    version = version_field()


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("不予受理理由"))
    advice = serializers.CharField(help_text=_("办理建议"))
    version = version_field()


class VersionSerializer(serializers.Serializer):
    version = version_field()


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("退回理由"))
    version = version_field()


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(help_text=_("答复内容"))
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    version = version_field()


class RateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=RatingLevel.choices, help_text=_("5 非常满意 … 1 非常不满意"))
    solved = serializers.BooleanField(help_text=_("问题是否解决"))
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    on_behalf = serializers.BooleanField(default=False, help_text=_("管家或受理员回访时代企业记录"))
    version = version_field()


# --- the handling steps: one input per step; the lifecycle services decide ------------------------


class PauseSerializer(serializers.Serializer):
    request = serializers.CharField(help_text=_("需要企业补充的材料"))
    version = version_field()


class ResumeSerializer(serializers.Serializer):
    reply = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("补充说明：补充了哪些材料")
    )
    version = version_field()


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, help_text=_("延期工作日；各次延期合计不超过类别上限"))
    reason = serializers.CharField(help_text=_("延期理由"))
    version = version_field()


class OpinionSerializer(serializers.Serializer):
    opinion = serializers.CharField(help_text=_("协办意见"))
    version = version_field()


class ApproveAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("修改后的答复；不填则按原稿发出")
    )
    version = version_field()


class RejectAnswerSerializer(serializers.Serializer):
    note = serializers.CharField(help_text=_("退回修改意见"))
    version = version_field()


class CoordinateSerializer(serializers.Serializer):
    decision = serializers.CharField(help_text=_("领导协调意见"))
    version = version_field()


class MergeSerializer(serializers.Serializer):
    master = serializers.IntegerField(min_value=1, help_text=_("主诉求编号：本园区已交办、尚未答复的诉求"))
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("合并说明"))
    version = version_field()


class ExtensionDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=_("true 批准，false 不批准"))
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("审批意见；不批准时必填")
    )
    version = serializers.IntegerField(
        min_value=1, help_text=_("读取时该延期申请的版本号（extensions[].version）；已被处理时返回 409")
    )


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[
            (Review.State.UPHELD, Review.State.UPHELD.label),
            (Review.State.CHANGED, Review.State.CHANGED.label),
            (Review.State.REOPENED, Review.State.REOPENED.label),
        ],
        help_text=_("评价申诉：upheld 或 changed；不予受理复核：upheld 或 reopened"),
    )
    level = serializers.ChoiceField(
        choices=RatingLevel.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("改判（changed）后的评价，5 非常满意 … 1 非常不满意"),
    )
    note = serializers.CharField(help_text=_("复核意见"))
    version = serializers.IntegerField(
        min_value=1, help_text=_("读取时该复核的版本号（reviews[].version）；已被处理时返回 409")
    )


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("申请复核的理由"))
