"""REST API of funds and financing matchmaking (产业基金 / 投融资对接).

Reads are scoped (Fund/Roadshow.objects.visible_to, FinancingNeed.objects.visible_to); an object out of
the caller's scope is a 404. Writes go through guanjia.investment.financing, whose refusals the
exception handler maps (ServiceError 400, NotAllowed 403, Conflict 409).

- funds: the zone's promoters and leaders read, promoters write; `matches` ranks the open needs.
- financing-needs: an enterprise user reads and writes its own enterprise's needs, promoters those of
  their zone (leaders and the enterprise's steward read); `matches` (the funds that fit, with their
  scores) is for promoters and leaders only.
- roadshows: promoters and leaders read, promoters create, invite and record outcomes.
- financing-outcomes: what was invested, and the totals per fund and per month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import django_filters
from django.db.models import Count, QuerySet, Sum
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.investment import financing
from guanjia.investment.access import today
from guanjia.investment.api.common import (
    CallerZoneField,
    IdFilter,
    InvestmentViewSet,
    NamedEnumField,
    Refusals,
    ScopedField,
    VisibleChainField,
    VisibleEnterpriseField,
    VisibleNodeField,
    actor,
    money_field,
    version_field,
    zone_or_only,
)
from guanjia.investment.models import (
    INVESTMENT_KEEPERS,
    INVESTMENT_READERS,
    FinancingKind,
    FinancingNeed,
    FinancingNeedStatus,
    FinancingOutcome,
    Fund,
    InvestmentStage,
    Roadshow,
)

NEED_READERS = INVESTMENT_READERS | {Role.STEWARD, Role.ENTERPRISE_USER}
NEED_WRITERS = INVESTMENT_KEEPERS | {Role.ENTERPRISE_USER}

ERRORS = Refusals()


# --- choice fields, each with its enum as one named component (see common.NamedEnumField) ---------------


class FinancingKindField(NamedEnumField):
    enum_name = "FinancingKindEnum"
    choice_set = FinancingKind


class InvestmentStageField(NamedEnumField):
    enum_name = "InvestmentStageEnum"
    choice_set = InvestmentStage


class NeedStageField(NamedEnumField):
    """A need's round: blank when it names none (and always for debt and loans)."""

    enum_name = "FinancingNeedStageEnum"
    choice_set = InvestmentStage
    blank_allowed = True


class NeedStatusField(NamedEnumField):
    enum_name = "FinancingNeedStatusEnum"
    choice_set = FinancingNeedStatus


# --- fields: an object named in a body is looked up in the caller's scope -------------------------------


class FundField(ScopedField):
    def scoped(self, user: User) -> QuerySet[Fund]:
        return Fund.objects.visible_to(user)


class RoadshowField(ScopedField):
    def scoped(self, user: User) -> QuerySet[Roadshow]:
        return Roadshow.objects.visible_to(user)


class NeedField(ScopedField):
    def scoped(self, user: User) -> QuerySet[FinancingNeed]:
        return FinancingNeed.objects.visible_to(user)


class NeedVersionSerializer(serializers.Serializer):
    version = version_field()


# A partial update: every field may be left out but the version read. (A comment, not a docstring: the
# schema would take it as the description of every update serializer built on it.)
class _AllOptionalButVersion(serializers.Serializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False


# --- permissions -----------------------------------------------------------------------------------


class RolesRead(BasePermission):
    """The view's `read_roles` read; `write_roles` write (a write by another reader is refused before
    its input is read)."""

    message = _("您的角色无权访问投融资对接数据")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or user.is_admin_account:
            return False
        if request.method in SAFE_METHODS:
            return user.has_any_role(view.read_roles)
        return user.has_any_role(view.write_roles)


# --- funds -----------------------------------------------------------------------------------------


class FundSerializer(serializers.ModelSerializer):
    zone = serializers.IntegerField(source="zone_id", read_only=True, help_text=_("所属园区 id"))
    size = money_field(read_only=True, help_text=_("基金规模（万元）"))
    ticket_min = money_field(read_only=True, help_text=_("单笔投资下限（万元）"))
    ticket_max = money_field(read_only=True, help_text=_("单笔投资上限（万元）"))
    stages = serializers.ListField(
        child=InvestmentStageField(), read_only=True, help_text=_("投资阶段；空为不限")
    )
    kinds = serializers.ListField(child=FinancingKindField(), read_only=True, help_text=_("投资方式"))
    focus_chains: Any = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text=_("关注产业链 id")
    )
    focus_nodes: Any = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text=_("关注环节 id")
    )
    contact_phone = serializers.SerializerMethodField(
        help_text=_("联系电话：本园区招商专员可见全文，其他角色脱敏")
    )
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Fund
        fields = [
            "id",
            "zone",
            "name",
            "manager",
            "size",
            "stages",
            "kinds",
            "ticket_min",
            "ticket_max",
            "focus_chains",
            "focus_nodes",
            "contact_name",
            "contact_phone",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_contact_phone(self, fund: Fund) -> str:
        return financing.fund_phone_for(self.context["request"].user, fund)


class _FundFields(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    manager = serializers.CharField(max_length=100)
    size = money_field(help_text=_("基金规模（万元），不能为负数"))
    stages = serializers.ListField(
        child=InvestmentStageField(), required=False, help_text=_("投资阶段；省略或空为不限")
    )
    kinds = serializers.ListField(
        child=FinancingKindField(), required=False, help_text=_("投资方式；省略为股权融资")
    )
    ticket_min = money_field(required=False, help_text=_("单笔投资下限（万元）；省略为 0"))
    ticket_max = money_field(help_text=_("单笔投资上限（万元），不低于下限"))
    focus_chains = VisibleChainField(many=True, required=False, help_text=_("关注产业链 id（本园区）"))
    focus_nodes = VisibleNodeField(many=True, required=False, help_text=_("关注环节 id（本园区）"))
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class FundCreateSerializer(_FundFields):
    zone = CallerZoneField(required=False, help_text=_("所属园区 id；调用者只有一个园区时可省略"))


class FundUpdateSerializer(_AllOptionalButVersion, _FundFields):
    version = version_field()


class MatchSerializer(serializers.Serializer):
    fund = serializers.IntegerField(source="fund.pk", help_text=_("基金 id"))
    fund_name = serializers.CharField(source="fund.name")
    need = serializers.IntegerField(source="need.pk", help_text=_("融资需求 id"))
    enterprise = serializers.IntegerField(source="need.enterprise_id", help_text=_("企业 id"))
    enterprise_name = serializers.CharField(source="need.enterprise.name")
    score = serializers.IntegerField(help_text=_("匹配度（0–100）= focus + stage + ticket"))
    focus = serializers.IntegerField(help_text=_("关注领域得分：环节 40，产业链 25，不限行业 10，不符 0"))
    stage = serializers.IntegerField(help_text=_("投资阶段得分：相符 30，一方未限定 10，不符 0"))
    ticket = serializers.IntegerField(help_text=_("单笔投资范围得分：在范围内 30，否则 0"))
    reasons = serializers.ListField(child=serializers.CharField(), help_text=_("依据：相符与不符之处"))


@extend_schema_view(
    list=extend_schema(
        summary=_("产业基金列表"), description=_("调用者所在园区的基金：招商专员与领导可见。")
    ),
    retrieve=extend_schema(summary=_("产业基金详情"), responses=ERRORS.responses(200, FundSerializer, 404)),
    create=extend_schema(
        summary=_("添加产业基金"),
        description=_("本园区招商专员添加；关注产业链与环节须为本园区的。"),
        request=FundCreateSerializer,
        responses=ERRORS.responses(201, FundSerializer, 400, 403, 409),
    ),
    partial_update=extend_schema(
        summary=_("修改产业基金"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"),
        request=FundUpdateSerializer,
        responses=ERRORS.responses(200, FundSerializer, 400, 403, 404, 409),
    ),
)
class FundViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """The funds of the caller's zones."""

    queryset = Fund.objects.none()
    serializer_class = FundSerializer
    serializer_classes = {"create": FundCreateSerializer, "partial_update": FundUpdateSerializer}
    permission_classes = [IsAuthenticated, RolesRead]
    read_roles = INVESTMENT_READERS
    write_roles = INVESTMENT_KEEPERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Fund]:
        return (
            Fund.objects.visible_to(actor(self.request))
            .prefetch_related("focus_chains", "focus_nodes")
            .order_by("name", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        zone = zone_or_only(user, data.pop("zone", None))
        data.setdefault("kinds", [FinancingKind.EQUITY])
        fund = financing.create_fund(zone=zone, by=user, **data)
        return self.show(fund, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fund = self.get_object()
        data = self.validated()
        version = data.pop("version")
        financing.update_fund(fund, by=actor(request), version=version, **data)
        return self.show(fund)

    @extend_schema(
        summary=_("基金匹配的融资需求"),
        description=_(
            "本园区对接中的融资需求中与该基金相符的，按匹配度从高到低（同分按企业名称）。"
            "基金须提供需求的融资方式；关注领域与单笔投资范围都不符的不列出。"
        ),
        responses=ERRORS.responses(200, MatchSerializer(many=True), 404),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def matches(self, request: Request, pk: str | None = None) -> Response:
        fund = self.get_object()
        return Response(MatchSerializer(financing.matches_for_fund(fund), many=True).data)


# --- financing needs -------------------------------------------------------------------------------


class NeedRoadshowSerializer(serializers.ModelSerializer):
    class Meta:
        model = Roadshow
        fields = ["id", "title", "held_on", "location"]
        read_only_fields = fields


class NeedOutcomeSerializer(serializers.ModelSerializer):
    fund = serializers.IntegerField(
        source="fund_id", allow_null=True, read_only=True, help_text=_("出资基金 id")
    )
    investor_name = serializers.SerializerMethodField(help_text=_("出资方名称：基金名称或登记的出资方"))
    roadshow = serializers.IntegerField(source="roadshow_id", allow_null=True, read_only=True)
    amount = money_field(read_only=True, help_text=_("投资金额（万元）"))

    class Meta:
        model = FinancingOutcome
        fields = ["id", "fund", "investor_name", "roadshow", "amount", "invested_on"]
        read_only_fields = fields

    def get_investor_name(self, outcome: FinancingOutcome) -> str:
        return outcome.fund.name if outcome.fund is not None else outcome.investor


class NeedSerializer(serializers.ModelSerializer):
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True, help_text=_("企业 id"))
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    amount = money_field(read_only=True, help_text=_("融资金额（万元）"))
    kind = FinancingKindField(read_only=True, help_text=_("融资方式"))
    stage = NeedStageField(read_only=True, help_text=_("融资轮次（股权融资）；空为未填写"))
    status = NeedStatusField(read_only=True, help_text=_("对接中 / 已融资 / 已撤回"))
    raised = money_field(read_only=True, help_text=_("已登记的对接成果合计（万元）"))
    roadshows = NeedRoadshowSerializer(many=True, read_only=True, help_text=_("受邀参加的路演"))
    outcomes = NeedOutcomeSerializer(many=True, read_only=True, help_text=_("对接成果"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FinancingNeed
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "amount",
            "kind",
            "stage",
            "purpose",
            "needed_by",
            "status",
            "raised",
            "roadshows",
            "outcomes",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class _NeedFields(serializers.Serializer):
    amount = money_field(help_text=_("融资金额（万元），必须大于 0"))
    kind = FinancingKindField(help_text=_("融资方式"))
    stage = NeedStageField(required=False, help_text=_("融资轮次，仅股权融资保留"))
    purpose = serializers.CharField(max_length=200, help_text=_("资金用途"))
    needed_by = serializers.DateField(help_text=_("需求时间：不能早于今天"))


class NeedCreateSerializer(_NeedFields):
    enterprise = VisibleEnterpriseField(
        required=False, help_text=_("企业 id；企业用户只绑定一家企业时可省略")
    )


class NeedUpdateSerializer(_AllOptionalButVersion, _NeedFields):
    version = version_field()


class NeedFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("融资方式"), choices=FinancingKind.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=FinancingNeedStatus.choices)
    enterprise = IdFilter(label=_("企业 id"), field_name="enterprise_id")

    class Meta:
        model = FinancingNeed
        fields: list[str] = []


# An outcome as the lists of outcomes show it: a need's outcome, with the need and its enterprise.
class OutcomeSerializer(NeedOutcomeSerializer):
    need = serializers.IntegerField(source="need_id", read_only=True, help_text=_("融资需求 id"))
    enterprise = serializers.IntegerField(source="need.enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="need.enterprise.name", read_only=True)

    class Meta(NeedOutcomeSerializer.Meta):
        fields = [
            "id",
            "need",
            "enterprise",
            "enterprise_name",
            "fund",
            "investor_name",
            "roadshow",
            "amount",
            "invested_on",
            "created_at",
        ]
        read_only_fields = fields


class _OutcomeFields(serializers.Serializer):
    fund = FundField(required=False, allow_null=True, help_text=_("出资基金 id（本园区）"))
    investor = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("出资方名称：不是本园区基金时填写")
    )
    amount = money_field(help_text=_("投资金额（万元），必须大于 0"))
    invested_on = serializers.DateField(help_text=_("投资日期：不能晚于今天"))


class NeedOutcomeCreateSerializer(_OutcomeFields):
    roadshow = RoadshowField(required=False, allow_null=True, help_text=_("该需求参加的路演 id"))


class RoadshowOutcomeCreateSerializer(_OutcomeFields):
    need = NeedField(help_text=_("参加该路演的融资需求 id"))


@extend_schema_view(
    list=extend_schema(
        summary=_("融资需求列表"),
        description=_("企业用户只看到本企业的，招商专员与领导看到本园区的，服务管家看到所服务企业的。"),
    ),
    retrieve=extend_schema(summary=_("融资需求详情"), responses=ERRORS.responses(200, NeedSerializer, 404)),
    create=extend_schema(
        summary=_("发布融资需求"),
        description=_(
            "企业用户为本企业发布（只绑定一家企业时可省略 enterprise），招商专员为本园区企业登记。"
            "金额须大于 0；需求时间不能早于今天；融资轮次只对股权融资保留。"
        ),
        request=NeedCreateSerializer,
        responses=ERRORS.responses(201, NeedSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改融资需求"),
        description=_("只能修改对接中的需求；只提交要改的字段，并带上读取时的 version。"),
        request=NeedUpdateSerializer,
        responses=ERRORS.responses(200, NeedSerializer, 400, 403, 404, 409),
    ),
)
class FinancingNeedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """Financing needs the caller may see."""

    queryset = FinancingNeed.objects.none()
    serializer_class = NeedSerializer
    serializer_classes = {
        "create": NeedCreateSerializer,
        "partial_update": NeedUpdateSerializer,
        "withdraw": NeedVersionSerializer,
        "fulfil": NeedVersionSerializer,
        "outcomes": NeedOutcomeCreateSerializer,
    }
    filterset_class = NeedFilter
    permission_classes = [IsAuthenticated, RolesRead]
    read_roles = NEED_READERS
    write_roles = NEED_WRITERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[FinancingNeed]:
        return (
            FinancingNeed.objects.visible_to(actor(self.request))
            .select_related("enterprise")
            .prefetch_related("roadshows", "outcomes__fund")
            .annotate(raised=financing.raised())
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        enterprise = data.pop("enterprise", None)
        if enterprise is None:
            mine = list(financing.member_enterprises(user)[:2])
            if len(mine) != 1:
                raise serializers.ValidationError({"enterprise": [_("请指定企业")]})
            enterprise = mine[0]
        need = financing.post_need(enterprise, by=user, **data)
        return self.show(need, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        need = self.get_object()
        data = self.validated()
        version = data.pop("version")
        financing.update_need(need, by=actor(request), version=version, **data)
        return self.show(need)

    @extend_schema(
        summary=_("撤回融资需求"),
        description=_("企业用户或本园区招商专员撤回对接中的需求；撤回后不能再修改。"),
        request=NeedVersionSerializer,
        responses=ERRORS.responses(200, NeedSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        need = self.get_object()
        financing.withdraw_need(need, by=actor(request), version=self.validated()["version"])
        return self.show(need)

    @extend_schema(
        summary=_("标记为已融资"),
        description=_(
            "本园区招商专员把对接中的需求标记为已融资。对接成果累计达到融资金额时，需求会自动标记为已融资。"
        ),
        request=NeedVersionSerializer,
        responses=ERRORS.responses(200, NeedSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def fulfil(self, request: Request, pk: str | None = None) -> Response:
        _require(request, INVESTMENT_KEEPERS)
        need = self.get_object()
        financing.mark_fulfilled(need, by=actor(request), version=self.validated()["version"])
        return self.show(need)

    @extend_schema(
        summary=_("匹配的基金"),
        description=_(
            "本园区提供该融资方式的基金，按匹配度从高到低（同分按基金名称）。匹配度满分 100：关注领域 40"
            "（企业所在环节在基金关注环节中 40，在关注产业链上 25，基金不限行业 10）、投资阶段 30（相符 30，"
            "一方未限定 10）、单笔投资范围 30。关注领域与单笔投资范围都不符的基金不列出。仅招商专员与领导可用。"
        ),
        responses=ERRORS.responses(200, MatchSerializer(many=True), 403, 404),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def matches(self, request: Request, pk: str | None = None) -> Response:
        _require(request, INVESTMENT_READERS)
        need = self.get_object()
        return Response(MatchSerializer(financing.matches_for_need(need), many=True).data)

    @extend_schema(
        summary=_("登记对接成果"),
        description=_(
            "本园区招商专员登记投资到位：出资基金（本园区）或出资方名称二选一；路演可选（须为该需求参加的路演）。"
            "累计达到融资金额时需求自动标记为已融资；已撤回的需求不能登记。"
        ),
        request=NeedOutcomeCreateSerializer,
        responses=ERRORS.responses(201, OutcomeSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def outcomes(self, request: Request, pk: str | None = None) -> Response:
        _require(request, INVESTMENT_KEEPERS)
        need = self.get_object()
        data = self.validated()
        return _recorded(request, need, data, roadshow=data.get("roadshow"))


def _require(request: Request, roles: frozenset[str]) -> None:
    if not actor(request).has_any_role(roles):
        raise exceptions.PermissionDenied(_("您的角色无权执行此操作"))


def _recorded(
    request: Request, need: FinancingNeed, data: Mapping[str, Any], *, roadshow: Roadshow | None
) -> Response:
    """Record an outcome of `need` from a validated body (_OutcomeFields): 201 with the outcome."""
    outcome = financing.record_outcome(
        need,
        by=actor(request),
        amount=data["amount"],
        invested_on=data["invested_on"],
        fund=data.get("fund"),
        investor=data.get("investor", ""),
        roadshow=roadshow,
    )
    return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)


# --- roadshows -------------------------------------------------------------------------------------


class RoadshowSerializer(serializers.ModelSerializer):
    zone = serializers.IntegerField(source="zone_id", read_only=True, help_text=_("所属园区 id"))
    funds: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text=_("参会基金 id"))
    needs: Any = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text=_("路演企业的融资需求 id")
    )

    class Meta:
        model = Roadshow
        fields = ["id", "zone", "title", "held_on", "location", "funds", "needs", "created_at"]
        read_only_fields = fields


class RoadshowCreateSerializer(serializers.Serializer):
    zone = CallerZoneField(required=False, help_text=_("所属园区 id；调用者只有一个园区时可省略"))
    title = serializers.CharField(max_length=100)
    held_on = serializers.DateField()
    location = serializers.CharField(max_length=100, required=False, allow_blank=True)


class InviteSerializer(serializers.Serializer):
    funds = FundField(many=True, required=False, help_text=_("邀请的基金 id"))
    needs = NeedField(many=True, required=False, help_text=_("邀请的融资需求 id（对接中）"))


class InviteResultSerializer(serializers.Serializer):
    funds = serializers.IntegerField(help_text=_("新邀请的基金数（已邀请的跳过）"))
    needs = serializers.IntegerField(help_text=_("新邀请的融资需求数（已邀请的跳过）"))


@extend_schema_view(
    list=extend_schema(summary=_("路演列表"), description=_("调用者所在园区的路演：招商专员与领导可见。")),
    retrieve=extend_schema(summary=_("路演详情"), responses=ERRORS.responses(200, RoadshowSerializer, 404)),
    create=extend_schema(
        summary=_("新建路演"),
        request=RoadshowCreateSerializer,
        responses=ERRORS.responses(201, RoadshowSerializer, 400, 403),
    ),
)
class RoadshowViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """Roadshows of the caller's zones."""

    queryset = Roadshow.objects.none()
    serializer_class = RoadshowSerializer
    serializer_classes = {
        "create": RoadshowCreateSerializer,
        "invite": InviteSerializer,
        "outcomes": RoadshowOutcomeCreateSerializer,
    }
    permission_classes = [IsAuthenticated, RolesRead]
    read_roles = INVESTMENT_READERS
    write_roles = INVESTMENT_KEEPERS

    def get_queryset(self) -> QuerySet[Roadshow]:
        return (
            Roadshow.objects.visible_to(actor(self.request))
            .prefetch_related("funds", "needs")
            .order_by("-held_on", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        zone = zone_or_only(user, data.pop("zone", None))
        roadshow = financing.create_roadshow(zone=zone, by=user, **data)
        return self.show(roadshow, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("邀请参会"),
        description=_(
            "邀请本园区的基金和对接中的融资需求参加路演；已邀请的跳过。funds 与 needs 至少一项非空。"
        ),
        request=InviteSerializer,
        responses=ERRORS.responses(200, InviteResultSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def invite(self, request: Request, pk: str | None = None) -> Response:
        roadshow = self.get_object()
        data = self.validated()
        result = financing.invite_to_roadshow(
            roadshow, by=actor(request), funds=data.get("funds", []), needs=data.get("needs", [])
        )
        return Response(InviteResultSerializer(result).data)

    @extend_schema(
        methods=["GET"],
        summary=_("路演的对接成果"),
        responses=ERRORS.responses(200, OutcomeSerializer(many=True), 404),
    )
    @extend_schema(
        methods=["POST"],
        summary=_("登记路演对接成果"),
        description=_(
            "为参加该路演的融资需求登记投资到位：出资基金（本园区）或出资方名称二选一。"
            "累计达到融资金额时需求自动标记为已融资。"
        ),
        request=RoadshowOutcomeCreateSerializer,
        responses=ERRORS.responses(201, OutcomeSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def outcomes(self, request: Request, pk: str | None = None) -> Response:
        roadshow = self.get_object()
        if request.method == "GET":
            rows = roadshow.outcomes.select_related("need__enterprise", "fund").order_by(
                "-invested_on", "-pk"
            )
            return Response(OutcomeSerializer(rows, many=True).data)
        data = self.validated()
        return _recorded(request, data["need"], data, roadshow=roadshow)


# --- outcomes and totals ---------------------------------------------------------------------------


class OutcomeFilter(django_filters.FilterSet):
    fund = IdFilter(label=_("基金 id"), field_name="fund_id")
    need = IdFilter(label=_("融资需求 id"), field_name="need_id")
    start = django_filters.DateFilter(label=_("投资日期起"), field_name="invested_on", lookup_expr="gte")
    end = django_filters.DateFilter(label=_("投资日期止"), field_name="invested_on", lookup_expr="lte")

    class Meta:
        model = FinancingOutcome
        fields: list[str] = []


class TotalsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text=_("投资日期起（含）；省略为今年 1 月 1 日"))
    end = serializers.DateField(required=False, help_text=_("投资日期止（含）；省略为今年 12 月 31 日"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        year = today().year
        attrs.setdefault("start", date(year, 1, 1))
        attrs.setdefault("end", date(year, 12, 31))
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("不能早于开始日期")]})
        return attrs


class FundTotalSerializer(serializers.Serializer):
    fund = serializers.IntegerField(
        source="fund_id", allow_null=True, help_text=_("基金 id；null 为其他出资方")
    )
    name = serializers.CharField()
    amount = money_field()
    count = serializers.IntegerField()


class PeriodTotalSerializer(serializers.Serializer):
    period = serializers.CharField(help_text=_("月份，如 2026-03"))
    amount = money_field()
    count = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    amount = money_field(help_text=_("期间内投资合计（万元）"))
    count = serializers.IntegerField(help_text=_("期间内对接成果笔数"))
    by_fund = FundTotalSerializer(many=True)
    by_month = PeriodTotalSerializer(many=True)


@extend_schema_view(
    list=extend_schema(
        summary=_("对接成果列表"),
        description=_("调用者所在园区企业获得的投资：招商专员与领导可见。"),
    ),
)
class FinancingOutcomeViewSet(mixins.ListModelMixin, InvestmentViewSet):
    """What was invested in the enterprises of the caller's zones."""

    queryset = FinancingOutcome.objects.none()
    serializer_class = OutcomeSerializer
    filterset_class = OutcomeFilter
    permission_classes = [IsAuthenticated, RolesRead]
    read_roles = INVESTMENT_READERS
    write_roles: frozenset[str] = frozenset()

    def get_queryset(self) -> QuerySet[FinancingOutcome]:
        return (
            financing.outcomes_visible_to(actor(self.request))
            .select_related("need__enterprise", "fund")
            .order_by("-invested_on", "-pk")
        )

    @extend_schema(
        summary=_("对接成果统计"),
        description=_("期间内（按投资日期，含两端）投资合计，按基金（非基金出资方合为一行）和按月份。"),
        parameters=[TotalsQuerySerializer],
        responses={200: TotalsSerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def totals(self, request: Request) -> Response:
        query = TotalsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        outcomes = financing.outcomes_visible_to(actor(request)).filter(
            invested_on__gte=start, invested_on__lte=end
        )
        summary = outcomes.aggregate(amount=Sum("amount"), count=Count("pk"))
        body = {
            "start": start,
            "end": end,
            "amount": summary["amount"] or financing.ZERO,
            "count": summary["count"],
            "by_fund": financing.invested_per_fund(outcomes),
            "by_month": financing.invested_per_month(outcomes),
        }
        return Response(TotalsSerializer(body).data)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/funds", FundViewSet, basename="investment-fund")
    router.register("investment/financing-needs", FinancingNeedViewSet, basename="investment-financing-need")
    router.register("investment/roadshows", RoadshowViewSet, basename="investment-roadshow")
    router.register(
        "investment/financing-outcomes", FinancingOutcomeViewSet, basename="investment-financing-outcome"
    )
