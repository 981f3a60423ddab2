"""REST API: the category tree with its time limits and the caller's zones' routes (read-only), and the KPIs."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals import kpi
from guanjia.appeals.models import Appeal, AppealCategory, CategoryRoute
from guanjia.appeals.services import CATEGORY_FIELDS
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import BUSINESS_ROLES, Role
from guanjia.enterprises.serializers import ErrorSerializer

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
        help_text=_("只统计该部门作为主办部门的记录（须在您的范围内）"),
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
        }
        for code, value in values.items()
    }


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
        description=_("按主办部门分列，供排名对比；只列出统计期内有记录的部门。"),
        parameters=[KpiQuerySerializer],
        responses={200: DepartmentKpiReportSerializer, 400: KPI_ERRORS_400, 403: KPI_ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="by-department")
    def by_department(self, request: Request) -> Response:
        header, scope, period = self._query(request)
        rows = kpi.by_department(scope, period)
        units = OrgUnit.objects.in_bulk([row.unit_id for row in rows])
        rows.sort(key=lambda row: units[row.unit_id].code)
        departments = [
            {
                "department": row.unit_id,
                "department_name": units[row.unit_id].name,
                "zone": units[row.unit_id].parent_id,
                "kpis": _kpi_data(row.kpis),
            }
            for row in rows
        ]
        body = {**header, "departments": departments}
        return Response(DepartmentKpiReportSerializer(body).data)


def register(router: DefaultRouter) -> None:
    router.register("appeal-categories", CategoryViewSet, basename="appeal-category")
    router.register("kpis", KpiViewSet, basename="kpi")
