"""REST API of the policy library: policies (/api/policies/) and their benefit items (/api/benefit-items/).

Reads are scoped (Policy.objects.visible_to: out of the caller's coverage is a 404); writes go through
the services in guanjia/policies/library.py. A role that never keeps a policy gets 403 on every write;
a keeper of another department gets 403 (the service's NotAllowed) on a policy it sees. A refused
field answers 400 with {field: [message]}, a stale version 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api import DEFAULT_ERRORS, ErrorSerializer
from guanjia.core.api_common import field_errors
from guanjia.core.models import User
from guanjia.enterprises.industries import DIVISION_CHOICES
from guanjia.policies import library as services
from guanjia.policies.access import keeps_some_policy, may_read
from guanjia.policies.forms.library import BenefitItemFilter, PolicyFilter
from guanjia.policies.models import BenefitCategory, BenefitItem, Policy, PolicyAttachment

INVALID = DEFAULT_ERRORS["400"]
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description=_("无权执行此操作（只有该政策承办部门的工作人员可以维护政策）")
)
POLICY_MISSING = OpenApiResponse(ErrorSerializer, description=_("政策不存在或不在您的范围内"))
ITEM_MISSING = OpenApiResponse(ErrorSerializer, description=_("兑现事项不存在或不在您的范围内"))
STALE = OpenApiResponse(ErrorSerializer, description=_("已被他人修改：请重新读取后再提交"))


ID_MAX = VERSION_MAX = 2**31 - 1  # the columns' range
SCALES_HELP = _("企业规模代码：large 大型、medium 中型、small 小型、micro 微型；空为不限")
TIERS_HELP = _("企业分级代码：key 重点、above_scale 规上、general 一般；空为不限")


def _user(request: Request | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


class ReadsPolicies(BasePermission):
    """Every business account the policy library reaches (access.may_read)."""

    message = _("您的账号无权查看政策库")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _user(request)
        return user is not None and may_read(user)


class KeepersWrite(BasePermission):
    """Reads for every reader; writes only for the handlers and heads of departments (refused before
    the body is read); which policies they keep the services decide."""

    message = _("只有部门承办人或部门负责人可以维护政策")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _user(request)
        return request.method in SAFE_METHODS or (user is not None and keeps_some_policy(user))


# --- shapes -----------------------------------------------------------------------------------------


class ItemConditionSerializer(serializers.Serializer):
    condition = serializers.CharField(help_text=_("条件名称，如“企业规模”"))
    text = serializers.CharField(help_text=_("条件内容，如“中型、小型”"))


class BenefitItemSerializer(serializers.ModelSerializer):
    policy_title = serializers.CharField(source="policy.title", read_only=True)
    category = serializers.ChoiceField(choices=BenefitCategory.choices, read_only=True)
    zones = serializers.SerializerMethodField(help_text=_("适用园区 id；空为本政策覆盖的全部园区"))
    divisions = serializers.SerializerMethodField(help_text=_("行业大类代码（两位）；空为不限"))
    scales = serializers.SerializerMethodField(help_text=SCALES_HELP)
    tiers = serializers.SerializerMethodField(help_text=TIERS_HELP)
    tags = serializers.SerializerMethodField(help_text=_("企业标签 id，具有其一即可；空为不限"))
    conditions = serializers.SerializerMethodField(help_text=_("申报条件的文字说明，每项一条"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = BenefitItem
        fields = [
            "id",
            "policy",
            "policy_title",
            *services.ITEM_FIELDS,
            "conditions",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_zones(self, item: BenefitItem) -> list[int]:
        return sorted(zone.pk for zone in item.zones.all())

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_divisions(self, item: BenefitItem) -> list[str]:
        return item.division_list

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_scales(self, item: BenefitItem) -> list[str]:
        return item.scale_list

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tiers(self, item: BenefitItem) -> list[str]:
        return item.tier_list

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_tags(self, item: BenefitItem) -> list[int]:
        return sorted(tag.pk for tag in item.tags.all())

    @extend_schema_field(ItemConditionSerializer(many=True))
    def get_conditions(self, item: BenefitItem) -> list[dict[str, str]]:
        return [{"condition": label, "text": text} for label, text in services.describe(item)]


class PolicyAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class PolicySerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    state = serializers.SerializerMethodField(
        help_text=_("今天的状态：current 现行有效，upcoming 尚未生效，expired 已失效")
    )
    item_count = serializers.IntegerField(read_only=True, help_text=_("兑现事项数"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "title",
            "issuer",
            "document_number",
            "department",
            "department_name",
            "effective_on",
            "expires_on",
            "state",
            "item_count",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def get_state(self, policy: Policy) -> str:
        return services.state_of(policy)[0]


class PolicyDetailSerializer(PolicySerializer):
    items = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta(PolicySerializer.Meta):
        fields = [*PolicySerializer.Meta.fields, "full_text", "items", "attachments"]
        read_only_fields = fields

    @extend_schema_field(BenefitItemSerializer(many=True))
    def get_items(self, policy: Policy) -> Any:
        items = policy.items.select_related("policy").prefetch_related("zones", "tags").order_by("pk")
        return BenefitItemSerializer(items, many=True, context=self.context).data

    @extend_schema_field(PolicyAttachmentSerializer(many=True))
    def get_attachments(self, policy: Policy) -> Any:
        return PolicyAttachmentSerializer(services.attachments_of(policy), many=True).data


class PolicyCreateSerializer(serializers.Serializer):
    title = serializers.CharField(label=_("政策名称"), max_length=services.TITLE_MAX)
    issuer = serializers.CharField(label=_("发文机关"), max_length=services.ISSUER_MAX)
    document_number = serializers.CharField(
        label=_("文号"), max_length=services.NUMBER_MAX, required=False, allow_blank=True, default=""
    )
    effective_on = serializers.DateField(label=_("生效日期"))
    expires_on = serializers.DateField(
        label=_("失效日期"), required=False, allow_null=True, default=None, help_text=_("长期有效为 null")
    )
    full_text = serializers.CharField(label=_("政策原文"), required=False, allow_blank=True, default="")


class PolicyUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(label=_("政策名称"), max_length=services.TITLE_MAX, required=False)
    issuer = serializers.CharField(label=_("发文机关"), max_length=services.ISSUER_MAX, required=False)
    document_number = serializers.CharField(
        label=_("文号"), max_length=services.NUMBER_MAX, required=False, allow_blank=True
    )
    effective_on = serializers.DateField(label=_("生效日期"), required=False)
    expires_on = serializers.DateField(label=_("失效日期"), required=False, allow_null=True)
    full_text = serializers.CharField(label=_("政策原文"), required=False, allow_blank=True)
    version = serializers.IntegerField(
        label=_("版本"),
        min_value=1,
        max_value=VERSION_MAX,
        help_text=_("读取时的 version；已被他人修改时返回 409"),
    )


def _money(label: Any, **options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        label=label, max_digits=14, decimal_places=2, min_value=0, allow_null=True, **options
    )


class BenefitItemFields(serializers.Serializer):
    """The fields of an item as a client writes them (every one optional: an edit sends what changes)."""

    name = serializers.CharField(label=_("兑现事项"), max_length=services.ITEM_NAME_MAX, required=False)
    category = serializers.ChoiceField(label=_("类别"), choices=BenefitCategory.choices, required=False)
    summary = serializers.CharField(label=_("支持内容"), required=False, allow_blank=True)
    max_amount = _money(_("最高金额（万元）"), required=False, help_text=_("null 为不设上限"))
    auto_grant = serializers.BooleanField(label=_("免申即享"), required=False)
    disburse_within_days = serializers.IntegerField(
        label=_("兑现时限（工作日）"), min_value=1, max_value=services.DAYS_MAX, required=False
    )
    zones = serializers.ListField(
        label=_("适用园区"),
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=200,
        help_text=_("政策覆盖范围内的园区 id；空为全部"),
    )
    divisions = serializers.ListField(
        label=_("行业大类"),
        child=serializers.ChoiceField(choices=DIVISION_CHOICES),
        required=False,
        max_length=len(DIVISION_CHOICES),
        help_text=_("行业大类代码（两位，如 39）；空为不限"),
    )
    # Plain codes, checked by the service (400 naming the field): the choice sets are the enterprises'
    # ScaleEnum and TierEnum, which a second enum of the same values would duplicate in the schema.
    scales = serializers.ListField(
        label=_("企业规模"),
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=10,
        help_text=SCALES_HELP,
    )
    tiers = serializers.ListField(
        label=_("企业分级"),
        child=serializers.CharField(max_length=20),
        required=False,
        max_length=10,
        help_text=TIERS_HELP,
    )
    tags = serializers.ListField(
        label=_("企业标签（任一）"),
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=200,
        help_text=_("企业标签 id；空为不限"),
    )
    min_years = serializers.IntegerField(
        label=_("成立满（年）"), min_value=0, max_value=services.YEARS_MAX, required=False, allow_null=True
    )
    max_years = serializers.IntegerField(
        label=_("成立不满（年）"),
        min_value=1,
        max_value=services.YEARS_MAX,
        required=False,
        allow_null=True,
        help_text=_("须大于成立满（年）"),
    )
    capital_min = _money(_("注册资本下限（万元）"), required=False, help_text=_("含本数"))
    capital_max = _money(_("注册资本上限（万元）"), required=False, help_text=_("含本数，不能低于下限"))
    other_conditions = serializers.CharField(
        label=_("其他条件（人工判断）"), max_length=services.OTHER_MAX, required=False, allow_blank=True
    )


@extend_schema_field(OpenApiTypes.INT)
class PolicyField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("政策 {pk_value} 不存在或不在您的范围内")}

    def get_queryset(self) -> QuerySet[Policy]:
        return Policy.objects.visible_to(_user(self.context.get("request")))


class BenefitItemCreateSerializer(BenefitItemFields):
    policy = PolicyField(label=_("政策"), help_text=_("本部门的政策 id"))
    name = serializers.CharField(label=_("兑现事项"), max_length=services.ITEM_NAME_MAX)


class BenefitItemUpdateSerializer(BenefitItemFields):
    version = serializers.IntegerField(
        label=_("版本"),
        min_value=1,
        max_value=VERSION_MAX,
        help_text=_("读取时的 version；已被他人修改时返回 409"),
    )


# --- the viewsets -----------------------------------------------------------------------------------


class LibraryViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ReadsPolicies, KeepersWrite]
    serializer_classes: dict[str, type[serializers.BaseSerializer]] = {}
    detail_serializer_class: type[serializers.BaseSerializer] | None = None
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def caller(self) -> User:
        user = _user(self.request)
        assert user is not None  # IsAuthenticated
        return user

    def validated(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.serializer_class
        assert serializer_class is not None
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary="List policies",
        description=(
            "Policies whose coverage reaches the caller, newest effective date first; by default only those "
            "not expired (state=current). Search in title and document number, filter by department."
        ),
    ),
    retrieve=extend_schema(
        summary="Retrieve a policy",
        description="The policy with its full text, benefit items (conditions as lists) and attachments.",
        responses={200: PolicyDetailSerializer, 404: POLICY_MISSING},
    ),
    create=extend_schema(
        summary="Create a policy",
        description="A handler or head of a department creates a policy of its own department.",
        request=PolicyCreateSerializer,
        responses={201: PolicyDetailSerializer, 400: INVALID, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Update a policy",
        description="Send the fields that change and the version read; 409 when someone changed it meanwhile.",
        request=PolicyUpdateSerializer,
        responses={
            200: PolicyDetailSerializer,
            400: INVALID,
            403: FORBIDDEN,
            404: POLICY_MISSING,
            409: STALE,
        },
    ),
)
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, LibraryViewSet):
    """The policy library as the caller's coverage reaches it; the keepers write their department's."""

    queryset = Policy.objects.none()
    serializer_class = PolicySerializer
    serializer_classes = {
        "retrieve": PolicyDetailSerializer,
        "create": PolicyCreateSerializer,
        "partial_update": PolicyUpdateSerializer,
    }
    detail_serializer_class = PolicyDetailSerializer
    filterset_class = PolicyFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Policy]:
        return (
            Policy.objects.visible_to(_user(self.request))
            .select_related("department")
            .annotate(item_count=Count("items"))
            .order_by("-effective_on", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        policy = field_errors(lambda: services.create_policy(by=self.caller(), **data))
        return self.show(policy, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        data = self.validated()
        field_errors(lambda: services.update_policy(policy, by=self.caller(), **data))
        return self.show(policy)


@extend_schema_view(
    list=extend_schema(
        summary="List benefit items",
        description="Benefit items of the policies the caller reads; filter by policy.",
    ),
    retrieve=extend_schema(
        summary="Retrieve a benefit item",
        responses={200: BenefitItemSerializer, 404: ITEM_MISSING},
    ),
    create=extend_schema(
        summary="Create a benefit item",
        description=(
            "Add a benefit item with its eligibility to a policy of the caller's department. Conditions are "
            "lists (divisions, scales, tiers: codes; zones, tags: ids); an empty list does not restrict."
        ),
        request=BenefitItemCreateSerializer,
        responses={201: BenefitItemSerializer, 400: INVALID, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Update a benefit item",
        description="Send the fields that change and the version read; 409 when someone changed it meanwhile.",
        request=BenefitItemUpdateSerializer,
        responses={200: BenefitItemSerializer, 400: INVALID, 403: FORBIDDEN, 404: ITEM_MISSING, 409: STALE},
    ),
    destroy=extend_schema(
        summary="Delete a benefit item",
        description="Refused (400) once an enterprise has a delivery of the item.",
        responses={
            204: OpenApiResponse(description="Deleted"),
            400: OpenApiResponse(ErrorSerializer, description=_("已有企业兑现记录，不能删除")),
            403: FORBIDDEN,
            404: ITEM_MISSING,
            409: STALE,
        },
    ),
)
class BenefitItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, LibraryViewSet
):
    """Benefit items of the policies the caller reads; the policy's keepers write them."""

    queryset = BenefitItem.objects.none()
    serializer_class = BenefitItemSerializer
    serializer_classes = {
        "create": BenefitItemCreateSerializer,
        "partial_update": BenefitItemUpdateSerializer,
    }
    detail_serializer_class = BenefitItemSerializer
    filterset_class = BenefitItemFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[BenefitItem]:
        return (
            BenefitItem.objects.filter(policy__in=Policy.objects.visible_to(_user(self.request)))
            .select_related("policy__department")
            .prefetch_related("zones", "tags")
            .order_by("policy_id", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        policy = data.pop("policy")
        item = field_errors(lambda: services.add_item(policy, by=self.caller(), **data))
        return self.show(item, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = self.validated()
        field_errors(lambda: services.update_item(item, by=self.caller(), **data))
        return self.show(item)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        services.remove_item(item, by=self.caller())
        return Response(status=status.HTTP_204_NO_CONTENT)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("policies", PolicyViewSet, basename="policy")
    router.register("benefit-items", BenefitItemViewSet, basename="benefit-item")
