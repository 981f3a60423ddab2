"""REST API: investment projects (招商项目) and their approval agency (审批代办).

Reads are scoped (Project.objects.visible_to): the zone's promoters and leaders; a project of another
zone is a 404. Writes are the zone's promoters', through the services (guanjia.investment.projects and
.approvals); a leader's write is a 403 before its input is read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from guanjia.core.api import StrictBooleanFilter
from guanjia.core.models import User
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import Enterprise
from guanjia.investment import access, approvals
from guanjia.investment import projects as services
from guanjia.investment.api.common import (
    CallerZoneField,
    IdFilter,
    InvestmentViewSet,
    NamedEnumField,
    ReadsInvestment,
    Refusals,
    ScopedField,
    VisibleChainField,
    VisibleNodeField,
    VisibleTargetField,
    actor,
    money_field,
    version_field,
    zone_or_only,
)
from guanjia.investment.forms.projects import promoters_of_user_zones
from guanjia.investment.models import (
    STAGES,
    ApprovalItem,
    CapitalArrival,
    Lead,
    LeadSource,
    Project,
    ProjectKind,
    ProjectMilestone,
    ProjectSigning,
    ProjectType,
    Stage,
)

ERRORS = Refusals(missing=_("项目不存在或不在您的范围内"), stale=_("项目已被他人修改：请重新读取后再提交"))
ITEM_ERRORS = Refusals(
    missing=_("审批事项不存在或不在您的范围内"), stale=_("审批事项已被他人修改：请重新读取后再提交")
)

# --- fields: an id among what the caller may see; anything else "does not exist" ----------------------------

IN_SCOPE = _("{pk_value} 不存在或不在您的范围内")


class ZoneField(CallerZoneField):
    default_error_messages = {"does_not_exist": IN_SCOPE}


class LeadField(ScopedField):
    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet:
        return Lead.objects.visible_to(user)


class TargetField(VisibleTargetField):
    default_error_messages = {"does_not_exist": IN_SCOPE}


class ChainField(VisibleChainField):
    default_error_messages = {"does_not_exist": IN_SCOPE}


class NodeField(VisibleNodeField):
    default_error_messages = {"does_not_exist": IN_SCOPE}


class EnterpriseField(ScopedField):
    """An enterprise of the caller's zones (one an increase of capital builds on)."""

    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet:
        return Enterprise.objects.filter(zone_id__in=user.zone_ids())


class PromoterField(ScopedField):
    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet:
        return promoters_of_user_zones(user)


class StewardField(ScopedField):
    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet:
        return enterprise_services.stewards_of_zones(user.zone_ids())


class StageField(NamedEnumField):
    enum_name = "ProjectStageEnum"
    choice_set = Stage


class ProjectKindField(NamedEnumField):
    enum_name = "ProjectKindEnum"
    choice_set = ProjectKind


class ProjectTypeField(NamedEnumField):
    enum_name = "ProjectTypeEnum"
    choice_set = ProjectType


# --- reading -------------------------------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    stage = StageField(read_only=True)
    overdue = serializers.SerializerMethodField(help_text=_("约定日期已过而未达成"))

    class Meta:
        model = ProjectMilestone
        fields = ["stage", "promised_on", "reached_on", "overdue"]
        read_only_fields = fields

    def get_overdue(self, milestone: ProjectMilestone) -> bool:
        today = self.context.get("today") or access.today()
        return (
            milestone.promised_on is not None
            and milestone.reached_on is None
            and milestone.promised_on < today
        )


class SigningSerializer(serializers.ModelSerializer):
    by = serializers.IntegerField(source="by_id", read_only=True, help_text=_("登记人的用户 id"))

    class Meta:
        model = ProjectSigning
        fields = ["id", "event", "signed_on", "by", "created_at"]
        read_only_fields = fields


class ArrivalSerializer(serializers.ModelSerializer):
    amount = money_field(read_only=True, help_text=_("万元"))
    by = serializers.IntegerField(source="by_id", read_only=True, help_text=_("登记人的用户 id"))

    class Meta:
        model = CapitalArrival
        fields = ["id", "arrived_on", "amount", "note", "by", "created_at"]
        read_only_fields = fields


class ApprovalItemSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)
    statutory_days = serializers.IntegerField(read_only=True, help_text=_("法定时限（工作日）"))
    promised_days = serializers.IntegerField(read_only=True, help_text=_("承诺时限（工作日）"))
    position = serializers.IntegerField(read_only=True)
    actual_days = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("实际用时：受理日（不含）至办结日（含）的工作日数")
    )
    version = serializers.IntegerField(read_only=True)
    overdue = serializers.SerializerMethodField(help_text=_("未办结且已过承诺办结日期"))

    class Meta:
        model = ApprovalItem
        fields = [
            "id",
            "project",
            "name",
            "statutory_days",
            "promised_days",
            "position",
            "started_on",
            "promised_by",
            "finished_on",
            "actual_days",
            "note",
            "overdue",
            "version",
        ]
        read_only_fields = fields

    def get_overdue(self, item: ApprovalItem) -> bool:
        return approvals.is_overdue(item, self.context.get("today"))


class ProjectSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    stage = StageField(read_only=True)
    kind = ProjectKindField(read_only=True)
    project_type = ProjectTypeField(read_only=True)
    investment_planned = money_field(read_only=True, help_text=_("计划总投资（万元）"))
    investment_base = money_field(read_only=True, help_text=_("增资前已投资（万元），仅增资扩股项目"))
    investment_counted = money_field(
        read_only=True, help_text=_("计入招商实绩的投资（万元）：增资扩股只计增量")
    )
    investment_arrived = money_field(source="arrived", read_only=True, help_text=_("已到资合计（万元）"))
    land_mu = serializers.DecimalField(
        read_only=True, help_text=_("用地（亩）"), max_digits=10, decimal_places=2
    )
    expected_output = money_field(read_only=True, help_text=_("达产后年产值（万元）"))
    expected_tax = money_field(read_only=True, help_text=_("达产后年税收（万元）"))
    overdue_milestones = serializers.IntegerField(
        source="overdue_count", read_only=True, help_text=_("逾期节点数：约定日期已过而未达成的阶段")
    )
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "zone",
            "zone_name",
            "name",
            "lead",
            "target",
            "chain",
            "node",
            "source",
            "kind",
            "project_type",
            "enterprise",
            "stage",
            "stage_changed_at",
            "investment_planned",
            "investment_base",
            "investment_counted",
            "investment_arrived",
            "land_mu",
            "expected_output",
            "expected_tax",
            "owner",
            "agent",
            "description",
            "overdue_milestones",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    milestones = serializers.SerializerMethodField(help_text=_("七个阶段，按顺序"))
    signings = SigningSerializer(many=True, read_only=True)
    arrivals = ArrivalSerializer(many=True, read_only=True)
    approvals = ApprovalItemSerializer(many=True, read_only=True, help_text=_("审批代办清单（签约后生成）"))

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "milestones", "signings", "arrivals", "approvals"]
        read_only_fields = fields

    @extend_schema_field(MilestoneSerializer(many=True))
    def get_milestones(self, project: Project) -> list[dict[str, Any]]:
        rows = sorted(project.milestones.all(), key=lambda m: STAGES.index(m.stage))
        return MilestoneSerializer(rows, many=True, context=self.context).data  # type: ignore[return-value]


# --- writing -------------------------------------------------------------------------------------------------


class PromisedSerializer(serializers.Serializer):
    """The promised date (约定日期) of each stage; a stage left out is not changed, null clears it."""

    planning = serializers.DateField(required=False, allow_null=True, label=_("谋划"))
    negotiating = serializers.DateField(required=False, allow_null=True, label=_("洽谈"))
    signed = serializers.DateField(required=False, allow_null=True, label=_("签约"))
    started = serializers.DateField(required=False, allow_null=True, label=_("开工"))
    building = serializers.DateField(required=False, allow_null=True, label=_("建设"))
    producing = serializers.DateField(required=False, allow_null=True, label=_("投产"))
    at_capacity = serializers.DateField(required=False, allow_null=True, label=_("达产"))


def _money(label: Any, **options: Any) -> serializers.DecimalField:
    return money_field(label=label, min_value=0, **options)


class ProjectCreateSerializer(serializers.Serializer):
    lead = LeadField(
        required=False,
        allow_null=True,
        help_text=_("从线索创建：园区、投资方、产业链、链环节和来源取自线索，线索转为项目（只能一次）"),
    )
    zone = ZoneField(
        required=False, allow_null=True, help_text=_("所属园区；从线索创建或只有一个园区时可省略")
    )
    name = serializers.CharField(max_length=services.NAME_MAX, label=_("项目名称"))
    owner = PromoterField(required=False, help_text=_("招商专员；省略为调用者"))
    target = TargetField(required=False, allow_null=True, help_text=_("投资方（目标企业库）"))
    chain = ChainField(required=False, allow_null=True)
    node = NodeField(required=False, allow_null=True, help_text=_("链环节；给出时产业链取该环节所在的产业链"))
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field, not Field.source
        choices=LeadSource.choices, default=LeadSource.OTHER
    )
    kind = ProjectKindField(default=ProjectKind.NEW)
    project_type = ProjectTypeField(default=ProjectType.INDUSTRIAL)
    enterprise = EnterpriseField(
        required=False, allow_null=True, help_text=_("增资扩股项目：本园区已有的企业（必填）；新建项目不填")
    )
    investment_planned = _money(_("计划总投资（万元）"))
    investment_base = _money(_("增资前已投资（万元）"), required=False, help_text=_("仅增资扩股项目"))
    land_mu = _money(_("用地（亩）"), required=False)
    expected_output = _money(_("达产后年产值（万元）"), required=False)
    expected_tax = _money(_("达产后年税收（万元）"), required=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    promised = PromisedSerializer(required=False, help_text=_("各阶段的约定日期"))
    on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("谋划（或起始阶段）的日期，不晚于今天；省略为今天（洽谈中的线索：进入洽谈的日期）"),
    )


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX, required=False)
    owner = PromoterField(required=False)
    target = TargetField(required=False, allow_null=True)
    chain = ChainField(required=False, allow_null=True)
    node = NodeField(required=False, allow_null=True)
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field, not Field.source
        choices=LeadSource.choices, required=False
    )
    project_type = ProjectTypeField(required=False)
    enterprise = EnterpriseField(required=False, allow_null=True, help_text=_("仅增资扩股项目可改"))
    investment_planned = _money(_("计划总投资（万元）"), required=False)
    investment_base = _money(_("增资前已投资（万元）"), required=False)
    land_mu = _money(_("用地（亩）"), required=False)
    expected_output = _money(_("达产后年产值（万元）"), required=False)
    expected_tax = _money(_("达产后年税收（万元）"), required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    promised = PromisedSerializer(required=False)
    version = version_field()


class AdvanceSerializer(serializers.Serializer):
    to = StageField(help_text=_("推进到的阶段：只能是当前阶段之后的阶段；跳过的阶段以同一日期达成"))
    on = serializers.DateField(help_text=_("达成日期：不晚于今天，不早于上一阶段的日期"))
    event = serializers.CharField(
        max_length=services.EVENT_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("推进到（或越过）签约时的签约活动；不填记为“直接签约”"),
    )
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")
    version = version_field()


class CorrectSerializer(serializers.Serializer):
    to = StageField(help_text=_("更正为之前的某一阶段；之后各阶段的实际日期被清除"))
    reason = serializers.CharField(
        max_length=services.NOTE_MAX, help_text=_("更正原因（必填，记入审计日志）")
    )
    version = version_field()


class SigningCreateSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=services.EVENT_MAX, help_text=_("签约活动，如“云签约”"))
    signed_on = serializers.DateField()


class ArrivalCreateSerializer(serializers.Serializer):
    amount = money_field(min_value=Decimal("0.01"), help_text=_("到资金额（万元），大于 0"))
    arrived_on = serializers.DateField()
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class RegisterSerializer(serializers.Serializer):
    uscc = serializers.CharField(max_length=30, help_text=_("新企业的统一社会信用代码"))
    name = serializers.CharField(max_length=services.NAME_MAX, help_text=_("企业名称"))
    steward = StewardField(
        required=False, allow_null=True, help_text=_("服务管家；省略则分配本园区负荷最轻的管家")
    )


class AgentSerializer(serializers.Serializer):
    agent = PromoterField(help_text=_("代办员：本园区的招商专员"))


class ApprovalDateSerializer(serializers.Serializer):
    on = serializers.DateField(help_text=_("受理或办结日期，不晚于今天"))


class AccelerationQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text=_("开始日期（含），默认今年 1 月 1 日"))
    end = serializers.DateField(required=False, help_text=_("结束日期（含），默认今年 12 月 31 日"))
    zone = ZoneField(required=False, help_text=_("只统计该园区；默认调用者的全部园区"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = access.today()
        attrs.setdefault("start", today.replace(month=1, day=1))
        attrs.setdefault("end", today.replace(month=12, day=31))
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("不能早于开始日期")]})
        return attrs


class AccelerationRowSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("审批事项；合计行为“全部事项”"))
    n = serializers.IntegerField(help_text=_("期间内办结的事项数"))
    statutory = serializers.FloatField(allow_null=True, help_text=_("平均法定时限（工作日）"))
    promised = serializers.FloatField(allow_null=True, help_text=_("平均承诺时限（工作日）"))
    actual = serializers.FloatField(allow_null=True, help_text=_("平均实际用时（工作日）"))
    on_time = serializers.IntegerField(help_text=_("按承诺时限办结的事项数"))
    speedup = serializers.FloatField(allow_null=True, help_text=_("提速 = 1 − 平均实际用时 / 平均法定时限"))


class AccelerationSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    rows = AccelerationRowSerializer(many=True)
    overall = AccelerationRowSerializer()


# --- views ------------------------------------------------------------------------------------------------------


class ProjectFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(label=_("阶段"), choices=Stage.choices)
    chain = IdFilter(label=_("产业链"), field_name="chain_id")
    source = django_filters.ChoiceFilter(label=_("线索来源"), choices=LeadSource.choices)
    kind = django_filters.ChoiceFilter(label=_("项目性质"), choices=ProjectKind.choices)
    owner = IdFilter(label=_("招商专员"), field_name="owner_id")
    overdue = StrictBooleanFilter(
        label=_("逾期节点"), method="by_overdue", help_text=_("true 只列有逾期节点的项目，false 只列没有的")
    )

    class Meta:
        model = Project
        fields: list[str] = []

    def by_overdue(self, queryset: QuerySet[Project], name: str, value: bool | None) -> QuerySet[Project]:
        if value is None:
            return queryset
        late = services.only_overdue(queryset).values("pk")
        return queryset.filter(pk__in=late) if value else queryset.exclude(pk__in=late)


# The answer of a write on a project: the project as it is now.
PROJECT_WRITE_RESPONSES = ERRORS.responses(200, ProjectDetailSerializer, 400, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary=_("招商项目列表"),
        description=_(
            "调用者园区的招商项目（招商专员、领导）；可按阶段、产业链、来源、性质、专员、逾期节点筛选。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("招商项目详情"),
        description=_("含七个阶段的约定与实际日期、签约活动、到资记录和审批代办清单。"),
        responses=ERRORS.responses(200, ProjectDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("新建招商项目"),
        description=_(
            "直接创建，或从线索创建（lead）：线索在同一事务中转为项目，只能转一次，重复提交返回 400 或 409。"
            "项目从谋划开始；洽谈中的线索从洽谈开始。增资扩股须指定本园区已有企业及增资前已投资，只计增量。"
        ),
        request=ProjectCreateSerializer,
        responses=ERRORS.responses(201, ProjectDetailSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改招商项目"),
        description=_("只提交要改的字段，并带上读取时的 version；阶段不在此修改（见 advance、correct）。"),
        request=ProjectUpdateSerializer,
        responses=PROJECT_WRITE_RESPONSES,
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """The projects of the caller's zones; the zone's promoters create and move them."""

    queryset = Project.objects.none()
    serializer_class = ProjectSerializer
    serializer_classes = {
        "create": ProjectCreateSerializer,
        "partial_update": ProjectUpdateSerializer,
        "retrieve": ProjectDetailSerializer,
    }
    detail_serializer_class = ProjectDetailSerializer
    filterset_class = ProjectFilter

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": access.today()}

    def get_queryset(self) -> QuerySet[Project]:
        projects = services.with_figures(Project.objects.visible_to(self.caller()))
        if self.action == "list":
            return projects.order_by("-created_at", "-pk")
        return projects.select_related("zone").prefetch_related(
            "milestones",
            "signings",
            "arrivals",
            Prefetch("approvals", ApprovalItem.objects.order_by("position", "pk")),
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        lead = data.pop("lead", None)
        zone = data.pop("zone", None)
        if lead is None:
            zone = zone_or_only(user, zone)
        promised = data.pop("promised", None) or {}
        data.setdefault("owner", user)
        if lead is not None:
            for name in ("target", "chain", "node", "source"):
                data.pop(name, None)
        for name in ("investment_base", "land_mu", "expected_output", "expected_tax"):
            if data.get(name) is None:
                data.pop(name, None)
        project = services.create_project(zone=zone, lead=lead, promised=promised, by=user, **data)
        return self.show(project, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        data = self.validated()
        version = data.pop("version")
        services.update_project(project, version=version, by=actor(request), **data)
        return self.show(project)

    @extend_schema(
        summary=_("推进项目阶段"),
        description=_(
            "只能向后推进（跳过的阶段以同一日期达成）；日期不晚于今天、不早于上一阶段的日期。"
            "推进到签约时登记签约活动（不填为“直接签约”）并生成审批代办清单。退回请用 correct。"
        ),
        request=AdvanceSerializer,
        responses=PROJECT_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def advance(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        services.advance_project(project, by=actor(request), **self.validated(AdvanceSerializer))
        return self.show(project)

    @extend_schema(
        summary=_("更正项目阶段"),
        description=_(
            "纠正登记错误：退回到之前的阶段，须填写原因；之后各阶段的实际日期被清除，并记入审计日志。"
        ),
        request=CorrectSerializer,
        responses=PROJECT_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def correct(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        services.correct_project(project, by=actor(request), **self.validated(CorrectSerializer))
        return self.show(project)

    @extend_schema(
        summary=_("登记签约活动"),
        description=_("已签约项目在另一签约活动（招商大会、云签约等）亮相：登记，但项目只计一次。"),
        request=SigningCreateSerializer,
        responses=ERRORS.responses(201, SigningSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def signings(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        data = self.validated(SigningCreateSerializer)
        signing = services.add_signing(project, by=actor(request), **data)
        return Response(SigningSerializer(signing).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("登记到资"),
        description=_("已签约项目的到资（万元，大于 0）；到资合计可以超过计入投资额（页面上会提示核实）。"),
        request=ArrivalCreateSerializer,
        responses=ERRORS.responses(201, ArrivalSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def arrivals(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        data = self.validated(ArrivalCreateSerializer)
        arrival = services.record_arrival(project, by=actor(request), **data)
        return Response(ArrivalSerializer(arrival).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("注册落地"),
        description=_(
            "已签约的新建项目注册为企业：登记到项目所在园区的企业库，分配服务管家（指定的，或负荷最轻的），"
            "并关联为项目企业。统一社会信用代码有误或已登记时返回 400 {uscc: [消息]}。增资扩股项目不适用。"
        ),
        request=RegisterSerializer,
        responses=PROJECT_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def register(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        data = self.validated(RegisterSerializer)
        try:
            services.register_project_enterprise(
                project, uscc=data["uscc"], name=data["name"], steward=data.get("steward"), by=actor(request)
            )
        except services.UsccInvalid as exc:
            raise exceptions.ValidationError({"uscc": [str(exc)]}) from exc
        return self.show(project)

    @extend_schema(
        summary=_("指定代办员"),
        description=_("审批代办员：本园区的招商专员。"),
        request=AgentSerializer,
        responses=PROJECT_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def agent(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        approvals.assign_agent(project, agent=self.validated(AgentSerializer)["agent"], by=actor(request))
        return self.show(project)


ITEM_RESPONSES = ITEM_ERRORS.responses(200, ApprovalItemSerializer, 400, 403, 404, 409)


class ApprovalItemViewSet(InvestmentViewSet):
    """The approvals of the caller's zones' projects: started and finished by the zone's promoters."""

    queryset = ApprovalItem.objects.none()
    serializer_class = ApprovalItemSerializer
    filter_backends: list[Any] = []
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApprovalItem]:
        visible = Project.objects.visible_to(self.caller())
        return ApprovalItem.objects.filter(project__in=visible).select_related("project")

    def _on(self) -> Any:
        return self.validated(ApprovalDateSerializer)["on"]

    @extend_schema(
        summary=_("审批事项受理"),
        description=_(
            "登记受理日期（不晚于今天）：承诺办结日期 = 受理日期后第“承诺时限”个工作日（按工作日历）。"
        ),
        request=ApprovalDateSerializer,
        responses=ITEM_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        approvals.start_item(item, on=self._on(), by=actor(request))
        return Response(ApprovalItemSerializer(item).data)

    @extend_schema(
        summary=_("审批事项办结"),
        description=_(
            "登记办结日期（不早于受理日期、不晚于今天）：实际用时 = 受理日（不含）至办结日（含）的工作日数。"
        ),
        request=ApprovalDateSerializer,
        responses=ITEM_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        approvals.finish_item(item, on=self._on(), by=actor(request))
        return Response(ApprovalItemSerializer(item).data)


class AccelerationView(APIView):
    """行政审批加速度 of the caller's zones for a period."""

    permission_classes = [IsAuthenticated, ReadsInvestment]

    @extend_schema(
        summary=_("行政审批加速度"),
        description=_(
            "期间内办结的审批事项，分事项及合计：办结数 n、平均法定时限、平均承诺时限、平均实际用时（工作日）、"
            "按承诺办结数，以及提速 = 1 − 平均实际用时 / 平均法定时限。默认期间为今年。"
        ),
        parameters=[AccelerationQuerySerializer],
        responses=ERRORS.responses(200, AccelerationSerializer, 400, 403),
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        query = AccelerationQuerySerializer(data=request.query_params.dict(), context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        zone_ids = [data["zone"].pk] if data.get("zone") else user.zone_ids()
        report = approvals.acceleration(zone_ids, data["start"], data["end"])
        body = {"start": report.start, "end": report.end, "rows": report.rows, "overall": report.overall}
        return Response(AccelerationSerializer(body).data)


extra_urlpatterns: list[URLPattern] = [
    path(
        "investment/approvals/acceleration/",
        AccelerationView.as_view(),
        name="investment-approvals-acceleration",
    ),
]


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/projects", ProjectViewSet, basename="investment-project")
    router.register("investment/approval-items", ApprovalItemViewSet, basename="investment-approval-item")
