"""REST API: industry chains (产业链图谱) — chains with their nodes' strength, the map (gaps, thin supply),
nodes, and the enterprises placed on them.

Reads are scoped (visible_to): the zone's promoters and leaders; writes are the promoters' and go
through guanjia.investment.chains. An object out of the caller's zones is a 404 in the path and
"does not exist" (400) in a body.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.investment import chains
from guanjia.investment.api.common import (
    CallerZoneField,
    IdFilter,
    InvestmentViewSet,
    KeepersWrite,
    ReadsInvestment,
    Refusals,
    VisibleChainField,
    VisibleEnterpriseField,
    VisibleNodeField,
    actor,
    zone_or_only,
)
from guanjia.investment.models import (
    ChainNode,
    IndustryChain,
    NodePlacement,
    Segment,
    Strength,
)

ERRORS = Refusals(
    forbidden=_("无权执行此操作（领导只读；只有本园区招商专员可以修改）"),
    stale=_("产业链已被他人修改：请重新读取后再提交"),
)


class ChainKeepersWrite(KeepersWrite):
    message = _("只有本园区的招商专员可以修改产业链")


PERMISSIONS = [IsAuthenticated, ReadsInvestment, ChainKeepersWrite]


# --- fields: objects the caller may name in a body ------------------------------------------------------


class ZoneField(CallerZoneField):
    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的管辖范围内")}


class ChainField(VisibleChainField):
    default_error_messages = {"does_not_exist": _("产业链 {pk_value} 不存在或不在您的范围内")}


class NodeField(VisibleNodeField):
    default_error_messages = {"does_not_exist": _("环节 {pk_value} 不存在或不在您的范围内")}


class EnterpriseField(VisibleEnterpriseField):
    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不在您的范围内")}


SCORE_FIELD: dict[str, Any] = {"max_digits": 10, "decimal_places": 1, "coerce_to_string": False}


# --- serializers ------------------------------------------------------------------------------------------


class NodeStrengthSerializer(serializers.Serializer):
    """A node with its strength (the figures cover the node and its descendants)."""

    id = serializers.IntegerField(source="node.pk")
    name = serializers.CharField(source="node.name")
    segment = serializers.ChoiceField(source="node.segment", choices=Segment.choices)
    parent: Any = serializers.IntegerField(
        source="node.parent_id", allow_null=True, help_text=_("上级环节的 id")
    )
    position = serializers.IntegerField(source="node.position")
    description = serializers.CharField(source="node.description")
    count = serializers.IntegerField(help_text=_("本环节及下级环节的本地企业数（同一企业只计一次）"))
    leaders = serializers.IntegerField(help_text=_("其中龙头企业数"))
    direct = serializers.IntegerField(help_text=_("直接列入本环节的企业数"))
    score = serializers.DecimalField(
        **SCORE_FIELD, help_text=_("得分：每家企业按规模（大4/中2/小1/微0.5）加分级（重点2/规上1）再加龙头4")
    )
    strength = serializers.ChoiceField(
        choices=Strength.choices,
        help_text=_("strong：得分达到 STRONG_SCORE；weak：有企业但不足；missing：没有企业"),
    )


class MapNodeSerializer(NodeStrengthSerializer):
    """A node of the map (a chains.MapRow): its strength and its depth in the tree."""

    depth = serializers.IntegerField(help_text=_("在链段内的层级，顶层为 0"))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        row: chains.MapRow = instance
        return {**NodeStrengthSerializer(row.strength, context=self.context).data, "depth": row.depth}


class ChainSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    node_count = serializers.SerializerMethodField(help_text=_("环节数"))
    strong_count = serializers.SerializerMethodField(help_text=_("强环节数"))
    weak_count = serializers.SerializerMethodField(help_text=_("弱环节数"))
    missing_count = serializers.SerializerMethodField(help_text=_("缺失环节数"))

    class Meta:
        model = IndustryChain
        fields = [
            "id",
            "zone",
            "zone_name",
            "name",
            "description",
            "created_at",
            "version",
            "node_count",
            "strong_count",
            "weak_count",
            "missing_count",
        ]
        read_only_fields = fields

    def _summary(self, chain: IndustryChain) -> chains.ChainSummary:
        # The viewset computes the page's summaries at once (two queries) and passes them in.
        summaries = self.context.get("summaries") or {}
        return summaries.get(chain.pk) or chains.chain_summaries([chain])[0]

    def get_node_count(self, chain: IndustryChain) -> int:
        return self._summary(chain).nodes

    def get_strong_count(self, chain: IndustryChain) -> int:
        return self._summary(chain).strong

    def get_weak_count(self, chain: IndustryChain) -> int:
        return self._summary(chain).weak

    def get_missing_count(self, chain: IndustryChain) -> int:
        return self._summary(chain).missing


class ChainDetailSerializer(ChainSerializer):
    nodes = serializers.SerializerMethodField(help_text=_("全部环节及其强弱，按链段、层级排列"))

    class Meta(ChainSerializer.Meta):
        fields = [*ChainSerializer.Meta.fields, "nodes"]
        read_only_fields = fields

    @extend_schema_field(MapNodeSerializer(many=True))
    def get_nodes(self, chain: IndustryChain) -> list[Any]:
        return list(MapNodeSerializer(chains.ordered_rows(self.context["strengths"]), many=True).data)


class ChainCreateSerializer(serializers.Serializer):
    zone = ZoneField(required=False, help_text=_("所属园区 id；省略时为调用者唯一的园区"))
    name = serializers.CharField(max_length=chains.NAME_MAX)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ChainUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=chains.NAME_MAX, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(min_value=0, help_text=_("读取时的 version；已被他人修改时返回 409"))


class GapSerializer(serializers.Serializer):
    node = serializers.IntegerField(source="node.pk")
    name = serializers.CharField(source="node.name")
    segment = serializers.ChoiceField(source="node.segment", choices=Segment.choices)
    strength = serializers.ChoiceField(source="strength.strength", choices=Strength.choices)
    count = serializers.IntegerField(source="strength.count")
    score = serializers.DecimalField(source="strength.score", **SCORE_FIELD)
    targets = serializers.IntegerField(help_text=_("目标企业库中覆盖该环节的目标企业数"))


class ThinLinkSerializer(serializers.Serializer):
    node = serializers.IntegerField(source="node.pk")
    name = serializers.CharField(source="node.name")
    segment = serializers.ChoiceField(source="node.segment", choices=Segment.choices)
    leaders = serializers.IntegerField(source="strength.leaders")
    suppliers = serializers.IntegerField(source="strength.suppliers", help_text=_("非龙头企业数"))
    few_suppliers = serializers.BooleanField(help_text=_("非龙头企业少于 THIN_SUPPLY 家（强链）"))
    missing_children = serializers.SerializerMethodField(help_text=_("缺失的下级环节 id（延链）"))

    def get_missing_children(self, link: chains.ThinLink) -> list[int]:
        return [child.pk for child in link.missing_children]


class ChainMapSerializer(serializers.Serializer):
    chain = serializers.IntegerField(source="chain.pk")
    name = serializers.CharField(source="chain.name")
    strong_score = serializers.DecimalField(**SCORE_FIELD, help_text=_("“强”的得分线（含）"))
    thin_supply = serializers.IntegerField(help_text=_("龙头环节配套企业的最少家数"))
    nodes = MapNodeSerializer(many=True, source="rows", help_text=_("全部环节，按链段、层级排列"))
    gaps = GapSerializer(many=True, help_text=_("补链清单：缺失或偏弱的末端环节"))
    thin = ThinLinkSerializer(many=True, help_text=_("强链延链：有龙头但配套薄弱的环节"))


class NodeSerializer(NodeStrengthSerializer):
    chain = serializers.IntegerField(source="node.chain_id")
    chain_version = serializers.IntegerField(
        source="node.chain.version", help_text=_("产业链结构的版本（同一产业链的环节共用），修改环节时带上")
    )


class NodeCreateSerializer(serializers.Serializer):
    chain = ChainField()
    name = serializers.CharField(max_length=chains.NAME_MAX)
    segment = serializers.ChoiceField(
        choices=Segment.choices, required=False, help_text=_("没有上级环节时必填；有上级环节时随上级环节")
    )
    parent: Any = NodeField(required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, max_value=2147483647, required=False)
    description = serializers.CharField(
        max_length=chains.NODE_DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )


class NodeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=chains.NAME_MAX, required=False)
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    parent: Any = NodeField(required=False, allow_null=True, help_text=_("null：改为链段的顶层环节"))
    position = serializers.IntegerField(min_value=0, max_value=2147483647, required=False)
    description = serializers.CharField(
        max_length=chains.NODE_DESCRIPTION_MAX, required=False, allow_blank=True
    )
    chain_version = serializers.IntegerField(
        min_value=0, help_text=_("读取时的 chain_version；产业链结构已被他人修改时返回 409")
    )


class PlacementSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)
    chain = serializers.IntegerField(source="node.chain_id", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = NodePlacement
        fields = [
            "id",
            "node",
            "node_name",
            "chain",
            "enterprise",
            "enterprise_name",
            "is_leader",
            "placed_at",
        ]
        read_only_fields = fields


class PlacementCreateSerializer(serializers.Serializer):
    node = NodeField()
    enterprise = EnterpriseField(help_text=_("本产业链所在园区的企业"))
    is_leader = serializers.BooleanField(required=False, default=False)


class PlacementUpdateSerializer(serializers.Serializer):
    is_leader = serializers.BooleanField()


class PlacementFilter(django_filters.FilterSet):
    node = IdFilter(field_name="node_id", label=_("环节"))
    chain = IdFilter(field_name="node__chain_id", label=_("产业链"))
    enterprise = IdFilter(field_name="enterprise_id", label=_("企业"))

    class Meta:
        model = NodePlacement
        fields: list[str] = []


# --- viewsets ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("产业链列表"),
        description=_("调用者所在园区的产业链，含环节数和强、弱、缺失环节数。本园区招商专员和领导可读。"),
    ),
    retrieve=extend_schema(
        summary=_("产业链详情"),
        description=_("含全部环节及其强弱（本环节及下级环节的本地企业数、龙头数、得分）。"),
        responses=ERRORS.responses(200, ChainDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("新建产业链"),
        description=_("本园区招商专员新建；名称在园区内唯一。"),
        request=ChainCreateSerializer,
        responses=ERRORS.responses(201, ChainDetailSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改产业链"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"),
        request=ChainUpdateSerializer,
        responses=ERRORS.responses(200, ChainDetailSerializer, 400, 403, 404, 409),
    ),
)
class ChainViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """Chains of the caller's zones; the zone's promoters create and rename them."""

    queryset = IndustryChain.objects.none()
    serializer_class = ChainSerializer
    serializer_classes = {
        "create": ChainCreateSerializer,
        "partial_update": ChainUpdateSerializer,
        "retrieve": ChainDetailSerializer,
    }
    permission_classes = PERMISSIONS
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[IndustryChain]:
        return (
            IndustryChain.objects.visible_to(self.caller())
            .select_related("zone")
            .order_by("zone__code", "name", "pk")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the API always paginates lists
        summaries = {s.chain.pk: s for s in chains.chain_summaries(page)}
        context = {**self.get_serializer_context(), "summaries": summaries}
        return self.get_paginated_response(ChainSerializer(page, many=True, context=context).data)

    def show(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        # The detail carries every node's strength: computed once here for the nodes and the counts.
        fresh = self.get_queryset().get(pk=instance.pk)
        strengths = chains.node_strengths(fresh)
        values = list(strengths.values())
        summary = chains.ChainSummary(
            chain=fresh,
            nodes=len(values),
            strong=sum(s.strength == Strength.STRONG for s in values),
            weak=sum(s.strength == Strength.WEAK for s in values),
            missing=sum(s.strength == Strength.MISSING for s in values),
        )
        context = {**self.get_serializer_context(), "strengths": strengths, "summaries": {fresh.pk: summary}}
        return Response(ChainDetailSerializer(fresh, context=context).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.show(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = actor(request)
        data = self.validated()
        zone = zone_or_only(user, data.pop("zone", None), several=_("您管辖多个园区，请指定所属园区"))
        chain = chains.create_chain(zone=zone, by=user, **data)
        return self.show(chain, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        chain = self.get_object()
        chains.update_chain(chain, by=actor(request), **self.validated())
        return self.show(chain)

    @extend_schema(
        summary=_("产业链图谱"),
        description=_(
            "全部环节及其强弱；补链清单（缺失或偏弱的末端环节，及目标企业库中覆盖它的目标企业数）；"
            "强链延链（有龙头企业、但非龙头配套企业少于 thin_supply 家，或有下级环节缺失的环节）。"
        ),
        responses=ERRORS.responses(200, ChainMapSerializer, 404),
    )
    @action(detail=True, methods=["get"], url_path="map", url_name="map", pagination_class=None)
    def chain_map(self, request: Request, pk: str | None = None) -> Response:
        found = chains.chain_map(self.get_object())
        body = {
            "chain": found.chain,
            "strong_score": chains.STRONG_SCORE,
            "thin_supply": chains.THIN_SUPPLY,
            "rows": found.rows,
            "gaps": found.gaps,
            "thin": found.thin,
        }
        return Response(ChainMapSerializer(body).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("环节详情"),
        description=_("环节及其强弱；chain_version 是修改环节时要带上的产业链结构版本。"),
        responses=ERRORS.responses(200, NodeSerializer, 404),
    ),
    create=extend_schema(
        summary=_("添加环节"),
        description=_(
            "在产业链中添加环节：顶层环节须指定链段；有上级环节时链段随上级环节。环节名称在产业链内唯一。"
        ),
        request=NodeCreateSerializer,
        responses=ERRORS.responses(201, NodeSerializer, 400, 403, 409),
    ),
    partial_update=extend_schema(
        summary=_("修改环节"),
        description=_(
            "改名、移动（parent；null 为链段顶层）、调整排序。上级环节不能是本环节或其下级环节；"
            "顶层环节改链段时，下级环节随之改变。带上读取时的 chain_version，已被他人修改时返回 409。"
        ),
        request=NodeUpdateSerializer,
        responses=ERRORS.responses(200, NodeSerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("删除环节"),
        description=_(
            "只能删除空环节：有下级环节、链上企业、招商线索、招商项目、目标企业或关注它的基金时返回 400，"
            "detail 中列出它们。"
        ),
        responses=ERRORS.responses(204, None, 400, 403, 404, 409),
    ),
)
class ChainNodeViewSet(
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    InvestmentViewSet,
):
    """Nodes of the caller's chains; the zone's promoters add, change and remove them."""

    queryset = ChainNode.objects.none()
    serializer_class = NodeSerializer
    serializer_classes = {"create": NodeCreateSerializer, "partial_update": NodeUpdateSerializer}
    permission_classes = PERMISSIONS
    filter_backends: list[Any] = []
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ChainNode]:
        return ChainNode.objects.visible_to(self.caller()).select_related("chain")

    def show(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        # A node is shown with its strength, which depends on the whole chain.
        fresh = self.get_queryset().get(pk=instance.pk)
        strength = chains.node_strengths(fresh.chain)[fresh.pk]
        return Response(NodeSerializer(strength).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.show(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        node = chains.add_node(data.pop("chain"), by=actor(request), **data)
        return self.show(node, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = self.get_object()
        data = self.validated()
        version = data.pop("chain_version")
        chains.update_node(node, by=actor(request), version=version, **data)
        return self.show(node)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        chains.remove_node(self.get_object(), by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary=_("链上企业列表"),
        description=_("列入调用者园区产业链环节的本地企业；可按环节、产业链或企业筛选。"),
    ),
    create=extend_schema(
        summary=_("企业列入环节"),
        description=_(
            "把本产业链所在园区的企业列入环节（可标为龙头）。其他园区的企业、已在该环节的企业返回 400。"
        ),
        request=PlacementCreateSerializer,
        responses=ERRORS.responses(201, PlacementSerializer, 400, 403, 409),
    ),
    partial_update=extend_schema(
        summary=_("设置或取消龙头"),
        request=PlacementUpdateSerializer,
        responses=ERRORS.responses(200, PlacementSerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("企业移出环节"),
        responses=ERRORS.responses(204, None, 403, 404, 409),
    ),
)
class PlacementViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    InvestmentViewSet,
):
    """Enterprises placed on the nodes of the caller's chains."""

    queryset = NodePlacement.objects.none()
    serializer_class = PlacementSerializer
    serializer_classes = {"create": PlacementCreateSerializer, "partial_update": PlacementUpdateSerializer}
    permission_classes = PERMISSIONS
    filterset_class = PlacementFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[NodePlacement]:
        return (
            NodePlacement.objects.visible_to(self.caller())
            .select_related("node", "node__chain", "enterprise")
            .order_by("node__chain_id", "node__position", "node_id", "-is_leader", "enterprise__name", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        placement = chains.place_enterprise(
            data["node"], data["enterprise"], by=actor(request), is_leader=data["is_leader"]
        )
        return self.show(placement, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        placement = self.get_object()
        chains.set_leader(placement, is_leader=self.validated()["is_leader"], by=actor(request))
        return self.show(placement)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        chains.unplace(self.get_object(), by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/chains", ChainViewSet, basename="investment-chain")
    router.register("investment/chain-nodes", ChainNodeViewSet, basename="investment-chain-node")
    router.register("investment/placements", PlacementViewSet, basename="investment-placement")
