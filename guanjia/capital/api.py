"""REST API: the listing pipeline (上市后备企业库).

Reads are scoped (ListingCandidate.objects.visible_to): the zone's promoters, leaders and supervisors,
and the enterprise's steward; a candidate out of scope is a 404, an enterprise user or one of the 三员
a 403. Writes go through guanjia.capital.listings; a role that may never make a write (a leader moving a
stage, a promoter correcting one, anyone but a steward raising a problem) is refused with 403 before its
input is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.capital import access, listings
from guanjia.capital.models import (
    Board,
    IntermediaryRole,
    ListingCandidate,
    ListingIntermediary,
    ListingProblem,
    ListingStage,
    ListingStageMove,
    ListingSupport,
)
from guanjia.core.api_common import (
    IdFilter,
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    caller,
    money_field,
    user_or_none,
    version_field,
)
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.policies.models import Delivery

ERRORS = Refusals(
    missing=_("上市后备企业不存在或不在您的范围内"), stale=_("上市后备企业已被他人修改：请重新读取后再提交")
)
PROBLEM_ERRORS = Refusals(missing=_("问题不存在或不在您的范围内"), stale=_("该问题已转为诉求"))
IN_SCOPE = _("{pk_value} 不存在或不在您的范围内")

# --- fields -------------------------------------------------------------------------------------------------


class ListingStageField(NamedEnumField):
    enum_name = "ListingStageEnum"
    choice_set = ListingStage


class ListingBoardField(NamedEnumField):
    enum_name = "ListingBoardEnum"
    choice_set = Board


class ListingFromStageField(NamedEnumField):
    enum_name = "ListingFromStageEnum"
    choice_set = ListingStage
    blank_allowed = True


class IntermediaryRoleField(NamedEnumField):
    enum_name = "ListingIntermediaryRoleEnum"
    choice_set = IntermediaryRole


class NewCandidateEnterpriseField(ScopedField):
    """An enterprise of the caller's zones not yet in the pipeline."""

    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet[Enterprise]:
        return Enterprise.objects.filter(zone_id__in=user.zone_ids())


class DeliveryField(ScopedField):
    default_error_messages = {"does_not_exist": IN_SCOPE}

    def scoped(self, user: User) -> QuerySet[Delivery]:
        # The service accepts only a delivered benefit of the candidate's own enterprise.
        return Delivery.objects.filter(zone_id__in=user.zone_ids())


# --- who may ----------------------------------------------------------------------------------------------


class ReadsListings(BasePermission):
    message = _("您的账号没有查看上市后备企业库的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_read(user_or_none(request))


def _require(request: Request, roles: Iterable[str], message: str) -> None:
    """A role that may never make this write is refused before its input is read."""
    user = actor(request)
    if not user.has_any_role(roles):
        raise exceptions.PermissionDenied(message)


def _require_for(allowed: bool, message: str) -> None:
    if not allowed:
        raise exceptions.PermissionDenied(message)


WRITERS_ONLY = str(_("只有本园区的招商专员可以执行此操作"))
CORRECTORS_ONLY = str(_("只有本园区的领导或效能督查可以更正阶段"))
STEWARD_ONLY = str(_("只有该企业的服务管家可以将问题转为诉求（管家代报）"))

# --- serializers ------------------------------------------------------------------------------------------


class ListingMoveSerializer(serializers.ModelSerializer):
    from_stage = ListingFromStageField(read_only=True, help_text=_("原阶段；纳入时为空"))
    to_stage = ListingStageField(read_only=True)
    by_name = serializers.CharField(source="by.full_name", read_only=True)

    class Meta:
        model = ListingStageMove
        fields = [
            "id",
            "from_stage",
            "to_stage",
            "on",
            "by",
            "by_name",
            "at",
            "note",
            "is_correction",
            "reason",
            "voided",
        ]
        read_only_fields = fields


class ListingIntermediarySerializer(serializers.ModelSerializer):
    role = IntermediaryRoleField(read_only=True)
    phone = serializers.SerializerMethodField(
        help_text=_("联系电话：本园区招商专员看到全文，其他读者看到脱敏号码")
    )

    class Meta:
        model = ListingIntermediary
        fields = ["id", "role", "firm", "contact_person", "phone", "engaged_on"]
        read_only_fields = fields

    def get_phone(self, obj: ListingIntermediary) -> str:
        user = caller(self.context)
        if user is None:
            return ""
        return access.phone_for(user, obj.candidate, obj.phone)


class ListingProblemSerializer(serializers.ModelSerializer):
    appeal_status = serializers.SerializerMethodField(help_text=_("已转为诉求时诉求的状态（中文），否则为空"))

    class Meta:
        model = ListingProblem
        fields = ["id", "candidate", "text", "appeal", "appeal_status", "raised_by", "raised_at"]
        read_only_fields = fields

    def get_appeal_status(self, obj: ListingProblem) -> str:
        return obj.appeal.get_status_display() if obj.appeal is not None else ""


class ListingSupportSerializer(serializers.ModelSerializer):
    amount = money_field(read_only=True, allow_null=True, help_text=_("金额（万元）"))

    class Meta:
        model = ListingSupport
        fields = ["id", "what", "amount", "granted_on", "delivery"]
        read_only_fields = fields


class ListingCandidateSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    board = ListingBoardField(read_only=True)
    stage = ListingStageField(read_only=True)
    days_in_stage = serializers.SerializerMethodField(help_text=_("在当前阶段的天数"))
    chains = serializers.SerializerMethodField(help_text=_("企业所在的产业链（取自产业链图谱）"))
    open_problems = serializers.IntegerField(read_only=True, help_text=_("未解决的问题数"))
    support_total = money_field(read_only=True, help_text=_("支持金额合计（万元）"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = ListingCandidate
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "uscc",
            "zone",
            "zone_name",
            "board",
            "stage",
            "stage_entered_on",
            "days_in_stage",
            "planned_year",
            "stock_code",
            "chains",
            "open_problems",
            "support_total",
            "version",
        ]
        read_only_fields = fields

    def get_days_in_stage(self, obj: ListingCandidate) -> int:
        return listings.days_in_stage(obj)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_chains(self, obj: ListingCandidate) -> list[str]:
        chains = self.context.get("chains")
        if chains is None:
            chains = listings.chains_of([obj.pk])
        return list(chains.get(obj.pk, []))


class ListingCandidateDetailSerializer(ListingCandidateSerializer):
    moves = ListingMoveSerializer(many=True, read_only=True)
    intermediaries = ListingIntermediarySerializer(many=True, read_only=True)
    problems = ListingProblemSerializer(many=True, read_only=True)
    supports = ListingSupportSerializer(many=True, read_only=True)

    class Meta(ListingCandidateSerializer.Meta):
        fields = [
            *ListingCandidateSerializer.Meta.fields,
            "notes",
            "created_at",
            "moves",
            "intermediaries",
            "problems",
            "supports",
        ]
        read_only_fields = fields


class ListingCandidateCreateSerializer(serializers.Serializer):
    enterprise = NewCandidateEnterpriseField(help_text=_("本园区的企业，每家企业只纳入一次"))
    board = ListingBoardField()
    stage = ListingStageField(required=False, help_text=_("已达到的阶段，默认培育"))
    stage_entered_on = serializers.DateField(
        required=False, help_text=_("进入该阶段日期，不晚于今天；默认今天")
    )
    planned_year = serializers.IntegerField(required=False, allow_null=True, min_value=2000, max_value=2100)
    stock_code = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text=_("已上市的填写")
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=listings.NOTES_MAX)


class ListingMoveCreateSerializer(serializers.Serializer):
    to = ListingStageField(help_text=_("之后的阶段（可跳过）"))
    on = serializers.DateField(help_text=_("不早于进入当前阶段的日期，不晚于今天"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=listings.NOTE_MAX)
    stock_code = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text=_("推进到上市时填写")
    )
    version = version_field()


class ListingCorrectSerializer(serializers.Serializer):
    to = ListingStageField(help_text=_("当前阶段（更正日期）或之前的阶段"))
    on = serializers.DateField(help_text=_("实际进入该阶段的日期"))
    reason = serializers.CharField(max_length=listings.NOTE_MAX, help_text=_("更正原因，必填"))
    version = version_field()


class ListingIntermediaryCreateSerializer(serializers.Serializer):
    role = IntermediaryRoleField()
    firm = serializers.CharField(max_length=listings.FIRM_MAX)
    contact_person = serializers.CharField(required=False, allow_blank=True, max_length=listings.PERSON_MAX)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=listings.PHONE_MAX)
    engaged_on = serializers.DateField(required=False, allow_null=True)


class ListingProblemCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=listings.PROBLEM_MAX)


class ListingSupportCreateSerializer(serializers.Serializer):
    what = serializers.CharField(required=False, allow_blank=True, max_length=listings.WHAT_MAX)
    amount = money_field(required=False, allow_null=True, min_value=0)
    granted_on = serializers.DateField()
    delivery = DeliveryField(required=False, allow_null=True, help_text=_("该企业已兑现的政策兑现记录"))


class ListingStageCountSerializer(serializers.Serializer):
    stage = ListingStageField()
    stage_name = serializers.CharField(help_text=_("阶段名称"))
    count = serializers.IntegerField()


class ListingChainCountSerializer(serializers.Serializer):
    chain = serializers.CharField(help_text=_("产业链名称；未上链的企业计入“未上链”"))
    count = serializers.IntegerField()


class ListingStageAverageSerializer(serializers.Serializer):
    stage = ListingStageField()
    stage_name = serializers.CharField(help_text=_("阶段名称"))
    n = serializers.IntegerField(help_text=_("已离开该阶段的停留次数"))
    days = serializers.FloatField(allow_null=True, help_text=_("平均停留天数"))


class ListingCandidateDaysSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    enterprise_name = serializers.CharField()
    stage = ListingStageField()
    days_in_stage = serializers.IntegerField()


class ListingFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_stage = ListingStageCountSerializer(many=True)
    by_chain = ListingChainCountSerializer(many=True)
    averages = ListingStageAverageSerializer(many=True)
    days_in_stage = ListingCandidateDaysSerializer(many=True)


# --- views ------------------------------------------------------------------------------------------------


class ListingCandidateFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(label=_("阶段"), choices=ListingStage.choices)
    board = django_filters.ChoiceFilter(label=_("拟上市板块"), choices=Board.choices)
    chain = IdFilter(label=_("产业链"), method="by_chain")

    class Meta:
        model = ListingCandidate
        fields: list[str] = []

    def by_chain(
        self, queryset: QuerySet[ListingCandidate], name: str, value: int | None
    ) -> QuerySet[ListingCandidate]:
        if value is None:
            return queryset
        on_chain = ListingCandidate.objects.filter(enterprise__chain_placements__node__chain_id=value)
        return queryset.filter(pk__in=on_chain.values("pk"))


WRITE_RESPONSES = ERRORS.responses(200, ListingCandidateDetailSerializer, 400, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary=_("上市后备企业列表"),
        description=_(
            "调用者范围内的上市后备企业（招商专员、领导、效能督查：本园区；服务管家：所服务的企业）。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("上市后备企业详情"),
        description=_("含阶段记录、中介机构（电话对非招商专员脱敏）、问题及其诉求状态、支持事项。"),
        responses=ERRORS.responses(200, ListingCandidateDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("纳入上市后备企业库"),
        description=_("本园区招商专员将本园区企业纳入，每家企业一次；所属产业链取自产业链图谱。"),
        request=ListingCandidateCreateSerializer,
        responses=ERRORS.responses(201, ListingCandidateDetailSerializer, 400, 403),
    ),
)
class ListingCandidateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The candidates of the caller's scope; the zone's promoters write them."""

    queryset = ListingCandidate.objects.none()
    serializer_class = ListingCandidateSerializer
    permission_classes = [IsAuthenticated, ReadsListings]
    filterset_class = ListingCandidateFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return ListingCandidateCreateSerializer
        if self.action == "retrieve":
            return ListingCandidateDetailSerializer
        return ListingCandidateSerializer

    def get_queryset(self) -> QuerySet[ListingCandidate]:
        candidates = listings.with_figures(ListingCandidate.objects.visible_to(user_or_none(self.request)))
        candidates = candidates.select_related("enterprise", "zone")
        if self.action == "list":
            return candidates.order_by("zone_id", "stage", "pk")
        return candidates.prefetch_related(
            "moves__by", "intermediaries__candidate", "problems__appeal", "supports"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page) if page is not None else list(queryset)
        context = {**self.get_serializer_context(), "chains": listings.chains_of([c.pk for c in rows])}
        data = ListingCandidateSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def validated(self, serializer_class: type[serializers.BaseSerializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, candidate: ListingCandidate, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=candidate.pk)
        return Response(
            ListingCandidateDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(request, [Role.PROMOTER], WRITERS_ONLY)
        data = self.validated(ListingCandidateCreateSerializer)
        candidate = listings.create_candidate(by=actor(request), **data)
        return self.show(candidate, status.HTTP_201_CREATED)

    def _writable(self, request: Request) -> ListingCandidate:
        _require(request, [Role.PROMOTER], WRITERS_ONLY)
        candidate = self.get_object()
        _require_for(access.may_write(actor(request), candidate.zone_id), WRITERS_ONLY)
        return candidate

    @extend_schema(
        summary=_("推进上市阶段"),
        description=_(
            "只能向后推进（可跳过）；日期不早于进入当前阶段的日期、不晚于今天。带读取时的 version，"
            "两人同时推进只有一人成功，另一人得到 409。退回或改日期请用 correct。"
        ),
        request=ListingMoveCreateSerializer,
        responses=WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def move(self, request: Request, pk: str | None = None) -> Response:
        candidate = self._writable(request)
        data = self.validated(ListingMoveCreateSerializer)
        listings.move_stage(candidate, by=actor(request), **data)
        return self.show(candidate)

    @extend_schema(
        summary=_("更正上市阶段"),
        description=_(
            "本园区领导或效能督查纠正登记错误：改为当前阶段（更正进入日期）或之前的阶段，须填写原因；"
            "被更正的记录保留并标注，记入审计日志。"
        ),
        request=ListingCorrectSerializer,
        responses=WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def correct(self, request: Request, pk: str | None = None) -> Response:
        _require(request, [Role.LEADER, Role.SUPERVISOR], CORRECTORS_ONLY)
        candidate = self.get_object()
        _require_for(access.may_correct(actor(request), candidate.zone_id), CORRECTORS_ONLY)
        data = self.validated(ListingCorrectSerializer)
        listings.correct_stage(candidate, by=actor(request), **data)
        return self.show(candidate)

    @extend_schema(
        summary=_("登记中介机构"),
        description=_("券商、律所或会计师事务所。"),
        request=ListingIntermediaryCreateSerializer,
        responses=ERRORS.responses(201, ListingIntermediarySerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def intermediaries(self, request: Request, pk: str | None = None) -> Response:
        candidate = self._writable(request)
        data = self.validated(ListingIntermediaryCreateSerializer)
        intermediary = listings.add_intermediary(candidate, by=actor(request), **data)
        body = ListingIntermediarySerializer(intermediary, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("登记上市障碍问题"),
        description=_("登记后由该企业的服务管家一键转为诉求（listing-problems/{id}/raise/）。"),
        request=ListingProblemCreateSerializer,
        responses=ERRORS.responses(201, ListingProblemSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def problems(self, request: Request, pk: str | None = None) -> Response:
        candidate = self._writable(request)
        problem = listings.add_problem(
            candidate, by=actor(request), **self.validated(ListingProblemCreateSerializer)
        )
        return Response(ListingProblemSerializer(problem).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("登记支持事项"),
        description=_("可关联该企业已兑现的政策兑现记录（不重复录入：未填事项与金额时取兑现记录的）。"),
        request=ListingSupportCreateSerializer,
        responses=ERRORS.responses(201, ListingSupportSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def supports(self, request: Request, pk: str | None = None) -> Response:
        candidate = self._writable(request)
        support = listings.add_support(
            candidate, by=actor(request), **self.validated(ListingSupportCreateSerializer)
        )
        return Response(ListingSupportSerializer(support).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("上市后备企业统计"),
        description=_(
            "调用者范围内（可按阶段、板块、产业链筛选）：各阶段数量、各产业链数量、每家企业在当前阶段的天数、"
            "按阶段历史计算的各阶段平均天数（被更正撤销的记录不计）。"
        ),
        responses=ERRORS.responses(200, ListingFiguresSerializer, 400),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def figures(self, request: Request) -> Response:
        candidates = self.filter_queryset(ListingCandidate.objects.visible_to(user_or_none(request)))
        figures = listings.figures(candidates)
        days = [
            {
                "id": c.pk,
                "enterprise_name": c.enterprise.name,
                "stage": c.stage,
                "days_in_stage": listings.days_in_stage(c),
            }
            for c in candidates.select_related("enterprise").order_by("zone_id", "stage", "pk")
        ]
        body = {
            "total": figures.total,
            "by_stage": [{"stage": s, "stage_name": label, "count": n} for s, label, n in figures.by_stage],
            "by_chain": [{"chain": name, "count": n} for name, n in figures.by_chain],
            "averages": [
                {"stage": a.stage, "stage_name": a.label, "n": a.n, "days": a.days} for a in figures.averages
            ],
            "days_in_stage": days,
        }
        return Response(ListingFiguresSerializer(body).data)


class ListingProblemViewSet(viewsets.GenericViewSet):
    """A problem of a candidate the caller sees: its enterprise's steward raises it as an appeal."""

    queryset = ListingProblem.objects.none()
    serializer_class = ListingProblemSerializer
    permission_classes = [IsAuthenticated, ReadsListings]
    filter_backends: list[Any] = []
    pagination_class = None

    def get_queryset(self) -> QuerySet[ListingProblem]:
        visible = ListingCandidate.objects.visible_to(user_or_none(self.request))
        return ListingProblem.objects.filter(candidate__in=visible).select_related(
            "candidate__enterprise", "appeal"
        )

    @extend_schema(
        summary=_("问题转为诉求"),
        description=_(
            "该企业的服务管家以“管家代报”渠道提交诉求（诉求闭环），问题保留与诉求的关联；"
            "每个问题只转一次，重复或并发提交返回 409。"
        ),
        request=None,
        responses=PROBLEM_ERRORS.responses(200, ListingProblemSerializer, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], url_path="raise", url_name="raise")
    def raise_appeal(self, request: Request, pk: str | None = None) -> Response:
        _require(request, [Role.STEWARD], STEWARD_ONLY)
        problem = self.get_object()
        listings.raise_problem(problem, by=actor(request))
        return Response(ListingProblemSerializer(self.get_queryset().get(pk=problem.pk)).data)


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("capital/listings", ListingCandidateViewSet, basename="capital-listing")
    router.register("capital/listing-problems", ListingProblemViewSet, basename="capital-listing-problem")


extra_urlpatterns: list[Any] = []
