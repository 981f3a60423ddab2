"""Serializers of the appeal API: shapes and input checks only; every change is a lifecycle service.

The read serializers need `request` and `visibility` (a permissions.EnterpriseVisibility
built once per request) in their context: a confidential appeal names no enterprise to the
handling department, as on the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.appeals import permissions
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    Handling,
    Outcome,
    Rating,
    RatingLevel,
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

    class Meta:
        model = Rating
        fields = ["level", "level_label", "solved", "comment", "on_behalf", "at", "rated_by_name"]
        read_only_fields = fields

    def get_rated_by_name(self, obj: Rating) -> str:
        appeal = self.context["appeal"]
        return str(actor_name(obj.rated_by, appeal, _shown(self, appeal)))


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
