"""REST API of the windows app: appointments (预约服务 / 延时服务) and the free slots of a window.

Reads are scoped by Appointment.objects.visible_to (the enterprise's users and steward; the unit's keeper,
staff, and the zone's overseers): out of scope is a 404. Writes go through guanjia/windows/appointments.py,
whose refusals the exception handler maps (ServiceError 400, NotAllowed 403, Conflict 409); a role that may
never take a step is refused (403) before its input is read. A field the service refuses answers 400 with
{field: [message]}. Phones are masked for the roles that do not call the enterprise (a leader).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api_common import (
    ClockField,
    IdFilter,
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    caller,
    field_errors,
    version_field,
)
from guanjia.core.masking import mask_phone
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.windows import appointments as bookings
from guanjia.windows.access import enterprises_bookable_by
from guanjia.windows.models import (
    WINDOW_KEEPERS,
    WINDOW_OVERSEERS,
    Appointment,
    AppointmentKind,
    AppointmentState,
    ServiceUnit,
    ServiceWindow,
    Staffing,
    WindowService,
)

ERRORS = Refusals(
    forbidden=_("无权执行此操作"),
    missing=_("预约不存在或不在您的范围内"),
    stale=_("预约已被他人处理：请重新读取后再提交"),
)

SLOT_ERRORS = Refusals(
    forbidden=_("只有企业用户和服务管家可以查询可预约时段"),
    missing=_("窗口不存在或不在您可预约的范围内"),
)

BOOKERS = frozenset({Role.ENTERPRISE_USER, Role.STEWARD})
READERS = frozenset({*BOOKERS, *WINDOW_KEEPERS, *WINDOW_OVERSEERS, Role.HANDLER})
# Who may call each write at all (the service then decides on the object).
WRITERS: dict[str, frozenset[str]] = {
    "create": BOOKERS,
    "extended": BOOKERS,
    "cancel": frozenset({*BOOKERS, *WINDOW_KEEPERS}),
    "arrange": frozenset(WINDOW_KEEPERS),
    "decline": frozenset(WINDOW_KEEPERS),
    "serve": frozenset({*WINDOW_KEEPERS, Role.HANDLER}),
    "miss": frozenset({*WINDOW_KEEPERS, Role.HANDLER}),
}


class StateField(NamedEnumField):
    enum_name = "AppointmentStateEnum"
    choice_set = AppointmentState


class KindField(NamedEnumField):
    enum_name = "AppointmentKindEnum"
    choice_set = AppointmentKind


def _is_staff(user: User) -> bool:
    return Staffing.objects.filter(user=user, is_active=True).exists()


# --- serializers --------------------------------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer):
    unit = serializers.IntegerField(source="unit_id", read_only=True, help_text=_("服务单位 id"))
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    window = serializers.IntegerField(source="window_id", read_only=True, help_text=_("窗口 id"))
    window_name = serializers.CharField(source="window.__str__", read_only=True)
    service = serializers.IntegerField(source="service_id", allow_null=True, read_only=True)
    service_name = serializers.CharField(source="service.name", allow_null=True, read_only=True, default=None)
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True, help_text=_("企业 id"))
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    kind = KindField(read_only=True)
    state = StateField(read_only=True)
    starts_at = ClockField(read_only=True)
    ends_at = ClockField(read_only=True)
    contact_phone = serializers.SerializerMethodField(
        help_text=_("联系电话；领导等不需联系企业的角色看到的是脱敏号码")
    )
    staff = serializers.IntegerField(
        source="staff_id", allow_null=True, read_only=True, help_text=_("接待人员 id")
    )
    booked_by = serializers.IntegerField(source="booked_by_id", read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "unit",
            "unit_name",
            "window",
            "window_name",
            "service",
            "service_name",
            "enterprise",
            "enterprise_name",
            "kind",
            "state",
            "date",
            "starts_at",
            "ends_at",
            "seat",
            "contact_name",
            "contact_phone",
            "note",
            "staff",
            "reason",
            "booked_by",
            "on_behalf",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_contact_phone(self, appointment: Appointment) -> str:
        user = caller(self.context)
        if user is None:
            return mask_phone(appointment.contact_phone)
        return bookings.phone_shown(user, appointment)


class BookableWindowField(ScopedField):
    default_error_messages = {"does_not_exist": _("窗口 {pk_value} 不存在或不接受您的预约")}

    def scoped(self, user: User) -> QuerySet[ServiceWindow]:
        return bookings.bookable_windows(user).select_related("unit")


class BookableEnterpriseField(ScopedField):
    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不在您可预约的范围内")}

    def scoped(self, user: User) -> QuerySet[Enterprise]:
        return enterprises_bookable_by(user)


class WindowServiceField(ScopedField):
    default_error_messages = {"does_not_exist": _("服务事项 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[WindowService]:
        return WindowService.objects.filter(window__in=bookings.bookable_windows(user))


class StaffField(ScopedField):
    default_error_messages = {"does_not_exist": _("工作人员 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[User]:
        units = ServiceUnit.objects.visible_to(user)
        return User.objects.filter(pk__in=Staffing.objects.filter(unit__in=units).values("user_id"))


class _ContactSerializer(serializers.Serializer):
    window = BookableWindowField(help_text=_("窗口 id：本园区公布的服务单位的窗口"))
    enterprise = BookableEnterpriseField(help_text=_("企业 id：企业用户为本企业，服务管家为所服务的企业"))
    date = serializers.DateField(help_text=_("日期：办公日，今天起“可预约天数”以内"))
    start = ClockField(help_text=_("开始时间 HH:MM"))
    contact_name = serializers.CharField(max_length=bookings.NAME_MAX)
    contact_phone = serializers.CharField(max_length=20, help_text=_("11 位手机号或带区号的固定电话"))


class AppointmentBookSerializer(_ContactSerializer):
    service = WindowServiceField(
        required=False, allow_null=True, default=None, help_text=_("服务事项 id（选填）")
    )
    note = serializers.CharField(max_length=bookings.NOTE_MAX, required=False, allow_blank=True, default="")


class AppointmentExtendedSerializer(_ContactSerializer):
    start = ClockField(help_text=_("开始时间 HH:MM：办公时间以外"))
    end = ClockField(help_text=_("结束时间 HH:MM：晚于开始时间"))
    note = serializers.CharField(max_length=bookings.NOTE_MAX, help_text=_("需要办理的事项"))


class AppointmentArrangeSerializer(serializers.Serializer):
    staff = StaffField(help_text=_("接待人员 id：该服务单位在岗的工作人员"))
    version = version_field()


class AppointmentDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bookings.NOTE_MAX, help_text=_("未安排原因（企业可见）"))
    version = version_field()


class AppointmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bookings.NOTE_MAX, required=False, allow_blank=True, default="")
    version = version_field()


class AppointmentStepSerializer(serializers.Serializer):
    version = version_field()


class AppointmentSlotSerializer(serializers.Serializer):
    start = ClockField()
    end = ClockField()
    free = serializers.IntegerField(help_text=_("剩余可预约数"))
    noon = serializers.BooleanField(help_text=_("午间时段（单位中午不间断服务）"))


# --- filters and permissions --------------------------------------------------------------------------


class AppointmentFilter(django_filters.FilterSet):
    unit = IdFilter(label=_("服务单位 id"), field_name="unit_id")
    window = IdFilter(label=_("窗口 id"), field_name="window_id")
    date = django_filters.DateFilter(label=_("日期"), field_name="date")
    state = django_filters.ChoiceFilter(label=_("状态"), choices=AppointmentState.choices)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=AppointmentKind.choices)

    class Meta:
        model = Appointment
        fields: list[str] = []


class SlotQuery(serializers.Serializer):
    window = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("窗口 id"))
    date = serializers.DateField(help_text=_("日期"))


class AppointmentRoles(BasePermission):
    """Readers read; each write is for the roles that may ever take it (WRITERS)."""

    message = _("您的角色无权执行此操作")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or user.is_admin_account:
            return False
        if request.method in SAFE_METHODS:
            return user.has_any_role(READERS) or _is_staff(user)
        return user.has_any_role(WRITERS.get(getattr(view, "action", "") or "", frozenset()))


class BookersOnly(BasePermission):
    message = _("只有企业用户和服务管家可以查询可预约时段")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(BOOKERS)


# --- the viewsets -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List appointments",
        description=(
            "Appointments the caller may see: its enterprise's (enterprise user, steward), its unit's (keeper, "
            "staff) and its zone's (leader, supervisor, dispatcher). Filters: unit, window, date, state, kind."
        ),
    ),
    retrieve=extend_schema(
        summary="An appointment", responses=ERRORS.responses(200, AppointmentSerializer, 404)
    ),
    create=extend_schema(
        summary="Book a slot (预约服务)",
        description=(
            "An enterprise user books a free slot at a window for its enterprise, a steward for one it serves "
            "(on_behalf). Refused: a closed day (法定节假日), a time outside the service slots (noon where the "
            "unit closes for lunch), a past slot, a day beyond booking_days, a service of another window, the "
            "same slot twice (409), a full slot (409 该时段已约满)."
        ),
        request=AppointmentBookSerializer,
        responses=ERRORS.responses(201, AppointmentSerializer, 400, 403, 409),
    ),
)
class AppointmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Appointments the caller may see, and their steps."""

    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    permission_classes = [IsAuthenticated, AppointmentRoles]
    http_method_names = ["get", "post", "head", "options"]
    step_serializers: dict[str, type[serializers.Serializer]] = {
        "create": AppointmentBookSerializer,
        "extended": AppointmentExtendedSerializer,
        "arrange": AppointmentArrangeSerializer,
        "decline": AppointmentDeclineSerializer,
        "cancel": AppointmentCancelSerializer,
        "serve": AppointmentStepSerializer,
        "miss": AppointmentStepSerializer,
    }

    def get_queryset(self) -> QuerySet[Appointment]:
        return (
            Appointment.objects.visible_to(actor(self.request))
            .select_related("unit", "window", "service", "enterprise")
            .order_by("-date", "-starts_at", "-pk")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.step_serializers.get(self.action or "", AppointmentSerializer)

    def _validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _show(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=appointment.pk)
        return Response(AppointmentSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        appointment = field_errors(
            lambda: bookings.book(
                data["window"],
                enterprise=data["enterprise"],
                day=data["date"],
                start=data["start"],
                by=actor(request),
                service=data["service"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                note=data["note"],
            )
        )
        return self._show(appointment, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ask for service outside the hours (延时服务)",
        description=(
            "An enterprise user (or its steward) asks for a time outside the unit's hours: a closed day, or a "
            "time no service slot covers; the note says what is needed. It waits (requested) for the unit's "
            "keeper to arrange or decline it."
        ),
        request=AppointmentExtendedSerializer,
        responses=ERRORS.responses(201, AppointmentSerializer, 400, 403, 409),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def extended(self, request: Request) -> Response:
        data = self._validated()
        appointment = field_errors(
            lambda: bookings.request_extended(
                data["window"],
                enterprise=data["enterprise"],
                day=data["date"],
                start=data["start"],
                end=data["end"],
                by=actor(request),
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                note=data["note"],
            )
        )
        return self._show(appointment, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Arrange a 延时服务 request with a member of staff",
        description="The unit's keeper; one person is not arranged twice at the same time (409).",
        request=AppointmentArrangeSerializer,
        responses=ERRORS.responses(200, AppointmentSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def arrange(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        data = self._validated()
        field_errors(
            lambda: bookings.arrange(
                appointment, staff=data["staff"], by=actor(request), version=data["version"]
            )
        )
        return self._show(appointment)

    @extend_schema(
        summary="Decline a 延时服务 request",
        description="The unit's keeper, with the reason the enterprise reads.",
        request=AppointmentDeclineSerializer,
        responses=ERRORS.responses(200, AppointmentSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decline(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        data = self._validated()
        field_errors(
            lambda: bookings.decline(
                appointment, reason=data["reason"], by=actor(request), version=data["version"]
            )
        )
        return self._show(appointment)

    @extend_schema(
        summary="Cancel a booking or a request",
        description=(
            "The enterprise's users or steward before its start, or the unit's keeper (the enterprise is told). "
            "The seat is free again."
        ),
        request=AppointmentCancelSerializer,
        responses=ERRORS.responses(200, AppointmentSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        data = self._validated()
        field_errors(
            lambda: bookings.cancel(
                appointment, by=actor(request), version=data["version"], reason=data["reason"]
            )
        )
        return self._show(appointment)

    @extend_schema(
        summary="Mark a booking served",
        description="The staff receiving it (rostered at its window that day, or arranged) or the unit's keeper, once its time has come.",
        request=AppointmentStepSerializer,
        responses=ERRORS.responses(200, AppointmentSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def serve(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        data = self._validated()
        bookings.serve(appointment, by=actor(request), version=data["version"])
        return self._show(appointment)

    @extend_schema(
        summary="Mark a booking missed (the enterprise did not come)",
        description="As serve.",
        request=AppointmentStepSerializer,
        responses=ERRORS.responses(200, AppointmentSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def miss(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        data = self._validated()
        bookings.miss(appointment, by=actor(request), version=data["version"])
        return self._show(appointment)


class AppointmentSlotViewSet(viewsets.GenericViewSet):
    """The free slots of a window on a day, for the enterprise users and stewards who book."""

    permission_classes = [IsAuthenticated, BookersOnly]
    serializer_class = AppointmentSlotSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ServiceWindow]:
        return bookings.bookable_windows(actor(self.request))

    @extend_schema(
        summary="The free slots of a window on a day",
        description=(
            "Slots at which the window serves on that day, not yet begun, with the seats left (free may be 0). "
            "None on a closed day or beyond booking_days. A window the caller may not book at is a 404."
        ),
        parameters=[SlotQuery],
        responses=SLOT_ERRORS.responses(200, AppointmentSlotSerializer(many=True), 400, 403, 404),
    )
    def list(self, request: Request) -> Response:
        query = SlotQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = self.get_queryset().select_related("unit").filter(pk=query.validated_data["window"]).first()
        if window is None:
            raise NotFound(_("窗口不存在或不在您可预约的范围内"))
        slots = bookings.available_slots(window, query.validated_data["date"])
        return Response(AppointmentSlotSerializer(slots, many=True).data)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("appointments", AppointmentViewSet, basename="appointment")
    router.register("appointment-slots", AppointmentSlotViewSet, basename="appointment-slot")
