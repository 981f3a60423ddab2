"""REST API of the talent app (人才绿色通道): tiers, needs, applications for recognition (create,
decide), services (create, decide) and the counts per enterprise and chain.

Reads are scoped by each model's visible_to (out of scope is a 404); writes go through
guanjia/talent/services.py, whose refusals the exception handler maps (ServiceError 400, NotAllowed 403,
Conflict 409). A role that may never take a step is refused (403) before its input is read. ID numbers
and phones are masked except for the deciding department and the enterprise's own users. Documents of an
application are uploaded on the portal page (multipart); the API reads their names.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api_common import (
    IdFilter,
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    caller,
    field_errors,
    version_field,
)
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.talent import services
from guanjia.talent.access import enterprises_served_by, id_number_shown, overseen_zones, phone_shown
from guanjia.talent.models import (
    TALENT_DECIDERS,
    TALENT_OVERSEERS,
    TALENT_REQUESTERS,
    ApplicationStatus,
    NeedStatus,
    ServiceKind,
    ServiceStatus,
    TalentApplication,
    TalentNeed,
    TalentService,
    TalentTier,
)

ERRORS = Refusals(
    forbidden=_("无权执行此操作"),
    missing=_("对象不存在或不在您的范围内"),
    stale=_("已被他人处理：请重新读取后再提交"),
)
READERS = frozenset({*TALENT_REQUESTERS, *TALENT_DECIDERS, *TALENT_OVERSEERS})
# Who may call each write at all (the service then decides on the object).
WRITERS: dict[str, frozenset[str]] = {
    "create": frozenset(TALENT_REQUESTERS),
    "close": frozenset(TALENT_REQUESTERS),
    "decide": frozenset(TALENT_DECIDERS),
}
TIER_WRITERS = frozenset(TALENT_OVERSEERS)


class NeedStatusField(NamedEnumField):
    enum_name = "TalentNeedStatusEnum"
    choice_set = NeedStatus


class ApplicationStatusField(NamedEnumField):
    enum_name = "TalentApplicationStatusEnum"
    choice_set = ApplicationStatus


class ServiceStatusField(NamedEnumField):
    enum_name = "TalentServiceStatusEnum"
    choice_set = ServiceStatus


class ServiceKindField(NamedEnumField):
    enum_name = "TalentServiceKindEnum"
    choice_set = ServiceKind


class ActionRoles(BasePermission):
    """Readers read; each write is for the roles that may ever take it (WRITERS)."""

    message = _("您的角色无权执行此操作")
    writers: dict[str, frozenset[str]] = WRITERS

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or user.is_admin_account:
            return False
        if request.method in SAFE_METHODS:
            return user.has_any_role(READERS)
        return user.has_any_role(self.writers.get(getattr(view, "action", "") or "", frozenset()))


class TierRoles(ActionRoles):
    writers = {"create": TIER_WRITERS, "partial_update": TIER_WRITERS}


class OverseersOnly(BasePermission):
    message = _("只有领导和效能督查可以查看人才服务统计")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(TALENT_OVERSEERS)


# --- scoped fields ------------------------------------------------------------------------------------


class ServedEnterpriseField(ScopedField):
    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Enterprise]:
        return enterprises_served_by(user)


class TierField(ScopedField):
    default_error_messages = {"does_not_exist": _("人才类别 {pk_value} 不存在或不属于您企业所在园区")}

    def scoped(self, user: User) -> QuerySet[TalentTier]:
        return TalentTier.objects.filter(zone_id__in=enterprises_served_by(user).values("zone_id"))


class ApprovedTalentField(ScopedField):
    default_error_messages = {"does_not_exist": _("人才 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[TalentApplication]:
        return TalentApplication.objects.filter(enterprise__in=enterprises_served_by(user)).select_related(
            "enterprise"
        )


class OverseenZoneField(ScopedField):
    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return overseen_zones(user)


# --- serializers --------------------------------------------------------------------------------------


class TalentTierSerializer(serializers.ModelSerializer):
    zone = serializers.IntegerField(source="zone_id", read_only=True, help_text=_("园区 id"))

    class Meta:
        model = TalentTier
        fields = ["id", "zone", "code", "name", "description", "position", "version"]
        read_only_fields = fields


class TalentTierWriteSerializer(serializers.Serializer):
    zone = OverseenZoneField(help_text=_("园区 id：您所在范围内的园区"))
    code = serializers.CharField(max_length=4, help_text=_("类别代码，如 A"))
    name = serializers.CharField(max_length=30)
    description = serializers.CharField(
        max_length=services.TEXT_MAX, required=False, allow_blank=True, default=""
    )
    position = serializers.IntegerField(min_value=0, max_value=999, required=False, default=0)


class TalentTierUpdateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=4, required=False)
    name = serializers.CharField(max_length=30, required=False)
    description = serializers.CharField(max_length=services.TEXT_MAX, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=999, required=False)
    version = version_field()


class TalentNeedSerializer(serializers.ModelSerializer):
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    status = NeedStatusField(read_only=True)

    class Meta:
        model = TalentNeed
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "post",
            "count",
            "by_date",
            "note",
            "status",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class TalentNeedCreateSerializer(serializers.Serializer):
    enterprise = ServedEnterpriseField(help_text=_("企业 id：企业用户为本企业，服务管家为所服务的企业"))
    post = serializers.CharField(max_length=services.POST_MAX)
    count = serializers.IntegerField(min_value=1, max_value=services.COUNT_MAX)
    by_date = serializers.DateField(help_text=_("需求时间：今天或以后"))
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class TalentNeedCloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[NeedStatus.FILLED, NeedStatus.WITHDRAWN])
    version = version_field()


class TalentDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()


class TalentApplicationSerializer(serializers.ModelSerializer):
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    tier = serializers.IntegerField(source="tier_id", read_only=True)
    tier_code = serializers.CharField(source="tier.code", read_only=True)
    department = serializers.IntegerField(source="department_id", read_only=True, help_text=_("认定部门 id"))
    status = ApplicationStatusField(read_only=True)
    id_number = serializers.SerializerMethodField(
        help_text=_("身份证号；认定部门和企业本身以外看到的是脱敏号码")
    )
    phone = serializers.SerializerMethodField(help_text=_("手机号；认定部门和企业本身以外看到的是脱敏号码"))
    documents = TalentDocumentSerializer(many=True, read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = TalentApplication
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "person_name",
            "id_number",
            "phone",
            "tier",
            "tier_code",
            "department",
            "status",
            "reason",
            "documents",
            "submitted_at",
            "decided_by",
            "decided_at",
            "version",
        ]
        read_only_fields = fields

    def get_id_number(self, application: TalentApplication) -> str:
        return id_number_shown(caller(self.context), application)

    def get_phone(self, application: TalentApplication) -> str:
        return phone_shown(caller(self.context), application)


class TalentApplicationCreateSerializer(serializers.Serializer):
    enterprise = ServedEnterpriseField(help_text=_("企业 id"))
    person_name = serializers.CharField(max_length=services.NAME_MAX)
    id_number = serializers.CharField(max_length=18, help_text=_("18 位居民身份证号码"))
    phone = serializers.CharField(max_length=11, help_text=_("11 位手机号码"))
    tier = TierField(help_text=_("人才类别 id：企业所在园区的类别"))


class TalentApplicationDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=_("true 通过认定，false 不予认定"))
    reason = serializers.CharField(
        max_length=services.NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("不予认定时必填"),
    )
    version = version_field()


class TalentServiceSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(
        source="application_id", read_only=True, help_text=_("人才（认定申请）id")
    )
    person_name = serializers.CharField(source="application.person_name", read_only=True)
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    kind = ServiceKindField(read_only=True)
    department = serializers.IntegerField(source="department_id", read_only=True, help_text=_("责任部门 id"))
    status = ServiceStatusField(read_only=True)
    overdue = serializers.SerializerMethodField(help_text=_("已超过办理期限（办理中已过期，或办结晚于期限）"))
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = TalentService
        fields = [
            "id",
            "application",
            "person_name",
            "enterprise",
            "enterprise_name",
            "kind",
            "department",
            "note",
            "status",
            "requested_at",
            "workdays",
            "due_at",
            "due_day",
            "provisional",
            "overdue",
            "result",
            "reason",
            "decided_by",
            "decided_at",
            "version",
        ]
        read_only_fields = fields

    def get_overdue(self, service: TalentService) -> bool:
        return service.is_overdue()


class TalentServiceCreateSerializer(serializers.Serializer):
    application = ApprovedTalentField(help_text=_("人才（已认定的申请）id"))
    kind = ServiceKindField(help_text=_("服务事项"))
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class TalentServiceDecideSerializer(serializers.Serializer):
    grant = serializers.BooleanField(help_text=_("true 办结，false 未予办理"))
    result = serializers.CharField(
        max_length=services.TEXT_MAX, required=False, allow_blank=True, default="", help_text=_("办结时必填")
    )
    reason = serializers.CharField(
        max_length=services.NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("未予办理时必填"),
    )
    version = version_field()


class TalentServiceCountsSerializer(serializers.Serializer):
    requested = serializers.IntegerField()
    granted = serializers.IntegerField()
    declined = serializers.IntegerField()


class TalentApplicationCountsSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()


class TalentKindCountsSerializer(serializers.Serializer):
    housing = TalentServiceCountsSerializer()
    schooling = TalentServiceCountsSerializer()
    medical = TalentServiceCountsSerializer()
    settlement = TalentServiceCountsSerializer()


class TalentTallySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("企业或产业链 id"))
    name = serializers.CharField()
    applications = TalentApplicationCountsSerializer()
    services = TalentKindCountsSerializer()
    open_needs = serializers.IntegerField()


# The list action answers one set of figures, not a list of them.
@extend_schema_serializer(many=False)
class TalentCountsSerializer(serializers.Serializer):
    enterprises = TalentTallySerializer(many=True)
    chains = TalentTallySerializer(many=True)


class TalentCountsQuery(serializers.Serializer):
    zone = OverseenZoneField(required=False, help_text=_("园区 id（默认：您范围内的全部园区）"))


# --- viewsets -----------------------------------------------------------------------------------------


class _Steps(viewsets.GenericViewSet):
    step_serializers: dict[str, type[serializers.Serializer]] = {}
    read_serializer: type[serializers.Serializer]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.step_serializers.get(self.action or "", self.read_serializer)

    def _validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _show(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.read_serializer(fresh, context=self.get_serializer_context()).data, status=code)


class TierFilter(django_filters.FilterSet):
    zone = IdFilter(label=_("园区 id"), field_name="zone_id")

    class Meta:
        model = TalentTier
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="List talent tiers",
        description="The tiers of the zones the caller works in or acts for. Filter: zone.",
    ),
    retrieve=extend_schema(
        summary="A talent tier", responses=ERRORS.responses(200, TalentTierSerializer, 404)
    ),
    create=extend_schema(
        summary="Add a talent tier",
        description="A leader or supervisor of the zone. The code is unique in the zone.",
        request=TalentTierWriteSerializer,
        responses=ERRORS.responses(201, TalentTierSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary="Edit a talent tier",
        description="A leader or supervisor of the zone, with the version read (409 when stale).",
        request=TalentTierUpdateSerializer,
        responses=ERRORS.responses(200, TalentTierSerializer, 400, 403, 404, 409),
    ),
)
class TierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _Steps,
):
    """A zone's talent tiers (A 顶尖人才 … E 基础人才)."""

    queryset = TalentTier.objects.none()
    read_serializer = TalentTierSerializer
    step_serializers = {"create": TalentTierWriteSerializer, "partial_update": TalentTierUpdateSerializer}
    filterset_class = TierFilter
    permission_classes = [IsAuthenticated, TierRoles]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[TalentTier]:
        user = actor(self.request)
        zones = set(user.zone_ids()) | set(enterprises_served_by(user).values_list("zone_id", flat=True))
        return TalentTier.objects.filter(zone_id__in=zones).order_by("zone_id", "position", "code")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        zone = data.pop("zone")
        tier = field_errors(lambda: services.save_tier(zone, by=actor(request), **data))
        return self._show(tier, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tier = self.get_object()
        data = self._validated()
        fields = {
            "code": data.get("code", tier.code),
            "name": data.get("name", tier.name),
            "description": data.get("description", tier.description),
            "position": data.get("position", tier.position),
        }
        field_errors(
            lambda: services.save_tier(
                tier.zone, by=actor(request), tier=tier, version=data["version"], **fields
            )
        )
        return self._show(tier)


class NeedFilter(django_filters.FilterSet):
    enterprise = IdFilter(label=_("企业 id"), field_name="enterprise_id")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=NeedStatus.choices)

    class Meta:
        model = TalentNeed
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="List talent needs",
        description=(
            "Needs the caller may see: its enterprise's (enterprise user, steward), its zone's (leader, "
            "supervisor, the talent office). Filters: enterprise, status."
        ),
    ),
    retrieve=extend_schema(
        summary="A talent need", responses=ERRORS.responses(200, TalentNeedSerializer, 404)
    ),
    create=extend_schema(
        summary="Add a talent need",
        description="An enterprise user for its enterprise, a steward for one it serves.",
        request=TalentNeedCreateSerializer,
        responses=ERRORS.responses(201, TalentNeedSerializer, 400, 403),
    ),
)
class NeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Steps):
    """An enterprise's talent needs: posts, numbers, by when."""

    queryset = TalentNeed.objects.none()
    read_serializer = TalentNeedSerializer
    step_serializers = {"create": TalentNeedCreateSerializer, "close": TalentNeedCloseSerializer}
    filterset_class = NeedFilter
    permission_classes = [IsAuthenticated, ActionRoles]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[TalentNeed]:
        return (
            TalentNeed.objects.visible_to(actor(self.request))
            .select_related("enterprise")
            .order_by("by_date", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        need = field_errors(
            lambda: services.add_need(
                data["enterprise"],
                by=actor(request),
                post=data["post"],
                count=data["count"],
                by_date=data["by_date"],
                note=data["note"],
            )
        )
        return self._show(need, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a need filled or withdrawn",
        description="The enterprise's users or steward; open → filled / withdrawn.",
        request=TalentNeedCloseSerializer,
        responses=ERRORS.responses(200, TalentNeedSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request: Request, pk: str | None = None) -> Response:
        need = self.get_object()
        data = self._validated()
        services.close_need(need, status=data["status"], by=actor(request), version=data["version"])
        return self._show(need)


class ApplicationFilter(django_filters.FilterSet):
    enterprise = IdFilter(label=_("企业 id"), field_name="enterprise_id")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ApplicationStatus.choices)

    class Meta:
        model = TalentApplication
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="List talent applications",
        description=(
            "Applications for recognition the caller may see: its enterprise's, its department's (the talent "
            "office) and its zone's (leader, supervisor). Filters: enterprise, status."
        ),
    ),
    retrieve=extend_schema(
        summary="A talent application", responses=ERRORS.responses(200, TalentApplicationSerializer, 404)
    ),
    create=extend_schema(
        summary="Apply for the recognition of a talent",
        description=(
            "An enterprise user for its enterprise, a steward for one it serves. Routed to the zone's talent "
            "office (the department set for 人才认定); refused when the zone has none. Documents are added on "
            "the portal page."
        ),
        request=TalentApplicationCreateSerializer,
        responses=ERRORS.responses(201, TalentApplicationSerializer, 400, 403),
    ),
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Steps):
    """Applications for the recognition of talent (人才认定申请)."""

    queryset = TalentApplication.objects.none()
    read_serializer = TalentApplicationSerializer
    step_serializers = {
        "create": TalentApplicationCreateSerializer,
        "decide": TalentApplicationDecideSerializer,
    }
    filterset_class = ApplicationFilter
    permission_classes = [IsAuthenticated, ActionRoles]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[TalentApplication]:
        return (
            TalentApplication.objects.visible_to(actor(self.request))
            .select_related("enterprise", "tier")
            .prefetch_related("documents")
            .order_by("-submitted_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        application = field_errors(
            lambda: services.submit_application(
                data["enterprise"],
                by=actor(request),
                person_name=data["person_name"],
                id_number=data["id_number"],
                phone=data["phone"],
                tier=data["tier"],
            )
        )
        return self._show(application, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Decide an application (approve or reject)",
        description="A handler or the head of the talent office; a rejection carries its reason.",
        request=TalentApplicationDecideSerializer,
        responses=ERRORS.responses(200, TalentApplicationSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        data = self._validated()
        field_errors(
            lambda: services.decide_application(
                application,
                by=actor(request),
                approve=data["approve"],
                reason=data["reason"],
                version=data["version"],
            )
        )
        return self._show(application)


class ServiceFilter(django_filters.FilterSet):
    enterprise = IdFilter(label=_("企业 id"), field_name="enterprise_id")
    application = IdFilter(label=_("人才 id"), field_name="application_id")
    kind = django_filters.ChoiceFilter(label=_("服务事项"), choices=ServiceKind.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ServiceStatus.choices)

    class Meta:
        model = TalentService
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="List talent services",
        description=(
            "Services the caller may see: its enterprise's, those routed to its department, its zone's (leader, "
            "supervisor). Filters: enterprise, application, kind, status."
        ),
    ),
    retrieve=extend_schema(
        summary="A talent service", responses=ERRORS.responses(200, TalentServiceSerializer, 404)
    ),
    create=extend_schema(
        summary="Ask for a service for an approved talent",
        description=(
            "An enterprise user (or its steward). Routed to the department the zone set for the kind; the "
            "deadline is 24:00 Beijing time of the route's Nth working day after the request."
        ),
        request=TalentServiceCreateSerializer,
        responses=ERRORS.responses(201, TalentServiceSerializer, 400, 403),
    ),
)
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Steps):
    """Services for recognised talent (住房保障、子女入学、医疗绿色通道、落户)."""

    queryset = TalentService.objects.none()
    read_serializer = TalentServiceSerializer
    step_serializers = {"create": TalentServiceCreateSerializer, "decide": TalentServiceDecideSerializer}
    filterset_class = ServiceFilter
    permission_classes = [IsAuthenticated, ActionRoles]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[TalentService]:
        return (
            TalentService.objects.visible_to(actor(self.request))
            .select_related("enterprise", "application")
            .order_by("due_at", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        service = field_errors(
            lambda: services.request_service(
                data["application"], kind=data["kind"], by=actor(request), note=data["note"]
            )
        )
        return self._show(service, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Decide a service (grant or decline)",
        description=(
            "A handler or the head of the responsible department: granted with its result, or declined with "
            "the reason. Of two decisions at once one applies, the other gets 409."
        ),
        request=TalentServiceDecideSerializer,
        responses=ERRORS.responses(200, TalentServiceSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request: Request, pk: str | None = None) -> Response:
        service = self.get_object()
        data = self._validated()
        field_errors(
            lambda: services.decide_service(
                service,
                by=actor(request),
                grant=data["grant"],
                result=data["result"],
                reason=data["reason"],
                version=data["version"],
            )
        )
        return self._show(service)


class CountsViewSet(viewsets.GenericViewSet):
    """Talent figures per enterprise and per industry chain, for the zone's leaders and supervisors."""

    permission_classes = [IsAuthenticated, OverseersOnly]
    serializer_class = TalentCountsSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(
        summary="Talent figures per enterprise and per chain",
        description=(
            "Applications by status, services by kind and status, open needs; per enterprise of the caller's "
            "zones (or of `zone`) and per industry chain (an enterprise counts once per chain)."
        ),
        parameters=[TalentCountsQuery],
        responses=ERRORS.responses(200, TalentCountsSerializer, 400, 403),
    )
    def list(self, request: Request) -> Response:
        query = TalentCountsQuery(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        per, chains = services.counts(actor(request), zone=query.validated_data.get("zone"))

        def rows(tallies: dict[int, services.Tally]) -> list[dict[str, Any]]:
            return [
                {"id": pk, "name": tally.name, **tally.as_dict()}
                for pk, tally in sorted(tallies.items(), key=lambda item: item[1].name)
            ]

        return Response({"enterprises": rows(per), "chains": rows(chains)})


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("talent-tiers", TierViewSet, basename="talent-tier")
    router.register("talent-needs", NeedViewSet, basename="talent-need")
    router.register("talent-applications", ApplicationViewSet, basename="talent-application")
    router.register("talent-services", ServiceViewSet, basename="talent-service")
    router.register("talent-counts", CountsViewSet, basename="talent-counts")
