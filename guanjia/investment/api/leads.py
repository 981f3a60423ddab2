"""REST API of leads (招商线索): reads are scoped (Lead.objects.visible_to), writes go through the services
in guanjia/investment/leads.py; a lead out of the caller's scope is a 404, a leader's write a 403."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.models import User
from guanjia.investment import leads as services
from guanjia.investment.api.common import (
    InvestmentViewSet,
    KeepersWrite,
    ReadsInvestment,
    Refusals,
    VisibleNodeField,
    VisibleTargetField,
    actor,
    caller,
    version_field,
)
from guanjia.investment.forms.leads import LeadFilter
from guanjia.investment.models import (
    INVESTMENT_KEEPERS,
    Lead,
    LeadContact,
    LeadLog,
    LeadSource,
    LeadStatus,
    LeadTransition,
)

ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有本园区的招商专员可以修改线索）"),
    missing=_("线索不存在或不在您的范围内"),
    stale=_("线索已被他人修改：请重新读取后再提交"),
)


class LeadKeepersWrite(KeepersWrite):
    message = _("只有本园区的招商专员可以修改招商线索")


# --- fields: objects named in a body are looked up in the caller's scope ------------------------------


class TargetField(VisibleTargetField):
    default_error_messages = {"does_not_exist": _("目标企业 {pk_value} 不存在或不在您的范围内")}


class NodeField(VisibleNodeField):
    default_error_messages = {"does_not_exist": _("链环节 {pk_value} 不存在或不在您的范围内")}


@extend_schema_field(OpenApiTypes.INT)
class PromoterField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("招商专员 {pk_value} 不存在")}

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(role_grants__role__in=INVESTMENT_KEEPERS, is_active=True).distinct()


class LeadStatusField(serializers.ChoiceField):
    """A lead's state (LeadStatusEnum in the schema: see ENUM_NAME_OVERRIDES)."""


class LogModeField(serializers.ChoiceField):
    """How a contact happened (LeadLogModeEnum in the schema: see ENUM_NAME_OVERRIDES)."""


# --- shapes -----------------------------------------------------------------------------------------


class LeadContactSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(
        help_text=_("本园区招商专员看到完整号码，其他角色（如领导）看到脱敏号码")
    )
    # Not an "email" format: most contacts have none, and "" is no address.
    email = serializers.CharField(read_only=True, help_text=_("邮箱；未填写时为空字符串"))

    class Meta:
        model = LeadContact
        fields = ["id", "name", "position", "phone", "email"]
        read_only_fields = fields

    def get_phone(self, contact: LeadContact) -> str:
        lead = self.context.get("lead") or contact.lead
        return services.contact_phone_for(caller(self.context), lead, contact.phone)


class LeadLogSerializer(serializers.ModelSerializer):
    mode = LogModeField(choices=LeadLog.Mode.choices, read_only=True)
    by_name = serializers.CharField(source="by.__str__", read_only=True)

    class Meta:
        model = LeadLog
        fields = ["id", "happened_on", "mode", "summary", "by", "by_name", "created_at"]
        read_only_fields = fields


class LeadTransitionSerializer(serializers.ModelSerializer):
    from_status = LeadStatusField(choices=LeadStatus.choices, read_only=True)
    to_status = LeadStatusField(choices=LeadStatus.choices, read_only=True)
    by_name = serializers.CharField(source="by.__str__", read_only=True)

    class Meta:
        model = LeadTransition
        fields = ["id", "from_status", "to_status", "at", "by", "by_name", "note"]
        read_only_fields = fields


class LeadSerializer(serializers.ModelSerializer):
    status = LeadStatusField(choices=LeadStatus.choices, read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    node = serializers.IntegerField(source="node_id", read_only=True, allow_null=True)
    node_name = serializers.SerializerMethodField()
    chain = serializers.SerializerMethodField(help_text=_("链环节所在产业链的 id；未指定环节时为 null"))
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    project = serializers.SerializerMethodField(help_text=_("由本线索创建的项目 id；尚未转为项目时为 null"))
    allowed_moves = serializers.SerializerMethodField(help_text=_("当前状态可改为的状态（move 接口的 to）"))
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "zone",
            "target",
            "target_name",
            "node",
            "node_name",
            "chain",
            "source",
            "source_detail",
            "owner",
            "owner_name",
            "status",
            "abandon_reason",
            "summary",
            "created_by",
            "created_at",
            "status_changed_at",
            "project",
            "allowed_moves",
            "version",
        ]
        read_only_fields = fields

    def get_node_name(self, lead: Lead) -> str:
        return lead.node.name if lead.node_id and lead.node else ""

    def get_chain(self, lead: Lead) -> int | None:
        return lead.node.chain_id if lead.node_id and lead.node else None

    def get_project(self, lead: Lead) -> int | None:
        project = services.project_of(lead)
        return project.pk if project is not None else None

    @extend_schema_field(serializers.ListField(child=LeadStatusField(choices=LeadStatus.choices)))
    def get_allowed_moves(self, lead: Lead) -> list[str]:
        return list(services.allowed_moves(lead))


class LeadDetailSerializer(LeadSerializer):
    contacts = serializers.SerializerMethodField()
    logs = serializers.SerializerMethodField(help_text=_("接洽记录，最新的在前"))
    transitions = serializers.SerializerMethodField(help_text=_("状态变更，按时间先后"))

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "contacts", "logs", "transitions"]
        read_only_fields = fields

    @extend_schema_field(LeadContactSerializer(many=True))
    def get_contacts(self, lead: Lead) -> Any:
        return LeadContactSerializer(
            lead.contacts.all(), many=True, context={**self.context, "lead": lead}
        ).data

    @extend_schema_field(LeadLogSerializer(many=True))
    def get_logs(self, lead: Lead) -> Any:
        logs = lead.logs.select_related("by").order_by("-happened_on", "-pk")
        return LeadLogSerializer(logs, many=True, context=self.context).data

    @extend_schema_field(LeadTransitionSerializer(many=True))
    def get_transitions(self, lead: Lead) -> Any:
        moves = lead.transitions.select_related("by").order_by("at", "pk")
        return LeadTransitionSerializer(moves, many=True, context=self.context).data


class LeadContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(label=_("联系人"), max_length=services.NAME_MAX)
    position = serializers.CharField(
        label=_("职务"), max_length=services.POSITION_MAX, required=False, allow_blank=True, default=""
    )
    phone = serializers.CharField(
        label=_("联系电话"), max_length=services.PHONE_MAX, required=False, allow_blank=True, default=""
    )
    email = serializers.EmailField(label=_("邮箱"), required=False, allow_blank=True, default="")


class LeadCreateSerializer(serializers.Serializer):
    target = TargetField(label=_("目标企业"), help_text=_("本园区目标企业库中的企业 id"))
    node = NodeField(
        label=_("链环节"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("本园区产业链上的环节 id；省略时，若目标企业只覆盖一个环节即取该环节"),
    )
    source = serializers.ChoiceField(label=_("线索来源"), choices=LeadSource.choices)  # type: ignore[assignment]
    source_detail = serializers.CharField(
        label=_("来源说明"),
        max_length=services.SOURCE_DETAIL_MAX,
        required=False,
        allow_blank=True,
        default="",
    )
    owner = PromoterField(
        label=_("负责人"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("本园区招商专员的用户 id；省略为调用者"),
    )
    summary = serializers.CharField(label=_("线索说明"), required=False, allow_blank=True, default="")
    contacts = LeadContactInputSerializer(
        many=True, required=False, default=list, help_text=_("目标企业的联系人")
    )

    def validate_contacts(self, value: list[Any]) -> list[Any]:
        if len(value) > 20:
            raise serializers.ValidationError(_("一次最多添加 20 位联系人"))
        return value


class LeadUpdateSerializer(serializers.Serializer):
    target = TargetField(label=_("目标企业"), required=False)
    node = NodeField(label=_("链环节"), required=False, allow_null=True, help_text=_("null 为不指定"))
    source = serializers.ChoiceField(  # type: ignore[assignment]
        label=_("线索来源"), choices=LeadSource.choices, required=False
    )
    source_detail = serializers.CharField(
        label=_("来源说明"), max_length=services.SOURCE_DETAIL_MAX, required=False, allow_blank=True
    )
    summary = serializers.CharField(label=_("线索说明"), required=False, allow_blank=True)
    version = version_field(label=_("版本"))


class LeadMoveSerializer(serializers.Serializer):
    to = LeadStatusField(
        label=_("改为"),
        choices=LeadStatus.choices,
        help_text=_(
            "可改：新线索→接触中，接触中→洽谈中，新线索/接触中/洽谈中→放弃（须填原因），放弃→接触中（重新激活）；"
            "转为项目只能通过创建项目"
        ),
    )
    reason = serializers.CharField(
        label=_("原因"),
        max_length=services.REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("放弃时必填，其他时选填"),
    )
    version = version_field(label=_("版本"))


class LeadReassignSerializer(serializers.Serializer):
    owner = PromoterField(label=_("改由"), help_text=_("本园区另一位招商专员的用户 id"))
    version = version_field(label=_("版本"))


class LeadLogInputSerializer(serializers.Serializer):
    happened_on = serializers.DateField(label=_("日期"), help_text=_("不能晚于今天（北京时间）"))
    mode = LogModeField(label=_("方式"), choices=LeadLog.Mode.choices)
    summary = serializers.CharField(label=_("内容"))


# --- the viewset ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("招商线索列表"),
        description=_(
            "调用者范围内的线索（本园区招商专员和领导），最新录入的在前；可按状态、来源、产业链、环节、负责人筛选和搜索。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("招商线索详情"),
        description=_(
            "含联系人、接洽记录和状态变更。联系人电话：本园区招商专员看到完整号码，领导看到脱敏号码。"
        ),
        responses=ERRORS.responses(200, LeadDetailSerializer, 404),
    ),
    create=extend_schema(
        summary=_("新建招商线索"),
        description=_("本园区招商专员录入；目标企业和链环节须属于本园区，负责人须是本园区的招商专员。"),
        request=LeadCreateSerializer,
        responses=ERRORS.responses(201, LeadDetailSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改招商线索"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。已转为项目的线索不能修改。"
        ),
        request=LeadUpdateSerializer,
        responses=ERRORS.responses(200, LeadDetailSerializer, 400, 403, 404, 409),
    ),
)
class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InvestmentViewSet
):
    """Leads of the caller's zones; the zone's promoters record and move them, its leaders read them."""

    queryset = Lead.objects.none()
    serializer_class = LeadSerializer
    serializer_classes = {
        "retrieve": LeadDetailSerializer,
        "create": LeadCreateSerializer,
        "partial_update": LeadUpdateSerializer,
    }
    detail_serializer_class = LeadDetailSerializer
    filterset_class = LeadFilter
    permission_classes = [IsAuthenticated, ReadsInvestment, LeadKeepersWrite]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Lead]:
        return (
            Lead.objects.visible_to(self.caller())
            .select_related("target", "node", "owner", "project")
            .order_by("-created_at", "-pk")
        )

    def shown(self) -> QuerySet[Lead]:
        return self.get_queryset().select_related("node__chain")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        lead = services.create_lead(
            target=data["target"],
            node=data.get("node"),
            source=data["source"],
            source_detail=data.get("source_detail", ""),
            owner=data.get("owner"),
            summary=data.get("summary", ""),
            contacts=data.get("contacts") or [],
            by=actor(request),
        )
        return self.show(lead, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        services.update_lead(lead, by=actor(request), **self.validated())
        return self.show(lead)

    @extend_schema(
        summary=_("改变线索状态"),
        description=_(
            "按状态表改变线索状态：新线索→接触中，接触中→洽谈中，新线索/接触中/洽谈中→放弃（reason 必填），"
            "放弃→接触中（重新激活）。其他改变返回 400，说明当前状态和要改的状态；转为项目只能通过创建项目。"
        ),
        request=LeadMoveSerializer,
        responses=ERRORS.responses(200, LeadDetailSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def move(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        data = self.validated(LeadMoveSerializer)
        services.move_lead(
            lead, to=data["to"], reason=data["reason"], version=data["version"], by=actor(request)
        )
        return self.show(lead)

    @extend_schema(
        summary=_("改派线索负责人"),
        description=_("把线索交给本园区另一位招商专员；已转为项目的线索不能改派。"),
        request=LeadReassignSerializer,
        responses=ERRORS.responses(200, LeadDetailSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        data = self.validated(LeadReassignSerializer)
        services.reassign_owner(lead, owner=data["owner"], version=data["version"], by=actor(request))
        return self.show(lead)

    @extend_schema(
        summary=_("添加线索联系人"),
        request=LeadContactInputSerializer,
        responses=ERRORS.responses(201, LeadContactSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def contacts(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        contact = services.add_contact(lead, by=actor(request), **self.validated(LeadContactInputSerializer))
        body = LeadContactSerializer(contact, context={**self.get_serializer_context(), "lead": lead}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("删除线索联系人"),
        responses=ERRORS.responses(204, None, 400, 403, 404, 409),
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"contacts/(?P<contact_id>[0-9]+)",
        url_name="contact",
        filter_backends=[],
        pagination_class=None,
    )
    def remove_contact(
        self, request: Request, pk: str | None = None, contact_id: str | None = None
    ) -> Response:
        lead = self.get_object()
        try:
            contact = lead.contacts.select_related("lead").get(pk=int(contact_id or 0))
        except LeadContact.DoesNotExist as exc:
            raise exceptions.NotFound(_("联系人不存在")) from exc
        services.remove_contact(contact, by=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("添加接洽记录"),
        description=_("日期不能晚于今天；内容必填。"),
        request=LeadLogInputSerializer,
        responses=ERRORS.responses(201, LeadLogSerializer, 400, 403, 404),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def logs(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        log = services.add_log(lead, by=actor(request), **self.validated(LeadLogInputSerializer))
        return Response(
            LeadLogSerializer(log, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
    router.register("investment/leads", LeadViewSet, basename="investment-lead")
