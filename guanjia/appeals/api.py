"""REST API: the category tree with its time limits and the caller's zones' routes (read-only), the KPIs,
and the appeals themselves (reads through visible_to, changes through the lifecycle services)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals import attachments, kpi, lifecycle, permissions
from guanjia.appeals.api_steps import STEP_INPUTS, AppealStepsMixin
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    Attachment,
    CategoryRoute,
    Channel,
    Rating,
    Status,
)
from guanjia.appeals.presentation import current_assignments, overdue_q
from guanjia.appeals.serializers import (
    AnswerSerializer,
    AppealCreateSerializer,
    AppealDetailSerializer,
    AppealSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DeclineSerializer,
    DispatchSerializer,
    RateSerializer,
    ReturnSerializer,
    VersionSerializer,
)
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.api import EditConflict, StrictBooleanFilter
from guanjia.core.http import client_ip
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import BUSINESS_ROLES, Role
from guanjia.core.workcalendar import BEIJING
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.serializers import ErrorSerializer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

extra_urlpatterns: list = []


class RouteSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    lead_department_name = serializers.CharField(source="lead_department.name", read_only=True)

    class Meta:
        model = CategoryRoute
        fields = ["zone", "zone_name", "lead_department", "lead_department_name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    routes = RouteSerializer(many=True, read_only=True, source="visible_routes")

    class Meta:
        model = AppealCategory
        fields = ["id", *CATEGORY_FIELDS, "routes"]
        read_only_fields = fields


class StaffOrSysadmin(BasePermission):
    """Staff of any business role (but enterprise users) and the system admin read the configuration."""

    message = "您的账号无权查看诉求类别配置"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and user.has_any_role(
            (BUSINESS_ROLES - {Role.ENTERPRISE_USER}) | {Role.SYSADMIN}
        )


@extend_schema_view(
    list=extend_schema(
        summary="诉求类别列表", description="类别树、各类办理时限（工作日）和本人所辖园区的默认主办部门。"
    ),
    retrieve=extend_schema(summary="诉求类别详情"),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated, StaffOrSysadmin]
    pagination_class = None

    def get_queryset(self) -> QuerySet[AppealCategory]:
        user = self.request.user
        routes = CategoryRoute.objects.select_related("zone", "lead_department")
        if isinstance(user, User) and not user.has_role(Role.SYSADMIN):
            routes = routes.filter(zone_id__in=user.zone_ids())
        return AppealCategory.objects.prefetch_related(
            Prefetch("routes", queryset=routes, to_attr="visible_routes")
        )


# --- KPIs (guanjia.appeals.kpi): every figure with its numerator and denominator -----------------

# Zone-wide readers see their zones' figures and may narrow them to a zone or a department;
# a department head sees its own department's.
KPI_ZONE_READERS = frozenset({Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})
KPI_READERS = KPI_ZONE_READERS | {Role.DEPARTMENT_HEAD}


class ReadsKpis(BasePermission):
    """Leaders, supervisors, dispatchers and department heads; not enterprise users, stewards, handlers or 三员."""

    message = _("您的账号无权查看诉求考核指标")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and user.has_any_role(KPI_READERS)


class KpiQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        help_text=_("统计期首日（北京时间，含当日），格式 YYYY-MM-DD"),
        error_messages={
            "required": _("请提供开始日期 start，格式为 YYYY-MM-DD"),
            "null": _("请提供开始日期 start，格式为 YYYY-MM-DD"),
            "invalid": _("开始日期 start 不是有效日期，格式应为 YYYY-MM-DD，例如 2026-03-01"),
        },
    )
    end = serializers.DateField(
        help_text=_("统计期结束日（北京时间，不含当日）：3 月全月为 start=2026-03-01、end=2026-04-01"),
        error_messages={
            "required": _("请提供结束日期 end（不含当日），格式为 YYYY-MM-DD"),
            "null": _("请提供结束日期 end（不含当日），格式为 YYYY-MM-DD"),
            "invalid": _("结束日期 end 不是有效日期，格式应为 YYYY-MM-DD，例如 2026-04-01"),
        },
    )
    zone = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("只统计该园区（须在您的范围内）"),
        error_messages={"invalid": _("园区 zone 应为园区编号（整数）")},
    )
    department = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("只统计该部门的记录：主办记录，协办按时反馈率为其协办记录（须在您的范围内）"),
        error_messages={"invalid": _("部门 department 应为部门编号（整数）")},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("结束日期 end 必须晚于开始日期 start")]})
        zone_ids = user.zone_ids()
        if "zone" in attrs and attrs["zone"] not in zone_ids:
            raise serializers.ValidationError({"zone": [_("园区 zone 不存在或不在您的范围内")]})
        if "department" in attrs:
            if not user.has_any_role(KPI_ZONE_READERS):
                if attrs["department"] != user.unit_id:
                    raise serializers.ValidationError({"department": [_("部门负责人只能查看本部门的指标")]})
            elif not OrgUnit.objects.filter(
                pk=attrs["department"], kind=OrgUnit.Kind.DEPARTMENT, parent_id__in=zone_ids
            ).exists():
                raise serializers.ValidationError(
                    {"department": [_("部门 department 不存在或不在您的范围内")]}
                )
        return attrs


class KpiValueSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("指标名称"))
    numerator = serializers.IntegerField(help_text=_("分子；平均办理时长为工作日合计"))
    denominator = serializers.IntegerField(help_text=_("分母，即样本数 n"))
    value = serializers.FloatField(allow_null=True, help_text=_("分子/分母；分母为 0 时为 null"))
    provisional = serializers.IntegerField(
        help_text=_("分母中期限落在工作日历尚未覆盖年份（临时计算）的记录数；该年日历补录后数字可能变化")
    )


# One field per KPI of guanjia.appeals.kpi.KPIS, in its order (test_kpi checks that the two agree).
class KpiSetSerializer(serializers.Serializer):
    on_time_signing = KpiValueSerializer(help_text=kpi.KPIS["on_time_signing"])
    on_time_answering = KpiValueSerializer(help_text=kpi.KPIS["on_time_answering"])
    first_satisfaction = KpiValueSerializer(help_text=kpi.KPIS["first_satisfaction"])
    final_satisfaction = KpiValueSerializer(help_text=kpi.KPIS["final_satisfaction"])
    praise_rate = KpiValueSerializer(help_text=kpi.KPIS["praise_rate"])
    solved_rate = KpiValueSerializer(help_text=kpi.KPIS["solved_rate"])
    reopen_rate = KpiValueSerializer(help_text=kpi.KPIS["reopen_rate"])
    mean_handling_days = KpiValueSerializer(help_text=kpi.KPIS["mean_handling_days"])
    co_on_time_feedback = KpiValueSerializer(help_text=kpi.KPIS["co_on_time_feedback"])


class KpiPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("不含当日"))
    zone = serializers.IntegerField(allow_null=True)
    department = serializers.IntegerField(allow_null=True)


# The list action answers one report, not a list of them.
@extend_schema_serializer(many=False)
class KpiReportSerializer(KpiPeriodSerializer):
    kpis = KpiSetSerializer()


class DepartmentKpisSerializer(serializers.Serializer):
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    zone = serializers.IntegerField(allow_null=True)
    kpis = KpiSetSerializer()


class DepartmentKpiReportSerializer(KpiPeriodSerializer):
    departments = DepartmentKpisSerializer(many=True)


def _kpi_data(values: dict[str, kpi.KpiValue]) -> dict[str, dict[str, Any]]:
    return {
        code: {
            "name": str(kpi.KPIS[code]),
            "numerator": value.numerator,
            "denominator": value.denominator,
            "value": value.value,
            "provisional": value.provisional,
        }
        for code, value in values.items()
    }


class PauseFiguresSerializer(serializers.Serializer):
    pauses_started = serializers.IntegerField(help_text=_("期内开始的暂停（补充材料）次数"))
    pauses_resumed = serializers.IntegerField(help_text=_("期内恢复计时的暂停次数"))
    paused_days = serializers.IntegerField(help_text=_("期内恢复的暂停合计暂停工作日"))
    extensions_approved = serializers.IntegerField(help_text=_("期内批准的延期次数"))
    extension_days = serializers.IntegerField(help_text=_("期内批准的延期合计工作日"))


class DepartmentPausesSerializer(PauseFiguresSerializer):
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    zone = serializers.IntegerField(allow_null=True)


class PauseReportSerializer(KpiPeriodSerializer):
    total = PauseFiguresSerializer(help_text=_("范围内合计"))
    departments = DepartmentPausesSerializer(many=True)


KPI_ERRORS_400 = OpenApiResponse(description=_("参数有误：{字段: [消息]}，消息写明是哪个参数"))
KPI_ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("该角色无权查看考核指标"))


class KpiViewSet(viewsets.ViewSet):
    """诉求考核指标 over the caller's scope (Appeal.objects.visible_to), defined in guanjia.appeals.kpi."""

    permission_classes = [IsAuthenticated, ReadsKpis]

    def _query(self, request: Request) -> tuple[dict[str, Any], kpi.Scope, kpi.Period]:
        query = KpiQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        user = request.user
        assert isinstance(user, User)  # ReadsKpis let only accounts through
        if user.has_any_role(KPI_ZONE_READERS):
            departments = [params["department"]] if "department" in params else None
        else:
            departments = [user.unit_id] if user.unit_id else []
        scope = kpi.Scope(
            appeals=Appeal.objects.visible_to(user),
            zone_ids=[params["zone"]] if "zone" in params else None,
            department_ids=departments,
        )
        period = kpi.Period(params["start"], params["end"])
        header = {
            "start": period.start,
            "end": period.end,
            "zone": params.get("zone"),
            "department": departments[0] if departments else None,
        }
        return header, scope, period

    @extend_schema(
        summary=_("诉求考核指标"),
        description=_(
            "调用者范围内的全部指标，各带分子、分母（样本数 n）和值；统计期为北京时间的日期，含 start、不含 end。"
            "口径见 docs/kpi.md。"
        ),
        parameters=[KpiQuerySerializer],
        responses={200: KpiReportSerializer, 400: KPI_ERRORS_400, 403: KPI_ERRORS_403},
    )
    def list(self, request: Request) -> Response:
        header, scope, period = self._query(request)
        body = {**header, "kpis": _kpi_data(kpi.all_kpis(scope, period))}
        return Response(KpiReportSerializer(body).data)

    @extend_schema(
        summary=_("各部门考核指标"),
        description=_(
            "按部门分列，供排名对比：主办部门的各项指标，协办部门的协办按时反馈率；只列出统计期内有记录的部门。"
        ),
        parameters=[KpiQuerySerializer],
        responses={200: DepartmentKpiReportSerializer, 400: KPI_ERRORS_400, 403: KPI_ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="by-department")
    def by_department(self, request: Request) -> Response:
        header, scope, period = self._query(request)
        rows = kpi.by_department(scope, period)
        departments = _by_department(
            [row.unit_id for row in rows], [{"kpis": _kpi_data(row.kpis)} for row in rows]
        )
        body = {**header, "departments": departments}
        return Response(DepartmentKpiReportSerializer(body).data)

    @extend_schema(
        summary=_("暂停与延期（按部门）"),
        description=_(
            "各部门期内开始的暂停次数、期内恢复的暂停及其暂停工作日、期内批准的延期及其工作日，另附范围内合计。"
            "口径见 docs/kpi.md。"
        ),
        parameters=[KpiQuerySerializer],
        responses={200: PauseReportSerializer, 400: KPI_ERRORS_400, 403: KPI_ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="pauses")
    def pauses(self, request: Request) -> Response:
        header, scope, period = self._query(request)
        rows = kpi.pauses_by_department(scope, period)
        departments = _by_department(
            [
                cast(int, row.department_id) for row in rows
            ],  # a department's row has its id; only the total has none
            [asdict(row) for row in rows],
        )
        body = {**header, "total": asdict(kpi.PauseFigures.total(rows)), "departments": departments}
        return Response(PauseReportSerializer(body).data)


def _by_department(unit_ids: list[int], bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's body with its department's id, name and zone, in the departments' code order."""
    units = OrgUnit.objects.in_bulk(unit_ids)
    named = [
        {
            **body,
            "department": unit_id,
            "department_name": units[unit_id].name,
            "zone": units[unit_id].parent_id,
        }
        for unit_id, body in zip(unit_ids, bodies, strict=True)
    ]
    return sorted(named, key=lambda row: units[row["department"]].code)


def register(router: DefaultRouter) -> None:
    router.register("appeal-categories", CategoryViewSet, basename="appeal-category")
    router.register("kpis", KpiViewSet, basename="kpi")
    router.register("appeals", AppealViewSet, basename="appeal")


# --- Appeals: reads through visible_to, every change through a lifecycle service ----------------


class AppealFilter(django_filters.FilterSet):
    """The filters of the appeal lists (as on the pages): status, category with its children,
    enterprise (one the caller may see), overdue."""

    status = django_filters.ChoiceFilter(choices=Status.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=AppealCategory.objects.all(), method="in_category", label=_("诉求类别（含下级类别）")
    )
    enterprise = django_filters.ModelChoiceFilter(queryset=Enterprise.objects.none(), label=_("企业"))
    overdue = StrictBooleanFilter(method="only_overdue", label=_("仅看已超期 overdue"))

    class Meta:
        model = Appeal
        fields = ["status", "category", "enterprise", "overdue"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        # Only an enterprise the caller may see: a department must not find out, by filtering,
        # which enterprise a confidential appeal belongs to.
        self.filters["enterprise"].queryset = Enterprise.objects.visible_to(
            user if isinstance(user, User) else None
        )

    def in_category(self, queryset: QuerySet[Appeal], name: str, value: AppealCategory) -> QuerySet[Appeal]:
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def only_overdue(self, queryset: QuerySet[Appeal], name: str, value: bool) -> QuerySet[Appeal]:
        return queryset.filter(overdue_q(timezone.now())) if value else queryset


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


APPEAL_ERRORS_400 = OpenApiResponse(
    description=_("输入有误：{字段: [消息]}；或业务规则不允许：{detail: 消息}"),
)
APPEAL_ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
APPEAL_ERRORS_404 = OpenApiResponse(ErrorSerializer, description=_("诉求不存在或不在您的范围内"))
APPEAL_ERRORS_409 = OpenApiResponse(
    ErrorSerializer, description=_("诉求已有新的进展（版本号不符）或当前状态不允许此操作：请重新读取")
)


# A download has the type detected at upload (guanjia.appeals.attachments), without its charset.
DOWNLOAD_TYPES = sorted(
    {
        kind.content_type.split(";")[0]
        for kind in (
            attachments.PDF,
            attachments.PNG,
            attachments.JPEG,
            attachments.GIF,
            attachments.WEBP,
            attachments.DOCX,
            attachments.XLSX,
            attachments.PPTX,
            attachments.DOC,
            attachments.XLS,
            attachments.OFD,
            attachments.TEXT_UTF8,
            attachments.TEXT_GB18030,
        )
    }
)


def _transition_schema(
    summary: StrOrPromise, request: type[serializers.Serializer], description: StrOrPromise = ""
) -> Any:
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={
            200: AppealDetailSerializer,
            400: APPEAL_ERRORS_400,
            403: APPEAL_ERRORS_403,
            404: APPEAL_ERRORS_404,
            409: APPEAL_ERRORS_409,
        },
    )


def _transition_action(name: str) -> Any:
    """A POST on one appeal at /api/appeals/{id}/<name>/, without the list's filters and pages."""
    return action(
        detail=True, methods=["post"], url_path=name, url_name=name, filter_backends=[], pagination_class=None
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("诉求列表"),
        description=_("调用者范围内的诉求，新提交的在前；对承办部门保密的诉求不显示企业（null）。"),
    ),
    retrieve=extend_schema(
        summary=_("诉求详情"),
        description=_("含当前承办记录、办理时间线、评价，以及调用者现在可以执行的操作。"),
        responses={200: AppealDetailSerializer, 404: APPEAL_ERRORS_404},
    ),
    create=extend_schema(
        summary=_("提交诉求"),
        description=_(
            "渠道由调用者角色决定：企业用户为“企业门户”，服务管家为“管家代报”，受理员为“电话/12345 转办”"
            "（须填外部工单号）。"
        ),
        request=AppealCreateSerializer,
        responses={
            201: AppealDetailSerializer,
            400: APPEAL_ERRORS_400,
            403: APPEAL_ERRORS_403,
            # guanjia.core.http.RateLimitMiddleware, for enterprise users (with Retry-After).
            429: OpenApiResponse(
                ErrorSerializer, description=_("企业用户提交过于频繁，请按 Retry-After 稍后再试")
            ),
        },
    ),
)
class AppealViewSet(
    AppealStepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """诉求: every read through Appeal.objects.visible_to (out of scope is 404), every change a
    lifecycle service. A transition carries the version the client read: a stale one is 409."""

    # The real queryset is get_queryset(); this one only names the model (router, schema).
    queryset = Appeal.objects.none()
    serializer_class = AppealSerializer
    input_serializers: dict[str, type[serializers.Serializer]] = {
        "create": AppealCreateSerializer,
        "dispatch_": DispatchSerializer,
        "decline": DeclineSerializer,
        "sign": VersionSerializer,
        "return_": ReturnSerializer,
        "answer": AnswerSerializer,
        "rate": RateSerializer,
        **STEP_INPUTS,  # the handling steps (api_steps.py)
    }
    filterset_class = AppealFilter
    permission_classes = [IsAuthenticated]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return AppealDetailSerializer
        return self.input_serializers.get(self.action or "", AppealSerializer)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        user = self.request.user if hasattr(self, "request") else None
        if isinstance(user, User):
            context["visibility"] = permissions.EnterpriseVisibility(user)
        return context

    def get_queryset(self) -> QuerySet[Appeal]:
        user = self.request.user
        queryset = (
            Appeal.objects.visible_to(user if isinstance(user, User) else None)
            .select_related("enterprise", "category", "category__parent")
            .order_by("-submitted_at", "-pk")
        )
        if self.action == "list":
            return queryset.prefetch_related(current_assignments())
        return queryset.prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("department").order_by("dispatched_at", "id"),
            ),
            Prefetch("events", queryset=AppealEvent.objects.select_related("actor", "actor__unit")),
            Prefetch("ratings", queryset=Rating.objects.select_related("rated_by", "rated_by__unit")),
            Prefetch(
                "attachments", queryset=Attachment.objects.select_related("uploaded_by", "uploaded_by__unit")
            ),
        )

    def _show(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset so the answer has the same shape as a GET.
        appeal = get_object_or_404(self.get_queryset(), pk=pk)
        data = AppealDetailSerializer(appeal, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        enterprise: Enterprise = data["enterprise"]
        channel = permissions.submit_channel(enterprise, user)
        if channel is None:
            raise exceptions.PermissionDenied(_("您不能为该企业提交诉求"))
        external_due = None
        if channel == Channel.PHONE:
            if not data["external_ticket"].strip():
                raise serializers.ValidationError(
                    {"external_ticket": [_("受理员录入电话或 12345 转办诉求时须填写外部工单号")]}
                )
            if data["external_due"] is not None:
                # As the page's form: the day's 24:00 Beijing time.
                external_due = datetime.combine(data["external_due"] + timedelta(days=1), time(0), BEIJING)
        # With multipart/form-data, `files` come with it: the appeal and its files, or neither.
        appeal = attachments.submit_with_attachments(
            enterprise,
            files=data["files"],
            title=data["title"],
            body=data["body"],
            channel=channel,
            by=user,
            category=data["category"],
            handling=data["handling"],
            urgent=data["urgent"],
            confidential=data["confidential"],
            external_ticket=data["external_ticket"].strip() if channel == Channel.PHONE else "",
            external_due=external_due,
        )
        return self._show(appeal.pk, status.HTTP_201_CREATED)

    def _transition(self, request: Request) -> tuple[Appeal, dict[str, Any], User]:
        """The appeal in scope (else 404), the validated input, and the version check."""
        user = _user(request)
        appeal = self.get_object()  # out of scope: 404 before anything else
        action_name = (self.action or "").rstrip("_")  # dispatch_, return_: named around Python
        if not permissions.may_attempt(action_name, user):
            raise exceptions.PermissionDenied(permissions.attempt_refusal(action_name))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # Judge the write against the state the client read. The lifecycle's conditional UPDATE
        # on (id, status, version) still catches a change that lands between here and there.
        if data["version"] != appeal.version:
            raise EditConflict(
                _("该诉求已有新的进展（当前版本 %(current)s，您读取的是 %(sent)s），请重新读取后再提交")
                % {"current": appeal.version, "sent": data["version"]}
            )
        return appeal, data, user

    @_transition_schema(
        _("交办"), DispatchSerializer, _("受理员受理（如未受理）并交办给主办部门和协办部门。")
    )
    # Not named `dispatch`: that would replace the view's own request dispatch.
    @_transition_action("dispatch")
    def dispatch_(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.dispatch_appeal(
            appeal,
            to=data["department"],
            co=list(data["co_departments"]),
            category=data["category"],
            note=data["note"],
            by=user,
        )
        return self._show(appeal.pk)

    @_transition_schema(_("不予受理"), DeclineSerializer)
    @_transition_action("decline")
    def decline(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.decline_appeal(appeal, reason=data["reason"], advice=data["advice"], by=user)
        return self._show(appeal.pk)

    @_transition_schema(_("签收"), VersionSerializer, _("主办部门的承办人或部门负责人签收。"))
    @_transition_action("sign")
    def sign(self, request: Request, pk: str | None = None) -> Response:
        appeal, _data, user = self._transition(request)
        lifecycle.sign_appeal(appeal, by=user)
        return self._show(appeal.pk)

    @_transition_schema(_("退回"), ReturnSerializer, _("签收前或签收后 1 个工作日内，主办部门退回受理员。"))
    @_transition_action("return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.return_appeal(appeal, reason=data["reason"], by=user)
        return self._show(appeal.pk)

    @_transition_schema(_("答复"), AnswerSerializer)
    @_transition_action("answer")
    def answer(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.answer_appeal(appeal, answer=data["answer"], outcome=data["outcome"], by=user)
        return self._show(appeal.pk)

    @_transition_schema(
        _("评价"),
        RateSerializer,
        _("企业用户评价答复；服务管家或受理员回访时以 on_behalf=true 代为记录。不满意时重办。"),
    )
    @_transition_action("rate")
    def rate(self, request: Request, pk: str | None = None) -> Response:
        appeal, data, user = self._transition(request)
        lifecycle.rate_appeal(
            appeal,
            level=data["level"],
            solved=data["solved"],
            comment=data["comment"],
            on_behalf=data["on_behalf"],
            by=user,
        )
        return self._show(appeal.pk)

    # --- attachments (guanjia.appeals.attachments) ---

    def _attachments(self, appeal: Appeal) -> list[Any]:
        rows = appeal.attachments.select_related("uploaded_by", "uploaded_by__unit")
        context = {**self.get_serializer_context(), "appeal": appeal}
        return list(AttachmentSerializer(rows, many=True, context=context).data)

    @extend_schema(
        methods=["GET"],
        summary=_("诉求附件列表"),
        description=_("按上传时间排列；上传人对承办部门的显示规则与办理过程相同。"),
        responses={200: AttachmentSerializer(many=True), 404: APPEAL_ERRORS_404},
    )
    @extend_schema(
        methods=["POST"],
        summary=_("上传附件"),
        description=_(
            "multipart/form-data，字段 files 可重复，一次最多 10 个。按文件内容判断类型（PDF、图片、Office、OFD、"
            "纯文本），其他类型、超过大小上限或损坏的文件使整次上传被拒绝，不保存任何文件。"
            "企业用户、服务管家、本园区受理员和当前承办部门可以上传；已办结或不予受理的诉求只有受理员可以。"
        ),
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer(many=True),
            400: APPEAL_ERRORS_400,
            403: APPEAL_ERRORS_403,
            404: APPEAL_ERRORS_404,
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="attachments",
        url_name="attachments",
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser],
    )
    def attachment_list(self, request: Request, pk: str | None = None) -> Response:
        appeal = self.get_object()
        if request.method == "GET":
            return Response(self._attachments(appeal))
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachments.add_attachments(appeal, serializer.validated_data["files"], by=_user(request))
        return Response(self._attachments(appeal), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("下载附件"),
        description=_("以附件形式下载（Content-Disposition: attachment），类型为上传时按内容识别的类型。"),
        parameters=[OpenApiParameter("attachment", int, OpenApiParameter.PATH, description=_("附件编号"))],
        responses={
            **{
                (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("文件内容"))
                for media_type in DOWNLOAD_TYPES
            },
            404: APPEAL_ERRORS_404,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment>[0-9]+)",
        url_name="attachment",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment(self, request: Request, pk: str | None = None, attachment: str | None = None) -> Any:
        appeal = self.get_object()
        found = get_object_or_404(Attachment.objects.filter(appeal=appeal), pk=attachment)
        return attachments.download(found, by=_user(request), ip=client_ip(request))
