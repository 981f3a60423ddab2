"""REST API of a unit's staff (/api/staffings/) and weekly rosters (/api/rosters/).

Reads are scoped (ServiceUnit.objects.visible_to: a unit out of the caller's scope, its staff and its
rosters are a 404); writes go through guanjia/windows/rosters.py. Accounts that never work at windows
(enterprise users, admins, no role) get 403 on everything; a reader of a unit who does not keep it gets
403 on a write. A refused field answers 400 with {field: [message]}, a stale version 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api_common import (
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    field_errors,
    user_or_none,
    version_field,
)
from guanjia.core.models import User
from guanjia.windows import rosters as services
from guanjia.windows.access import keeps_some_unit
from guanjia.windows.forms.rosters import RosterFilter, StaffingFilter
from guanjia.windows.models import Roster, ServiceUnit, ServiceWindow, Shift, Staffing

STAFFING_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有该服务单位主管部门的负责人可以维护工作人员）"),
    missing=_("工作人员记录不存在或不在您的范围内"),
    stale=_("工作人员的设置已被他人修改：请重新读取后再提交"),
)
ROSTER_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有该服务单位主管部门的负责人可以排班）"),
    missing=_("排班表不存在或不在您的范围内"),
    stale=_("排班表已被他人修改，请刷新后重试"),
)


class RosterStatusField(NamedEnumField):
    enum_name = "RosterStatusEnum"
    choice_set = Roster.Status


# --- who may --------------------------------------------------------------------------------------------


class WorksAtWindows(BasePermission):
    """Accounts that may work at windows or oversee them (services.works_at_windows)."""

    message = _("您的账号无权查看窗口排班")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        return user is not None and services.works_at_windows(user)


class KeepersWrite(BasePermission):
    """Writes only for a department head (refused before the body is read); which unit it keeps the
    services decide."""

    message = _("只有服务单位主管部门的负责人可以维护工作人员和排班")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        return request.method in SAFE_METHODS or (user is not None and keeps_some_unit(user))


def _visible_units(user: User | None) -> QuerySet[ServiceUnit]:
    return ServiceUnit.objects.visible_to(user)


# --- fields: an object named in a body is looked up in the caller's scope -----------------------------------


class UnitField(ScopedField):
    default_error_messages = {"does_not_exist": _("服务单位 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[ServiceUnit]:
        return _visible_units(user)


class WindowField(ScopedField):
    default_error_messages = {"does_not_exist": _("窗口 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[ServiceWindow]:
        return ServiceWindow.objects.filter(unit__in=_visible_units(user))


class StaffUserField(ScopedField):
    """An account of the caller's zones (the service checks it belongs to the unit's zone)."""

    default_error_messages = {"does_not_exist": _("工作人员账号 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[User]:
        zones = user.zone_ids()
        return User.objects.filter(
            models.Q(unit_id__in=zones) | models.Q(unit__parent_id__in=zones), is_active=True
        )


# --- shapes ---------------------------------------------------------------------------------------------


class StaffingSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    windows = serializers.SerializerMethodField(help_text=_("可服务窗口 id"))
    weekdays = serializers.SerializerMethodField(help_text=_("可排班日：1 周一 … 7 周日"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Staffing
        fields = [
            "id",
            "unit",
            "user",
            "user_name",
            "windows",
            "weekdays",
            "max_shifts",
            "is_active",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_windows(self, staffing: Staffing) -> list[int]:
        return sorted(window.pk for window in staffing.windows.all())

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_weekdays(self, staffing: Staffing) -> list[int]:
        return staffing.weekday_numbers()


def _weekdays_field(**options: Any) -> serializers.ListField:
    return serializers.ListField(
        label=_("可排班日"),
        child=serializers.IntegerField(min_value=1, max_value=7),
        min_length=1,
        max_length=7,
        help_text=_("1 周一 … 7 周日，至少一天"),
        **options,
    )


def _windows_field(**options: Any) -> serializers.ListField:
    return serializers.ListField(
        label=_("可服务窗口"),
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=100,
        help_text=_("本服务单位的窗口 id，至少一个"),
        **options,
    )


class StaffingCreateSerializer(serializers.Serializer):
    unit = UnitField(label=_("服务单位"))
    user = StaffUserField(label=_("工作人员"), help_text=_("本园区在岗工作人员的账号 id"))
    windows = _windows_field()
    weekdays = _weekdays_field()
    max_shifts = serializers.IntegerField(label=_("每周最多班次"), min_value=0, max_value=services.MAX_SHIFTS)
    is_active = serializers.BooleanField(label=_("在岗"), required=False, default=True)


class StaffingUpdateSerializer(serializers.Serializer):
    windows = _windows_field(required=False)
    weekdays = _weekdays_field(required=False)
    max_shifts = serializers.IntegerField(
        label=_("每周最多班次"), min_value=0, max_value=services.MAX_SHIFTS, required=False
    )
    is_active = serializers.BooleanField(label=_("在岗"), required=False)
    version = version_field(label=_("版本"))


CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class RosterShiftSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    window_label = serializers.CharField(source="window.__str__", read_only=True)
    day = serializers.DateField(source="date", read_only=True)
    lunch_start = serializers.SerializerMethodField(help_text=_("午休开始 HH:MM；中午闭厅的单位为 null"))

    class Meta:
        model = Shift
        fields = ["id", "user", "user_name", "window", "window_label", "day", "lunch_start"]
        read_only_fields = fields

    @extend_schema_field(serializers.RegexField(CLOCK, allow_null=True))
    def get_lunch_start(self, shift: Shift) -> str | None:
        return None if shift.lunch_start is None else f"{shift.lunch_start:%H:%M}"


class RosterShortageSerializer(serializers.Serializer):
    window = serializers.IntegerField(help_text=_("窗口 id"))
    window_label = serializers.CharField()
    date = serializers.DateField()
    start = serializers.CharField(help_text=_("HH:MM"))
    end = serializers.CharField(help_text=_("HH:MM"))
    short = serializers.IntegerField(help_text=_("缺几人"))
    available = serializers.IntegerField(help_text=_("当天可排该窗口的人数"))
    text = serializers.CharField(help_text=_("页面上的说明"))


class RosterSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    status = RosterStatusField(read_only=True)
    shortage_count = serializers.SerializerMethodField(help_text=_("缺员时段数"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Roster
        fields = [
            "id",
            "unit",
            "unit_name",
            "week_start",
            "status",
            "solver_status",
            "shortage_count",
            "generated_at",
            "generated_by",
            "published_at",
            "version",
        ]
        read_only_fields = fields

    def get_shortage_count(self, roster: Roster) -> int:
        return len(roster.shortages or [])


class RosterDetailSerializer(RosterSerializer):
    shifts = serializers.SerializerMethodField()
    shortages = serializers.SerializerMethodField(help_text=_("缺员时段；无缺员时为空"))

    class Meta(RosterSerializer.Meta):
        fields = [*RosterSerializer.Meta.fields, "shifts", "shortages"]
        read_only_fields = fields

    @extend_schema_field(RosterShiftSerializer(many=True))
    def get_shifts(self, roster: Roster) -> Any:
        return RosterShiftSerializer(services.shifts_of(roster), many=True).data

    @extend_schema_field(RosterShortageSerializer(many=True))
    def get_shortages(self, roster: Roster) -> list[dict[str, Any]]:
        return [
            {**shortage.as_json(), "text": shortage.describe()} for shortage in services.shortages_of(roster)
        ]


class RosterGenerateSerializer(serializers.Serializer):
    unit = UnitField(label=_("服务单位"))
    week_start = serializers.DateField(label=_("周一日期"), help_text=_("星期一，不早于本周"))


class RosterSetShiftSerializer(serializers.Serializer):
    user = StaffUserField(label=_("工作人员"), help_text=_("本单位在岗工作人员的账号 id"))
    day = serializers.DateField(label=_("日期"), help_text=_("本周内的办公日"))
    window = WindowField(label=_("窗口"))
    lunch_start = serializers.RegexField(
        CLOCK,
        label=_("午休开始"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("HH:MM：中午不间断服务的单位必填（午休时段内的时段起点）；中午闭厅的单位为 null"),
    )
    version = version_field(label=_("版本"))


class RosterRemoveShiftSerializer(serializers.Serializer):
    shift = serializers.IntegerField(
        label=_("班次"), min_value=1, max_value=2**63 - 1, help_text=_("班次 id")
    )
    version = version_field(label=_("版本"))


class RosterPublishSerializer(serializers.Serializer):
    version = version_field(label=_("版本"))


# --- the viewsets -------------------------------------------------------------------------------------------


class WindowsViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, WorksAtWindows, KeepersWrite]
    serializer_classes: Mapping[str, type[serializers.BaseSerializer]] = {}
    detail_serializer_class: type[serializers.BaseSerializer] | None = None
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def validated(self, serializer_class: type[serializers.BaseSerializer] | None = None) -> dict[str, Any]:
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.serializer_class
        assert serializer_class is not None
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary=_("窗口工作人员列表"), description=_("调用者范围内服务单位的工作人员；可按服务单位筛选。")
    ),
    retrieve=extend_schema(
        summary=_("窗口工作人员详情"), responses=STAFFING_ERRORS.responses(200, StaffingSerializer, 404)
    ),
    create=extend_schema(
        summary=_("添加窗口工作人员"),
        description=_(
            "服务单位主管部门的负责人把本园区的在岗工作人员加入本单位，并设定可服务窗口、可排班日和每周最多班次。"
        ),
        request=StaffingCreateSerializer,
        responses=STAFFING_ERRORS.responses(201, StaffingSerializer, 400, 403, 409),
    ),
    partial_update=extend_schema(
        summary=_("修改窗口工作人员"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"),
        request=StaffingUpdateSerializer,
        responses=STAFFING_ERRORS.responses(200, StaffingSerializer, 400, 403, 404, 409),
    ),
)
class StaffingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WindowsViewSet):
    """The staff of the units the caller sees; the unit's keeper adds and changes them."""

    queryset = Staffing.objects.none()
    serializer_class = StaffingSerializer
    serializer_classes = {"create": StaffingCreateSerializer, "partial_update": StaffingUpdateSerializer}
    detail_serializer_class = StaffingSerializer
    filterset_class = StaffingFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Staffing]:
        return (
            Staffing.objects.filter(unit__in=_visible_units(user_or_none(self.request)))
            .select_related("user")
            .prefetch_related("windows")
            .order_by("unit_id", "user__username", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        unit = data.pop("unit")
        staffing = field_errors(lambda: services.save_staffing(unit, by=actor(request), **data))
        return self.show(staffing, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        staffing = self.get_object()
        data = self.validated()
        values = {
            "windows": data.get("windows", [w.pk for w in staffing.windows.all()]),
            "weekdays": data.get("weekdays", staffing.weekday_numbers()),
            "max_shifts": data.get("max_shifts", staffing.max_shifts),
            "is_active": data.get("is_active", staffing.is_active),
        }
        field_errors(
            lambda: services.save_staffing(
                staffing.unit,
                user=staffing.user,
                by=actor(request),
                staffing=staffing,
                version=data["version"],
                **values,
            )
        )
        return self.show(staffing)


@extend_schema_view(
    list=extend_schema(
        summary=_("排班表列表"),
        description=_("调用者范围内服务单位的各周排班表，最近的在前；可按服务单位、周一日期、状态筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("排班表详情"),
        description=_("含各班次（工作人员、窗口、日期、午休开始）和缺员时段。"),
        responses=ROSTER_ERRORS.responses(200, RosterDetailSerializer, 404),
    ),
)
class RosterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WindowsViewSet):
    """The rosters of the units the caller sees; the unit's keeper generates, adjusts and publishes them."""

    queryset = Roster.objects.none()
    serializer_class = RosterSerializer
    serializer_classes = {"retrieve": RosterDetailSerializer}
    detail_serializer_class = RosterDetailSerializer
    filterset_class = RosterFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Roster]:
        return (
            Roster.objects.visible_to(user_or_none(self.request))
            .select_related("unit")
            .order_by("-week_start", "unit_id", "pk")
        )

    @extend_schema(
        summary=_("生成排班"),
        description=_(
            "为服务单位生成一周排班（周一日期须为星期一，不早于本周）：新建草稿，或替换已有的草稿；"
            "已发布的排班表不能重新生成（400）。无法排满时仍返回排班，缺员时段列在 shortages 中。"
        ),
        request=RosterGenerateSerializer,
        responses=ROSTER_ERRORS.responses(201, RosterDetailSerializer, 400, 403, 409),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def generate(self, request: Request) -> Response:
        data = self.validated(RosterGenerateSerializer)
        roster = field_errors(
            lambda: services.generate_roster(data["unit"], data["week_start"], by=actor(request))
        )
        return self.show(roster, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("调整一人一天的班次"),
        description=_(
            "安排一名工作人员某天在某窗口上班（当天已有班次时改为新的窗口和午休时间），缺员时段随即重算。"
            "带上读取时的 version；已被他人修改时返回 409。"
        ),
        request=RosterSetShiftSerializer,
        responses=ROSTER_ERRORS.responses(200, RosterDetailSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def shifts(self, request: Request, pk: str | None = None) -> Response:
        roster = self.get_object()
        data = self.validated(RosterSetShiftSerializer)
        field_errors(lambda: services.set_shift(roster, by=actor(request), **data))
        return self.show(roster)

    @extend_schema(
        summary=_("取消一个班次"),
        description=_("缺员时段随即重算。带上读取时的 version；已被他人修改时返回 409。"),
        request=RosterRemoveShiftSerializer,
        responses=ROSTER_ERRORS.responses(200, RosterDetailSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="remove-shift", filter_backends=[], pagination_class=None)
    def remove_shift(self, request: Request, pk: str | None = None) -> Response:
        roster = self.get_object()
        data = self.validated(RosterRemoveShiftSerializer)
        shift = Shift.objects.filter(roster=roster, pk=data["shift"]).select_related("user").first()
        if shift is None:
            raise serializers.ValidationError(
                {"shift": [_("班次 %(id)s 不在本排班表中") % {"id": data["shift"]}]}
            )
        services.remove_shift(roster, shift=shift, by=actor(request), version=data["version"])
        return self.show(roster)

    @extend_schema(
        summary=_("发布排班表"),
        description=_("草稿→已发布，并通知排班人员。带上读取时的 version；已被他人修改时返回 409。"),
        request=RosterPublishSerializer,
        responses=ROSTER_ERRORS.responses(200, RosterDetailSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def publish(self, request: Request, pk: str | None = None) -> Response:
        roster = self.get_object()
        data = self.validated(RosterPublishSerializer)
        services.publish_roster(roster, by=actor(request), version=data["version"])
        return self.show(roster)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("staffings", StaffingViewSet, basename="staffing")
    router.register("rosters", RosterViewSet, basename="roster")
