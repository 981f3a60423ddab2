"""REST API of the policies app: delivery (政策兑现).

Reads are scoped by Delivery.objects.visible_to (the policy's keepers, the enterprise's steward and
users, the zone's leaders, supervisors and dispatchers); a delivery out of the caller's scope is a 404.
Writes go through guanjia.policies.delivery, whose refusals the exception handler maps (ServiceError
400, NotAllowed 403, Conflict 409). A role that may never take a step is refused (403) before its input
is read: a leader reads everything of its zone and writes nothing.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import DEFAULT_ERRORS, ErrorSerializer, StrictBooleanFilter
from guanjia.core.api_common import IdFilter
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise
from guanjia.policies import delivery as service
from guanjia.policies.access import enterprises_for, today
from guanjia.policies.models import (
    POLICY_KEEPERS,
    POLICY_OVERSEERS,
    BenefitItem,
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Policy,
    PushChannel,
)

READERS = frozenset({*POLICY_KEEPERS, *POLICY_OVERSEERS, Role.STEWARD, Role.ENTERPRISE_USER})
# Who may call each write at all (the service then checks the object: its steward, its keepers).
WRITERS: dict[str, frozenset[str]] = {
    "create": frozenset({*POLICY_KEEPERS, Role.STEWARD}),
    "apply": frozenset({Role.ENTERPRISE_USER, Role.STEWARD}),
    "approve": frozenset(POLICY_KEEPERS),
    "reject": frozenset(POLICY_KEEPERS),
    "disburse": frozenset(POLICY_KEEPERS),
}

INVALID = DEFAULT_ERRORS["400"]
FORBIDDEN = OpenApiResponse(ErrorSerializer, description=_("无权执行此操作"))
MISSING = OpenApiResponse(ErrorSerializer, description=_("兑现记录不存在或不在您的范围内"))
STALE = OpenApiResponse(ErrorSerializer, description=_("已被他人处理：请重新读取后再提交"))


def _caller(request: Request | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def _actor(request: Request) -> User:
    user = _caller(request)
    if user is None:
        raise exceptions.NotAuthenticated()
    return user


# --- choice fields with their own schema components ("status" names other choice sets too) ---------------


class _NamedChoiceField(serializers.ChoiceField):
    enum_name = ""
    choice_set: Any

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.choice_set.choices, **kwargs)


class DeliveryStatusField(_NamedChoiceField):
    enum_name = "PolicyDeliveryStatusEnum"
    choice_set = DeliveryStatus


class PushChannelField(_NamedChoiceField):
    enum_name = "PolicyPushChannelEnum"
    choice_set = PushChannel


class _NamedChoiceExtension(OpenApiSerializerFieldExtension):
    target_class = _NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str | None:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        choice_set = self.target.choice_set
        labels = [f"* `{value}` - {label}" for value, label in choice_set.choices]
        return {"type": "string", "enum": list(choice_set.values), "description": "\n".join(labels)}


# --- serializers --------------------------------------------------------------------------------------


class PolicyDeliveryEventSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(read_only=True, help_text=_("原状态；推送时为空"))
    to_status = DeliveryStatusField(read_only=True)
    by = serializers.IntegerField(source="by_id", allow_null=True, read_only=True, help_text=_("操作人 id"))
    by_name = serializers.SerializerMethodField(help_text=_("操作人姓名"))

    class Meta:
        model = DeliveryEvent
        fields = ["from_status", "to_status", "by", "by_name", "at", "note"]
        read_only_fields = fields

    def get_by_name(self, event: DeliveryEvent) -> str:
        return str(event.by) if event.by is not None else ""


class PolicyDeliverySerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id", read_only=True, help_text=_("兑现事项 id"))
    item_name = serializers.CharField(source="item.name", read_only=True)
    policy = serializers.IntegerField(source="item.policy_id", read_only=True, help_text=_("政策 id"))
    policy_title = serializers.CharField(source="item.policy.title", read_only=True)
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True, help_text=_("企业 id"))
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    zone = serializers.IntegerField(source="zone_id", read_only=True, help_text=_("企业所在园区 id"))
    status = DeliveryStatusField(read_only=True)
    channel = PushChannelField(read_only=True)
    pushed_by = serializers.IntegerField(source="pushed_by_id", allow_null=True, read_only=True)
    applied_by = serializers.IntegerField(source="applied_by_id", allow_null=True, read_only=True)
    applied_on_behalf = serializers.SerializerMethodField(help_text=_("是否由服务管家代企业申请"))
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True, read_only=True)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True, help_text=_("兑现金额（万元）")
    )
    overdue = serializers.SerializerMethodField(help_text=_("已审核且超过应兑现日期仍未兑现"))
    events = PolicyDeliveryEventSerializer(many=True, read_only=True, help_text=_("办理记录"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "item",
            "item_name",
            "policy",
            "policy_title",
            "enterprise",
            "enterprise_name",
            "zone",
            "status",
            "channel",
            "pushed_by",
            "pushed_at",
            "applied_by",
            "applied_at",
            "applied_on_behalf",
            "application_note",
            "approved_by",
            "approved_at",
            "disburse_due",
            "disbursed_on",
            "amount",
            "rejected_at",
            "reject_reason",
            "overdue",
            "events",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def get_applied_on_behalf(self, delivery: Delivery) -> bool:
        return service.applied_on_behalf(delivery)

    def get_overdue(self, delivery: Delivery) -> bool:
        return service.is_overdue(delivery, self.context.get("today"))


@extend_schema_field(OpenApiTypes.INT)
class VisibleItemField(serializers.PrimaryKeyRelatedField):
    """A benefit item of a policy the caller may read."""

    default_error_messages = {"does_not_exist": _("兑现事项 {pk_value} 不存在或不在您的范围内")}

    def get_queryset(self) -> QuerySet[BenefitItem]:
        user = _caller(self.context.get("request"))
        if user is None:
            return BenefitItem.objects.none()
        return BenefitItem.objects.filter(policy__in=Policy.objects.visible_to(user)).select_related("policy")


class PolicyDeliveryPushSerializer(serializers.Serializer):
    item = VisibleItemField(help_text=_("兑现事项 id"))
    enterprise = serializers.IntegerField(
        min_value=1, help_text=_("企业 id：服务管家所服务的企业，或政策覆盖范围内的企业")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = _caller(self.context.get("request"))
        item: BenefitItem = attrs["item"]
        reachable: QuerySet[Enterprise] = (
            enterprises_for(user, item.policy) if user is not None else Enterprise.objects.none()
        )
        enterprise = reachable.filter(pk=attrs["enterprise"]).first()
        if enterprise is None:
            raise serializers.ValidationError(
                {"enterprise": [_("企业 %(pk)s 不存在或不在您的范围内") % {"pk": attrs["enterprise"]}]}
            )
        attrs["enterprise"] = enterprise
        return attrs


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, help_text=_("读取时的 version；已被他人处理时返回 409"))


class PolicyDeliveryApplySerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=service.NOTE_MAX, required=False, allow_blank=True, help_text=_("申请说明（选填）")
    )
    version = _version_field()


class PolicyDeliveryApproveSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=service.NOTE_MAX, required=False, allow_blank=True, help_text=_("审核意见（选填）")
    )
    version = _version_field()


class PolicyDeliveryRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=service.NOTE_MAX, help_text=_("未通过原因（企业可见）"))
    version = _version_field()


class PolicyDeliveryDisburseSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=_("兑现金额（万元）：不能为负数，不能超过该事项的最高金额"),
    )
    disbursed_on = serializers.DateField(help_text=_("兑现日期：不能晚于今天，不能早于审核通过日期"))
    note = serializers.CharField(max_length=service.NOTE_MAX, required=False, allow_blank=True)
    version = _version_field()


class PolicyDeliveryTotalsRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="key", allow_null=True, help_text=_("政策或园区 id；合计行为 null"))
    name = serializers.CharField(source="label", help_text=_("政策名称或园区名称；合计行为“合计”"))
    pushed = serializers.IntegerField(source="counts.pushed")
    applied = serializers.IntegerField(source="counts.applied")
    approved = serializers.IntegerField(source="counts.approved")
    disbursed = serializers.IntegerField(source="counts.disbursed")
    rejected = serializers.IntegerField(source="counts.rejected")
    total = serializers.IntegerField()
    disbursed_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("已兑现金额合计（万元）")
    )
    overdue = serializers.IntegerField(help_text=_("逾期未兑现数"))


class PolicyDeliveryTotalsSerializer(serializers.Serializer):
    on = serializers.DateField(help_text=_("逾期按该日计"))
    by_policy = PolicyDeliveryTotalsRowSerializer(many=True)
    by_zone = PolicyDeliveryTotalsRowSerializer(many=True)
    overall = PolicyDeliveryTotalsRowSerializer()


# --- filters and permissions --------------------------------------------------------------------------


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=DeliveryStatus.choices)
    policy = IdFilter(label=_("政策 id"), field_name="item__policy_id")
    item = IdFilter(label=_("兑现事项 id"), field_name="item_id")
    zone = IdFilter(label=_("园区 id"), field_name="zone_id")
    enterprise = IdFilter(label=_("企业 id"), field_name="enterprise_id")
    overdue = StrictBooleanFilter(label=_("逾期未兑现"), method="filter_overdue")

    class Meta:
        model = Delivery
        fields: list[str] = []

    def filter_overdue(
        self, queryset: QuerySet[Delivery], name: str, value: bool | None
    ) -> QuerySet[Delivery]:
        if value is None:
            return queryset
        return service.filter_deliveries(queryset, overdue=value)


class DeliveryRoles(BasePermission):
    """Readers read; each write is for the roles that may ever take it (WRITERS)."""

    message = _("您的角色无权执行此操作")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or user.is_admin_account:
            return False
        if request.method in SAFE_METHODS:
            return user.has_any_role(READERS)
        return user.has_any_role(WRITERS.get(getattr(view, "action", "") or "", frozenset()))


# --- the viewset --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List policy deliveries",
        description=(
            "Deliveries the caller may see: the policy's keepers (its department), the enterprise's steward "
            "and users, the zone's leaders, supervisors and dispatchers. Filters: status, policy, item, zone, "
            "enterprise, overdue (approved and past disburse_due)."
        ),
    ),
    retrieve=extend_schema(
        summary="A policy delivery with its history",
        responses={200: PolicyDeliverySerializer, 404: MISSING},
    ),
    create=extend_schema(
        summary="Push a benefit item to an enterprise",
        description=(
            "The enterprise's steward (channel steward) or a keeper of the policy (channel portal) pushes an "
            "item of a policy in force to an enterprise that qualifies for it; one delivery per item and "
            "enterprise. A 免申即享 item starts in applied. The enterprise's users are notified."
        ),
        request=PolicyDeliveryPushSerializer,
        responses={201: PolicyDeliverySerializer, 400: INVALID, 403: FORBIDDEN},
    ),
)
class DeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Policy deliveries the caller may see, and their steps."""

    queryset = Delivery.objects.none()
    serializer_class = PolicyDeliverySerializer
    filterset_class = DeliveryFilter
    permission_classes = [IsAuthenticated, DeliveryRoles]
    http_method_names = ["get", "post", "head", "options"]
    step_serializers: dict[str, type[serializers.Serializer]] = {
        "create": PolicyDeliveryPushSerializer,
        "apply": PolicyDeliveryApplySerializer,
        "approve": PolicyDeliveryApproveSerializer,
        "reject": PolicyDeliveryRejectSerializer,
        "disburse": PolicyDeliveryDisburseSerializer,
    }

    def get_queryset(self) -> QuerySet[Delivery]:
        return (
            service.with_on_behalf(Delivery.objects.visible_to(_actor(self.request)))
            .select_related("item__policy", "enterprise")
            .prefetch_related("events__by")
            .order_by("-pushed_at", "-pk")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.step_serializers.get(self.action or "", PolicyDeliverySerializer)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": today()}

    def _validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _show(self, delivery: Delivery, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=delivery.pk)
        return Response(
            PolicyDeliverySerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated()
        delivery = service.push(data["item"], data["enterprise"], by=_actor(request))
        return self._show(delivery, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Apply for (or confirm) a pushed benefit",
        description=(
            "An enterprise user of the delivery's enterprise, or its steward on its behalf (marked), moves a "
            "pushed delivery to applied."
        ),
        request=PolicyDeliveryApplySerializer,
        responses={200: PolicyDeliverySerializer, 400: INVALID, 403: FORBIDDEN, 404: MISSING, 409: STALE},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def apply(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        data = self._validated()
        service.apply(delivery, by=_actor(request), note=data.get("note", ""), version=data["version"])
        return self._show(delivery)

    @extend_schema(
        summary="Approve an application",
        description=(
            "A keeper of the policy approves an applied delivery; disburse_due becomes the approval day plus "
            "the item's disburse_within_days working days."
        ),
        request=PolicyDeliveryApproveSerializer,
        responses={200: PolicyDeliverySerializer, 400: INVALID, 403: FORBIDDEN, 404: MISSING, 409: STALE},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        data = self._validated()
        service.approve(delivery, by=_actor(request), note=data.get("note", ""), version=data["version"])
        return self._show(delivery)

    @extend_schema(
        summary="Reject an application or an approved delivery",
        description="A keeper of the policy rejects an applied or approved delivery; the reason is required.",
        request=PolicyDeliveryRejectSerializer,
        responses={200: PolicyDeliverySerializer, 400: INVALID, 403: FORBIDDEN, 404: MISSING, 409: STALE},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reject(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        data = self._validated()
        service.reject(delivery, by=_actor(request), reason=data["reason"], version=data["version"])
        return self._show(delivery)

    @extend_schema(
        summary="Record the disbursement (兑现)",
        description=(
            "A keeper of the policy records the amount paid (万元, not negative, at most the item's "
            "max_amount) and the day (not in the future, not before the approval) of an approved delivery."
        ),
        request=PolicyDeliveryDisburseSerializer,
        responses={200: PolicyDeliverySerializer, 400: INVALID, 403: FORBIDDEN, 404: MISSING, 409: STALE},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def disburse(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        data = self._validated()
        service.disburse(
            delivery,
            by=_actor(request),
            amount=data["amount"],
            disbursed_on=data["disbursed_on"],
            note=data.get("note", ""),
            version=data["version"],
        )
        return self._show(delivery)

    @extend_schema(
        summary="Delivery totals per policy and per zone",
        description=(
            "Of the deliveries the caller may see: counts by status, the amount disbursed, and the overdue "
            "disbursements (approved, past disburse_due), per policy, per zone and overall."
        ),
        responses={200: PolicyDeliveryTotalsSerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def totals(self, request: Request) -> Response:
        totals = service.totals(Delivery.objects.visible_to(_actor(request)))
        return Response(PolicyDeliveryTotalsSerializer(totals).data)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("policy-deliveries", DeliveryViewSet, basename="policy-delivery")
