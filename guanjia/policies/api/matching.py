"""REST API of the policies app: matching (政策直达 — who qualifies for what), read only.

- /api/policy-matching/items/{id}/: the enterprises that qualify for a benefit item today and those
  that miss exactly one condition (which one, what is asked, what the enterprise has), each with its
  delivery status. The item is one of a policy the caller reads (Policy.objects.visible_to, else 404);
  the enterprises are those the caller may see in match lists (access.enterprises_for: the policy's
  keepers see its whole coverage). Both lists come a page of PAGE_SIZE at a time (?page=).
- /api/policy-matching/enterprises/{id}/: the benefit items an enterprise qualifies for today, to
  whoever may see the enterprise (Enterprise.objects.visible_to, else 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import ErrorSerializer
from guanjia.core.models import User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise, Scale, Tier
from guanjia.policies import matching
from guanjia.policies.access import enterprises_for, may_read, today
from guanjia.policies.api.delivery import DeliveryStatusField
from guanjia.policies.models import BenefitCategory, BenefitItem, Delivery, Policy

extra_urlpatterns: list[URLPattern] = []

PAGE_SIZE = 100
# Who may see an enterprise at all (Enterprise.objects.visible_to then says which).
ENTERPRISE_READERS = frozenset({*ZONE_WIDE_ROLES, Role.STEWARD, Role.ENTERPRISE_USER})

FORBIDDEN = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
ITEM_MISSING = OpenApiResponse(
    ErrorSerializer, description=_("兑现事项不存在或不在您的范围内，或页码超出范围")
)
ENTERPRISE_MISSING = OpenApiResponse(ErrorSerializer, description=_("企业不存在或不在您的范围内"))
PAGE = OpenApiParameter(
    "page",
    OpenApiTypes.INT,
    description=_("两个列表的第几页（每页 100 家），从 1 开始"),
    required=False,
)


def _caller(request: Request | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


class ReadsPolicies(BasePermission):
    message = _("您的账号无权查看政策库")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _caller(request)
        return user is not None and may_read(user)


class ReadsEnterprises(BasePermission):
    message = _("您的账号没有查看企业数据的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _caller(request)
        return user is not None and not user.is_admin_account and user.has_any_role(ENTERPRISE_READERS)


# --- shapes ----------------------------------------------------------------------------------------------


class MatchedEnterpriseSerializer(serializers.Serializer):
    """An enterprise of a match list, with the delivery of the item to it (the view sets it)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    uscc = serializers.CharField(read_only=True, help_text=_("统一社会信用代码"))
    zone = serializers.IntegerField(source="zone_id", read_only=True, help_text=_("所属园区 id"))
    industry_division = serializers.CharField(read_only=True, help_text=_("行业大类代码（两位）；可为空"))
    scale = serializers.ChoiceField(choices=Scale.choices, read_only=True)
    tier = serializers.ChoiceField(choices=Tier.choices, read_only=True)
    registered_capital = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True, help_text=_("注册资本（万元）")
    )
    founded_on = serializers.DateField(allow_null=True, read_only=True, help_text=_("成立日期"))
    delivery_status = DeliveryStatusField(
        allow_null=True,
        read_only=True,
        help_text=_("该事项对该企业的兑现状态；尚未推送（或无权查看）为 null"),
    )


class NearMissSerializer(serializers.Serializer):
    enterprise = MatchedEnterpriseSerializer(read_only=True)
    missed = serializers.ChoiceField(
        choices=list(matching.CONDITIONS.items()),
        read_only=True,
        help_text=_("未满足的那一项条件"),
    )
    missed_label = serializers.CharField(read_only=True, help_text=_("该条件的名称"))
    asked = serializers.CharField(read_only=True, help_text=_("政策的要求"))
    has = serializers.CharField(read_only=True, help_text=_("企业的情况"))


class ItemMatchesSerializer(serializers.Serializer):
    item = serializers.IntegerField(read_only=True, help_text=_("兑现事项 id"))
    name = serializers.CharField(read_only=True)
    policy = serializers.IntegerField(read_only=True, help_text=_("政策 id"))
    policy_title = serializers.CharField(read_only=True)
    on = serializers.DateField(read_only=True, help_text=_("匹配日期（今天）"))
    in_force = serializers.BooleanField(read_only=True, help_text=_("政策当天是否有效；无效时两个列表都为空"))
    page = serializers.IntegerField(read_only=True)
    page_size = serializers.IntegerField(read_only=True)
    qualifying_count = serializers.IntegerField(read_only=True, help_text=_("符合条件的企业数"))
    near_miss_count = serializers.IntegerField(read_only=True, help_text=_("差一项条件的企业数"))
    qualifying = MatchedEnterpriseSerializer(many=True, read_only=True)
    near_misses = NearMissSerializer(many=True, read_only=True)


class EnterpriseBenefitSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text=_("兑现事项 id"))
    name = serializers.CharField(read_only=True)
    category = serializers.ChoiceField(choices=BenefitCategory.choices, read_only=True)
    max_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True, help_text=_("最高金额（万元）")
    )
    auto_grant = serializers.BooleanField(read_only=True, help_text=_("免申即享"))
    policy = serializers.IntegerField(source="policy_id", read_only=True, help_text=_("政策 id"))
    policy_title = serializers.CharField(source="policy.title", read_only=True)
    document_number = serializers.CharField(source="policy.document_number", read_only=True)
    delivery_status = DeliveryStatusField(
        allow_null=True,
        read_only=True,
        help_text=_("该事项对该企业的兑现状态；尚未推送（或无权查看）为 null"),
    )


class EnterpriseBenefitsSerializer(serializers.Serializer):
    enterprise = serializers.IntegerField(read_only=True, help_text=_("企业 id"))
    enterprise_name = serializers.CharField(read_only=True)
    on = serializers.DateField(read_only=True, help_text=_("匹配日期（今天）"))
    benefits = EnterpriseBenefitSerializer(many=True, read_only=True)


# --- the viewsets --------------------------------------------------------------------------------------


def _page_number(request: Request) -> int:
    """?page= (1 when absent or empty); anything else than a page number is a page that does not exist."""
    value = request.query_params.get("page", "")
    if value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise exceptions.NotFound(_("页码无效"))
    return int(value)


def _delivery_statuses(
    user: User, item_ids: list[int], enterprise_ids: list[int]
) -> dict[tuple[int, int], str]:
    """The statuses of the deliveries the caller may see of these items to these enterprises: one query."""
    rows = (
        Delivery.objects.visible_to(user)
        .filter(item_id__in=item_ids, enterprise_id__in=enterprise_ids)
        .values_list("item_id", "enterprise_id", "status")
    )
    return {(item_id, enterprise_id): status for item_id, enterprise_id, status in rows}


class ItemMatchesViewSet(viewsets.GenericViewSet):
    """A benefit item's qualifying enterprises and near misses."""

    permission_classes = [IsAuthenticated, ReadsPolicies]
    serializer_class = ItemMatchesSerializer
    queryset = BenefitItem.objects.none()
    lookup_value_regex = r"[0-9]+"
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[BenefitItem]:
        return (
            BenefitItem.objects.filter(policy__in=Policy.objects.visible_to(_caller(self.request)))
            .select_related("policy__department__parent")
            .prefetch_related("tags", "zones")
        )

    @extend_schema(
        summary="Enterprises matching a benefit item",
        description=(
            "The enterprises that qualify for the benefit item today and those that miss exactly one of its "
            "conditions (named, with what the policy asks and what the enterprise has), each with the status "
            "of the item's delivery to it. Only enterprises the caller may see in match lists: the policy's "
            "keepers see its whole coverage, others the enterprises they may see. Both lists are paged "
            "together, 100 enterprises a page; both are empty while the policy is not in force."
        ),
        parameters=[PAGE],
        responses={200: ItemMatchesSerializer, 403: FORBIDDEN, 404: ITEM_MISSING},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        user = _caller(request)
        assert user is not None  # IsAuthenticated
        number = _page_number(request)
        day = today()
        among = enterprises_for(user, item.policy)
        qualifying = matching.qualifying(item, on=day, among=among).order_by("name", "pk")
        near = matching.near_miss_queryset(item, on=day, among=among).order_by("name", "pk")
        counts = matching.counts(item, on=day, among=among)
        if number > 1 and (number - 1) * PAGE_SIZE >= max(counts):
            raise exceptions.NotFound(_("页码超出范围"))
        window = slice((number - 1) * PAGE_SIZE, number * PAGE_SIZE)
        enterprises = list(qualifying[window])
        misses = [matching.near_miss(e, on=day) for e in near[window]]
        statuses = _delivery_statuses(
            user, [item.pk], [e.pk for e in enterprises] + [m.enterprise.pk for m in misses]
        )
        for enterprise in [*enterprises, *(m.enterprise for m in misses)]:
            enterprise.delivery_status = statuses.get((item.pk, enterprise.pk))  # type: ignore[attr-defined]
        data = {
            "item": item.pk,
            "name": item.name,
            "policy": item.policy_id,
            "policy_title": item.policy.title,
            "on": day,
            "in_force": matching.in_force(item.policy, day),
            "page": number,
            "page_size": PAGE_SIZE,
            "qualifying_count": counts[0],
            "near_miss_count": counts[1],
            "qualifying": enterprises,
            "near_misses": [
                {
                    "enterprise": miss.enterprise,
                    "missed": miss.missed,
                    "missed_label": miss.label,
                    "asked": matching.requirement_text(item, miss.missed),
                    "has": miss.has,
                }
                for miss in misses
            ],
        }
        return Response(ItemMatchesSerializer(data).data)


class EnterpriseBenefitsViewSet(viewsets.GenericViewSet):
    """The benefit items an enterprise qualifies for."""

    permission_classes = [IsAuthenticated, ReadsEnterprises]
    serializer_class = EnterpriseBenefitsSerializer
    queryset = Enterprise.objects.none()
    lookup_value_regex = r"[0-9]+"
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Enterprise]:
        return Enterprise.objects.visible_to(_caller(self.request)).select_related("zone")

    @extend_schema(
        summary="Benefit items of an enterprise",
        description=(
            "The benefit items of policies in force today that the enterprise qualifies for, each with the "
            "status of its delivery to the enterprise. The enterprise must be one the caller may see."
        ),
        responses={200: EnterpriseBenefitsSerializer, 403: FORBIDDEN, 404: ENTERPRISE_MISSING},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        enterprise = self.get_object()
        user = _caller(request)
        assert user is not None  # IsAuthenticated
        day = today()
        items = list(matching.benefits_for(enterprise, on=day))
        statuses = _delivery_statuses(user, [i.pk for i in items], [enterprise.pk])
        for item in items:
            item.delivery_status = statuses.get((item.pk, enterprise.pk))  # type: ignore[attr-defined]
        data = {"enterprise": enterprise.pk, "enterprise_name": enterprise.name, "on": day, "benefits": items}
        return Response(EnterpriseBenefitsSerializer(data).data)


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("policy-matching/items", ItemMatchesViewSet, basename="policy-matching-item")
    router.register(
        "policy-matching/enterprises", EnterpriseBenefitsViewSet, basename="policy-matching-enterprise"
    )
