"""REST API of the windows app: units — service units (/api/service-units/), their windows
(/api/service-windows/) and the services each window offers (/api/window-services/), and the published
hours of the caller's zones (GET /api/service-hours/).

Reads are scoped (ServiceUnit.objects.visible_to: out of the caller's scope is a 404) and open to those
the management pages are for (units.reads_units: department heads, the zone's overseers, the units'
staff); writes go through guanjia/windows/units.py and are the unit's keeper's, the head of its
department: another role gets 403 before its body is read. A refused field answers 400 with
{field: [message]}, a stale version 409. The published hours are every business account's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from guanjia.core.api_common import (
    ClockField,
    Refusals,
    ScopedField,
    actor,
    field_errors,
    user_or_none,
    version_field,
)
from guanjia.core.models import User
from guanjia.windows import units as services
from guanjia.windows.access import keeps_some_unit, today
from guanjia.windows.forms.units import ServiceFilter, WindowFilter
from guanjia.windows.models import SLOT_CHOICES, ServiceUnit, ServiceWindow, WindowService

UNIT_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有服务单位主管部门的负责人可以维护服务单位）"),
    missing=_("服务单位不存在或不在您的范围内"),
    stale=_("服务单位已被他人修改：请重新读取后再提交"),
)
WINDOW_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有服务单位主管部门的负责人可以维护窗口）"),
    missing=_("窗口不存在或不在您的范围内"),
    stale=_("窗口已被他人修改：请重新读取后再提交"),
)
SERVICE_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有服务单位主管部门的负责人可以维护服务事项）"),
    missing=_("服务事项不存在或不在您的范围内"),
    stale=_("服务事项已被他人修改：请重新读取后再提交"),
)


class ReadsUnits(BasePermission):
    """Department heads, the zones' overseers and the units' staff (units.reads_units)."""

    message = _("您的账号无权查看服务单位")

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.reads_units(user_or_none(request))


class KeepersWrite(BasePermission):
    """Reads for every reader; writes only for department heads (refused before the body is read);
    which units they keep the services decide."""

    message = _("只有部门负责人可以维护服务单位")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        return request.method in SAFE_METHODS or (user is not None and keeps_some_unit(user))


class ReadsPortalHours(BasePermission):
    message = _("您的账号无权查看服务时间")

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.reads_portal_hours(user_or_none(request))


# --- shapes -----------------------------------------------------------------------------------------


def _clock_field(label: Any, **options: Any) -> serializers.TimeField:
    return ClockField(label=label, **options)


class WindowServiceSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = WindowService
        fields = ["id", "window", "name", "materials", "bookable", "position", "version"]
        read_only_fields = fields


class ServiceWindowSerializer(serializers.ModelSerializer):
    services = WindowServiceSerializer(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ServiceWindow
        fields = [
            "id",
            "unit",
            "number",
            "name",
            "must_stay_open",
            "staff_needed",
            "seats",
            "is_active",
            "services",
            "version",
        ]
        read_only_fields = fields


class ServiceUnitSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    opens_at = _clock_field(_("开始办公"), read_only=True)
    closes_at = _clock_field(_("结束办公"), read_only=True)
    lunch_from = _clock_field(_("午休时段起"), read_only=True)
    lunch_to = _clock_field(_("午休时段止"), read_only=True)
    hours = serializers.SerializerMethodField(help_text=_("办公时间的文字说明，如门户所示"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ServiceUnit
        fields = [
            "id",
            "zone",
            "zone_name",
            "department",
            "department_name",
            *services.UNIT_FIELDS,
            "hours",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_hours(self, unit: ServiceUnit) -> str:
        return services.hours_sentence(unit)


class ServiceUnitDetailSerializer(ServiceUnitSerializer):
    windows = serializers.SerializerMethodField()

    class Meta(ServiceUnitSerializer.Meta):
        fields = [*ServiceUnitSerializer.Meta.fields, "windows"]
        read_only_fields = fields

    @extend_schema_field(ServiceWindowSerializer(many=True))
    def get_windows(self, unit: ServiceUnit) -> Any:
        return ServiceWindowSerializer(services.windows_of(unit), many=True).data


def _unit_fields(*, create: bool) -> dict[str, serializers.Field]:
    """The unit's writable fields: on create, name and address are required and the rest take the
    defaults; on an edit every one is optional (an edit sends what changes)."""
    optional: dict[str, Any] = {"required": False}
    return {
        "name": serializers.CharField(label=_("名称"), max_length=services.NAME_MAX, required=create),
        "address": serializers.CharField(label=_("地址"), max_length=services.ADDRESS_MAX, required=create),
        "phone": serializers.CharField(
            label=_("咨询电话"), max_length=services.PHONE_MAX, allow_blank=True, **optional
        ),
        "opens_at": _clock_field(_("开始办公"), help_text=_("HH:MM，默认 09:00"), **optional),
        "closes_at": _clock_field(_("结束办公"), help_text=_("HH:MM，默认 17:00"), **optional),
        "no_lunch_break": serializers.BooleanField(
            label=_("中午不间断服务"), help_text=_("true：午休时段照常办公，工作人员轮流就餐"), **optional
        ),
        "lunch_from": _clock_field(_("午休时段起"), **optional),
        "lunch_to": _clock_field(_("午休时段止"), **optional),
        "lunch_minutes": serializers.IntegerField(
            label=_("每人午休（分钟）"), min_value=15, max_value=120, **optional
        ),
        "slot_minutes": serializers.ChoiceField(
            label=_("时段长度（分钟）"), choices=SLOT_CHOICES, **optional
        ),
        "booking_days": serializers.IntegerField(
            label=_("可预约天数"), min_value=1, max_value=60, **optional
        ),
        "notice": serializers.CharField(
            label=_("服务须知"), max_length=services.NOTICE_MAX, allow_blank=True, **optional
        ),
        "is_published": serializers.BooleanField(label=_("在企业门户公布"), **optional),
    }


class ServiceUnitCreateSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return _unit_fields(create=True)


class ServiceUnitUpdateSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {**_unit_fields(create=False), "version": version_field(label=_("版本"))}


class UnitField(ScopedField):
    default_error_messages = {"does_not_exist": _("服务单位 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet:
        return ServiceUnit.objects.visible_to(user)


class WindowField(ScopedField):
    default_error_messages = {"does_not_exist": _("窗口 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet:
        return ServiceWindow.objects.filter(unit__in=ServiceUnit.objects.visible_to(user))


class WindowFields(serializers.Serializer):
    number = serializers.CharField(label=_("窗口号"), max_length=services.NUMBER_MAX, required=False)
    name = serializers.CharField(label=_("窗口名称"), max_length=services.WINDOW_NAME_MAX, required=False)
    must_stay_open = serializers.BooleanField(
        label=_("办公时间内须始终有人"), required=False, help_text=_("排班时每个时段都须有人在岗")
    )
    staff_needed = serializers.IntegerField(
        label=_("同时在岗人数"), min_value=1, max_value=10, required=False
    )
    seats = serializers.IntegerField(label=_("每时段可预约数"), min_value=1, max_value=10, required=False)
    is_active = serializers.BooleanField(label=_("启用"), required=False)


class ServiceWindowCreateSerializer(WindowFields):
    unit = UnitField(label=_("服务单位"), help_text=_("本部门的服务单位 id"))
    number = serializers.CharField(label=_("窗口号"), max_length=services.NUMBER_MAX)
    name = serializers.CharField(label=_("窗口名称"), max_length=services.WINDOW_NAME_MAX)


class ServiceWindowUpdateSerializer(WindowFields):
    version = version_field(label=_("版本"))


class ServiceFields(serializers.Serializer):
    name = serializers.CharField(label=_("服务事项"), max_length=services.SERVICE_NAME_MAX, required=False)
    materials = serializers.CharField(
        label=_("所需材料"), max_length=services.MATERIALS_MAX, allow_blank=True, required=False
    )
    bookable = serializers.BooleanField(label=_("可预约"), required=False)
    position = serializers.IntegerField(
        label=_("排序"), min_value=0, max_value=services.POSITION_MAX, required=False
    )


class WindowServiceCreateSerializer(ServiceFields):
    window = WindowField(label=_("窗口"), help_text=_("本部门服务单位的窗口 id"))
    name = serializers.CharField(label=_("服务事项"), max_length=services.SERVICE_NAME_MAX)


class WindowServiceUpdateSerializer(ServiceFields):
    version = version_field(label=_("版本"))


# --- the published hours ------------------------------------------------------------------------------


class HoursDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    weekday = serializers.CharField(help_text=_("周一 … 周日"))
    is_open = serializers.BooleanField(help_text=_("当天是否办公（工作日历的工作日，含调休上班日）"))
    mark = serializers.CharField(help_text=_("休：节假日；调休上班：调休上班的周末；空：平常的工作日或周末"))
    holiday = serializers.CharField(help_text=_("节假日名称（已知时）"))


class HoursServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    materials = serializers.CharField()
    bookable = serializers.BooleanField()


class HoursWindowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    services = HoursServiceSerializer(many=True)


class HoursUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    zone_name = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    opens_at = _clock_field(_("开始办公"))
    closes_at = _clock_field(_("结束办公"))
    no_lunch_break = serializers.BooleanField()
    lunch_from = _clock_field(_("午休时段起"))
    lunch_to = _clock_field(_("午休时段止"))
    hours = serializers.CharField(help_text=_("办公时间的文字说明"))
    notice = serializers.CharField()
    windows = HoursWindowSerializer(many=True)


class ServiceHoursSerializer(serializers.Serializer):
    days = HoursDaySerializer(many=True, help_text=_("今天起 14 天，每天是否办公"))
    units = HoursUnitSerializer(many=True, help_text=_("调用者所在园区公布的服务单位"))


def hours_body(user: User) -> dict[str, Any]:
    units = []
    for unit in services.published_units(user):
        windows = [
            {
                "id": window.pk,
                "number": window.number,
                "name": window.name,
                "services": [
                    {"id": s.pk, "name": s.name, "materials": s.materials, "bookable": s.bookable}
                    for s in window.services.all()
                ],
            }
            for window in unit.open_windows  # type: ignore[attr-defined]
        ]
        units.append(
            {
                "id": unit.pk,
                "name": unit.name,
                "zone_name": unit.zone.name,
                "address": unit.address,
                "phone": unit.phone,
                "opens_at": unit.opens_at,
                "closes_at": unit.closes_at,
                "no_lunch_break": unit.no_lunch_break,
                "lunch_from": unit.lunch_from,
                "lunch_to": unit.lunch_to,
                "hours": services.hours_sentence(unit),
                "notice": unit.notice,
                "windows": windows,
            }
        )
    days = [
        {"date": d.day, "weekday": d.weekday, "is_open": d.is_open, "mark": d.mark, "holiday": d.holiday}
        for d in services.calendar_ahead(today())
    ]
    return {"days": days, "units": units}


class ServiceHoursView(APIView):
    """The published units of the caller's zones (and of the enterprises it acts for)."""

    permission_classes = [IsAuthenticated, ReadsPortalHours]

    @extend_schema(
        summary=_("公布的服务时间"),
        description=_(
            "调用者所在园区（企业用户、服务管家：所服务企业的园区）在企业门户公布的服务单位：地址、电话、"
            "办公时间和午间规则、服务须知、启用的窗口及其服务事项和所需材料；以及今天起 14 天每天是否办公"
            "（节假日标“休”，调休上班的周末标“调休上班”）。"
        ),
        responses={200: ServiceHoursSerializer, 403: UNIT_ERRORS.forbidden},
    )
    def get(self, request: Request) -> Response:
        return Response(ServiceHoursSerializer(hours_body(actor(request))).data)


# --- the viewsets -----------------------------------------------------------------------------------


class UnitsViewSet(viewsets.GenericViewSet):
    """One serializer per action, a body read through it, and a write answered with the object as it is now."""

    permission_classes = [IsAuthenticated, ReadsUnits, KeepersWrite]
    serializer_classes: Mapping[str, type[serializers.BaseSerializer]] = {}
    detail_serializer_class: type[serializers.BaseSerializer] | None = None
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def caller(self) -> User | None:
        return user_or_none(self.request)

    def visible_units(self) -> QuerySet[ServiceUnit]:
        return ServiceUnit.objects.visible_to(self.caller())

    def validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.serializer_class
        assert serializer_class is not None
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary=_("服务单位列表"),
        description=_(
            "调用者范围内的服务单位（本部门负责人、本园区的领导、效能督查、受理调度员、单位的工作人员）。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("服务单位详情"),
        description=_("含窗口及各窗口的服务事项。"),
        responses=UNIT_ERRORS.responses(200, ServiceUnitDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("新建服务单位"),
        description=_(
            "部门负责人为本部门新建服务单位（园区取部门所属园区）。结束办公须晚于开始办公；午休时段须在办公时间内；"
            "开始、结束办公和午休时段须落在时段分界上；每人午休不超过午休时段长度；名称在本园区内唯一。"
        ),
        request=ServiceUnitCreateSerializer,
        responses=UNIT_ERRORS.responses(201, ServiceUnitDetailSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改服务单位"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"),
        request=ServiceUnitUpdateSerializer,
        responses=UNIT_ERRORS.responses(200, ServiceUnitDetailSerializer, 400, 403, 404, 409),
    ),
)
class ServiceUnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, UnitsViewSet):
    """The units the caller may see; their department's head keeps them."""

    queryset = ServiceUnit.objects.none()
    serializer_class = ServiceUnitSerializer
    serializer_classes = {
        "retrieve": ServiceUnitDetailSerializer,
        "create": ServiceUnitCreateSerializer,
        "partial_update": ServiceUnitUpdateSerializer,
    }
    detail_serializer_class = ServiceUnitDetailSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ServiceUnit]:
        return self.visible_units().select_related("zone", "department").order_by("zone_id", "name", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        unit = field_errors(lambda: services.create_unit(by=actor(request), **data))
        return self.show(unit, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        unit = self.get_object()
        data = self.validated()
        field_errors(lambda: services.update_unit(unit, by=actor(request), **data))
        return self.show(unit)


@extend_schema_view(
    list=extend_schema(
        summary=_("窗口列表"),
        description=_("调用者范围内服务单位的窗口及其服务事项；可按服务单位筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("窗口详情"), responses=WINDOW_ERRORS.responses(200, ServiceWindowSerializer, 404)
    ),
    create=extend_schema(
        summary=_("新增窗口"),
        description=_("服务单位主管部门的负责人新增窗口；窗口号在本单位内唯一。"),
        request=ServiceWindowCreateSerializer,
        responses=WINDOW_ERRORS.responses(201, ServiceWindowSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改窗口"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。停用窗口：is_active=false。"
        ),
        request=ServiceWindowUpdateSerializer,
        responses=WINDOW_ERRORS.responses(200, ServiceWindowSerializer, 400, 403, 404, 409),
    ),
)
class ServiceWindowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, UnitsViewSet):
    """Windows of the units the caller may see."""

    queryset = ServiceWindow.objects.none()
    serializer_class = ServiceWindowSerializer
    serializer_classes = {
        "create": ServiceWindowCreateSerializer,
        "partial_update": ServiceWindowUpdateSerializer,
    }
    filterset_class = WindowFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ServiceWindow]:
        return (
            ServiceWindow.objects.filter(unit__in=self.visible_units())
            .select_related("unit")
            .prefetch_related("services")
            .order_by("unit_id", "number", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        unit = data.pop("unit")
        window = field_errors(lambda: services.add_window(unit, by=actor(request), **data))
        return self.show(window, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        window = self.get_object()
        data = self.validated()
        field_errors(lambda: services.update_window(window, by=actor(request), **data))
        return self.show(window)


@extend_schema_view(
    list=extend_schema(
        summary=_("服务事项列表"),
        description=_("调用者范围内服务单位各窗口的服务事项；可按窗口或服务单位筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("服务事项详情"), responses=SERVICE_ERRORS.responses(200, WindowServiceSerializer, 404)
    ),
    create=extend_schema(
        summary=_("新增服务事项"),
        description=_("服务单位主管部门的负责人为窗口新增服务事项及所需材料。"),
        request=WindowServiceCreateSerializer,
        responses=SERVICE_ERRORS.responses(201, WindowServiceSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改服务事项"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"),
        request=WindowServiceUpdateSerializer,
        responses=SERVICE_ERRORS.responses(200, WindowServiceSerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("删除服务事项"),
        description=_("已有预约（含已办理、已取消的）的服务事项不能删除（400）：请改为不可预约。"),
        responses={
            **SERVICE_ERRORS.responses(204, None, 400, 403, 404, 409),
            204: OpenApiResponse(description=_("已删除")),
        },
    ),
)
class WindowServiceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, UnitsViewSet
):
    """Services of the windows of the units the caller may see."""

    queryset = WindowService.objects.none()
    serializer_class = WindowServiceSerializer
    serializer_classes = {
        "create": WindowServiceCreateSerializer,
        "partial_update": WindowServiceUpdateSerializer,
    }
    filterset_class = ServiceFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[WindowService]:
        return (
            WindowService.objects.filter(window__unit__in=self.visible_units())
            .select_related("window__unit")
            .order_by("window_id", "position", "name", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        window = data.pop("window")
        service = field_errors(lambda: services.add_service(window, by=actor(request), **data))
        return self.show(service, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service = self.get_object()
        data = self.validated()
        field_errors(lambda: services.update_service(service, by=actor(request), **data))
        return self.show(service)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service = self.get_object()
        services.remove_service(service, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


extra_urlpatterns: list[URLPattern] = [
    path("service-hours/", ServiceHoursView.as_view(), name="service-hours"),
]


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("service-units", ServiceUnitViewSet, basename="service-unit")
    router.register("service-windows", ServiceWindowViewSet, basename="service-window")
    router.register("window-services", WindowServiceViewSet, basename="window-service")
