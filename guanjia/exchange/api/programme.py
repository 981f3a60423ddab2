"""REST API of the exchange programme: pairings, secondments, learning notes, liaison activities and sourced
leads. Reads are scoped (each model's visible_to), writes go through guanjia/exchange/programme.py and
sourcing.py. Out of the caller's scope is a 404; a role that may never do the write is a 403, refused
before the body is read; an object named in a body that the caller may not use "does not exist" (400).

- /api/pairings/, /api/secondments/: the zone's supervisors write, its leaders read, a cadre reads its own.
- /api/learning-notes/, /api/liaison-activities/: the cadre of the secondment writes; the zone's
  supervisors and leaders read. An edit sends the `version` it read; a removal may (?version=).
- /api/sourced-leads/: the cadre submits and corrects; the zone's promoters take (into an investment lead
  with source 挂职干部) or decline; supervisors and leaders read (the contact's phone masked for leaders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import django_filters
from django.db import models
from django.db.models import Count, QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.core.api_common import (
    IdFilter,
    NamedEnumField,
    Refusals,
    ScopedField,
    actor,
    caller,
    user_or_none,
    version_field,
)
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.exchange import programme as services
from guanjia.exchange import sourcing
from guanjia.exchange.models import (
    LearningNote,
    LiaisonActivity,
    Pairing,
    Secondment,
    SecondmentKind,
    SourcedLead,
    SourcedLeadStatus,
)
from guanjia.investment.api.common import VisibleNodeField
from guanjia.investment.models import INVESTMENT_KEEPERS

PROGRAMME_READERS = (Role.SUPERVISOR, Role.LEADER, Role.SECONDED_CADRE)
SOURCED_READERS = (*PROGRAMME_READERS, Role.PROMOTER)
KEEPERS = (Role.SUPERVISOR,)
CADRES = (Role.SECONDED_CADRE,)
DECIDERS = (Role.PROMOTER,)

PAIRING_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有本园区的效能督查人员可以修改结对关系）"),
    missing=_("结对关系不存在或不在您的范围内"),
    stale=_("结对关系已被他人修改：请重新读取后再提交"),
)
SECONDMENT_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有本园区的效能督查人员可以安排和修改挂职）"),
    missing=_("挂职不存在或不在您的范围内"),
    stale=_("挂职已被他人修改：请重新读取后再提交"),
)
NOTE_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有挂职干部本人可以填写见闻）"),
    missing=_("见闻不存在或不在您的范围内"),
    stale=_("见闻已被修改：请重新读取后再提交"),
)
ACTIVITY_ERRORS = Refusals(
    forbidden=_("无权执行此操作（只有挂职干部本人可以填写对接活动）"),
    missing=_("对接活动不存在或不在您的范围内"),
    stale=_("对接活动已被修改：请重新读取后再提交"),
)
SOURCED_ERRORS = Refusals(
    forbidden=_("无权执行此操作（挂职干部本人推荐和修改线索；本园区招商专员接收或不予跟进）"),
    missing=_("推荐线索不存在或不在您的范围内"),
    stale=_("推荐线索已被他人修改或处理：请重新读取后再提交"),
)


# --- who may call what ----------------------------------------------------------------------------------


class ProgrammeRoles(BasePermission):
    """The view's `read_roles` read; `write_roles[action]` write. A write by another role is refused
    (403) before its body is read; which objects it may touch is then the services' and the scoped
    querysets' question."""

    message = _("您的角色无权执行此操作")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = user_or_none(request)
        if user is None or not user.is_active or user.is_admin_account:
            return False
        if request.method in SAFE_METHODS:
            return user.has_any_role(view.read_roles)
        allowed = user.has_any_role(view.write_roles.get(view.action or "", ()))
        if not allowed:
            self.message = view.write_refusal
        return allowed


class ProgrammeViewSet(viewsets.GenericViewSet):
    """A viewset of the programme: one serializer per action, and a write answers with the object as the
    scoped queryset reads it now."""

    permission_classes: Sequence[Any] = [IsAuthenticated, ProgrammeRoles]
    read_roles: Sequence[str] = PROGRAMME_READERS
    write_roles: Mapping[str, Sequence[str]] = {}
    write_refusal: Any = ProgrammeRoles.message
    serializer_classes: Mapping[str, type[serializers.BaseSerializer]] = {}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def caller(self) -> User | None:
        return user_or_none(self.request)

    def validated(self, serializer_class: type[serializers.BaseSerializer] | None = None) -> dict[str, Any]:
        """The request's body, validated by `serializer_class` (the action's when None): a 400 if invalid."""
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def show(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        assert self.serializer_class is not None
        return Response(self.serializer_class(fresh, context=self.get_serializer_context()).data, status=code)


# --- fields: objects named in a body, looked up where the caller may use them ---------------------------


class SecondmentKindField(NamedEnumField):
    enum_name = "SecondmentKindEnum"
    choice_set = SecondmentKind


class SourcedLeadStatusField(NamedEnumField):
    enum_name = "SourcedLeadStatusEnum"
    choice_set = SourcedLeadStatus


class LocalUnitField(ScopedField):
    default_error_messages = {"does_not_exist": _("本地单位 {pk_value} 不存在或不是您所在园区及其部门")}

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return services.local_units(services.keeper_zones(user).values_list("pk", flat=True))


class KeptPairingField(ScopedField):
    default_error_messages = {"does_not_exist": _("结对关系 {pk_value} 不存在或不在您的范围内")}

    def scoped(self, user: User) -> QuerySet[Pairing]:
        return Pairing.objects.filter(zone__in=services.keeper_zones(user))


class CadreField(ScopedField):
    default_error_messages = {"does_not_exist": _("挂职干部 {pk_value} 不存在或不是您所在园区的挂职干部")}

    def scoped(self, user: User) -> QuerySet[User]:
        return services.cadres_of_zones(services.keeper_zones(user).values_list("pk", flat=True))


class OwnSecondmentField(ScopedField):
    default_error_messages = {"does_not_exist": _("挂职 {pk_value} 不存在或不是您本人的挂职")}

    def scoped(self, user: User) -> QuerySet[Secondment]:
        return Secondment.objects.visible_to(user).filter(cadre=user).select_related("pairing")


class PromoterField(ScopedField):
    default_error_messages = {"does_not_exist": _("招商专员 {pk_value} 不存在")}

    def scoped(self, user: User) -> QuerySet[User]:
        return User.objects.filter(role_grants__role__in=INVESTMENT_KEEPERS, is_active=True).distinct()


class NodeField(VisibleNodeField):
    default_error_messages = {"does_not_exist": _("链环节 {pk_value} 不存在或不在您的范围内")}


def _optional_text(label: Any, max_length: int, **options: Any) -> serializers.CharField:
    return serializers.CharField(
        label=label, max_length=max_length, required=False, allow_blank=True, **options
    )


# A partial update: every field may be left out but the version read. (A comment, not a docstring: the
# schema would take it as the description of every update serializer built on it.)
class _AllOptionalBut(serializers.Serializer):
    kept_required = ("version",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in self.kept_required:
                field.required = False


# --- pairings ---------------------------------------------------------------------------------------


class PairingSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    local_unit_name = serializers.CharField(source="local_unit.name", read_only=True)
    secondment_count = serializers.IntegerField(read_only=True, help_text=_("调用者可见的挂职人数"))

    class Meta:
        model = Pairing
        fields = [
            "id",
            "zone",
            "zone_name",
            "local_unit",
            "local_unit_name",
            "partner_unit",
            "partner_city",
            "partner_province",
            "started_on",
            "ended_on",
            "focus",
            "secondment_count",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class _PairingFields(serializers.Serializer):
    local_unit = LocalUnitField(label=_("本地单位"), help_text=_("本园区或本园区一个部门的 id；园区由它而定"))
    partner_unit = serializers.CharField(label=_("结对单位"), max_length=services.PARTNER_UNIT_MAX)
    partner_city = serializers.CharField(label=_("所在城市"), max_length=services.PARTNER_CITY_MAX)
    partner_province = serializers.CharField(label=_("所在省份"), max_length=services.PARTNER_PROVINCE_MAX)
    started_on = serializers.DateField(label=_("结对日期"))
    ended_on = serializers.DateField(label=_("结束日期"), required=False, allow_null=True)
    focus = _optional_text(_("合作重点"), services.LONG_TEXT_MAX)


class PairingCreateSerializer(_PairingFields):
    pass


class PairingUpdateSerializer(_AllOptionalBut, _PairingFields):
    version = version_field()


@extend_schema_view(
    list=extend_schema(
        summary=_("结对关系列表"),
        description=_("调用者所在园区的结对关系（效能督查、领导）；挂职干部只看到本人挂职所在的结对。"),
    ),
    retrieve=extend_schema(
        summary=_("结对关系详情"), responses=PAIRING_ERRORS.responses(200, PairingSerializer, 404)
    ),
    create=extend_schema(
        summary=_("新建结对关系"),
        description=_(
            "本园区效能督查人员新建；本地单位为本园区或其部门，同一本地单位与结对单位只能结对一次。"
        ),
        request=PairingCreateSerializer,
        responses=PAIRING_ERRORS.responses(201, PairingSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改结对关系"),
        description=_("只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。所属园区不变。"),
        request=PairingUpdateSerializer,
        responses=PAIRING_ERRORS.responses(200, PairingSerializer, 400, 403, 404, 409),
    ),
)
class PairingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeViewSet
):
    """Pairings of the caller's zones (a cadre: those of its own secondments)."""

    queryset = Pairing.objects.none()
    serializer_class = PairingSerializer
    serializer_classes = {"create": PairingCreateSerializer, "partial_update": PairingUpdateSerializer}
    write_roles = {"create": KEEPERS, "partial_update": KEEPERS}
    write_refusal = _("只有本园区的效能督查人员可以修改结对关系")

    def get_queryset(self) -> QuerySet:
        user = self.caller()
        return (
            Pairing.objects.visible_to(user)
            .select_related("zone", "local_unit")
            .annotate(
                secondment_count=Count(
                    "secondments",
                    filter=models.Q(secondments__in=Secondment.objects.visible_to(user)),
                    distinct=True,
                )
            )
            .order_by("zone__code", "-started_on", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pairing = services.create_pairing(by=actor(request), **self.validated())
        return self.show(pairing, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pairing = self.get_object()
        services.update_pairing(pairing, by=actor(request), **self.validated())
        return self.show(pairing)


# --- secondments ------------------------------------------------------------------------------------


class SecondmentFilter(django_filters.FilterSet):
    pairing = IdFilter(field_name="pairing_id", label=_("结对关系 id"))
    cadre = IdFilter(field_name="cadre_id", label=_("挂职干部的用户 id"))

    class Meta:
        model = Secondment
        fields: list[str] = []


class SecondmentSerializer(serializers.ModelSerializer):
    kind = SecondmentKindField(read_only=True)
    cadre_name = serializers.CharField(source="cadre.__str__", read_only=True)
    partner_unit = serializers.CharField(source="pairing.partner_unit", read_only=True)
    note_count = serializers.IntegerField(read_only=True)
    activity_count = serializers.IntegerField(read_only=True)
    lead_count = serializers.IntegerField(read_only=True, help_text=_("推荐线索条数"))
    practice_count = serializers.IntegerField(read_only=True, help_text=_("来自本次挂职的经验做法条数"))

    class Meta:
        model = Secondment
        fields = [
            "id",
            "pairing",
            "partner_unit",
            "cadre",
            "cadre_name",
            "host_unit",
            "post",
            "kind",
            "starts_on",
            "ends_on",
            "tasks",
            "note_count",
            "activity_count",
            "lead_count",
            "practice_count",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class _SecondmentFields(serializers.Serializer):
    cadre = CadreField(label=_("挂职干部"), help_text=_("本园区持有挂职干部角色的在岗人员的用户 id"))
    host_unit = serializers.CharField(label=_("挂职单位"), max_length=services.HOST_UNIT_MAX)
    post = serializers.CharField(label=_("挂职岗位"), max_length=services.POST_MAX)
    kind = SecondmentKindField(label=_("类型"), required=False)
    starts_on = serializers.DateField(label=_("开始日期"))
    ends_on = serializers.DateField(label=_("结束日期"))
    tasks = _optional_text(_("任务"), services.LONG_TEXT_MAX)


class SecondmentCreateSerializer(_SecondmentFields):
    pairing = KeptPairingField(label=_("结对关系"), help_text=_("本园区结对关系的 id"))


class SecondmentUpdateSerializer(_AllOptionalBut, _SecondmentFields):
    version = version_field()


@extend_schema_view(
    list=extend_schema(
        summary=_("挂职列表"),
        description=_(
            "调用者所在园区的挂职（效能督查、领导），挂职干部只看到本人的；可按结对关系、挂职干部筛选。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("挂职详情"), responses=SECONDMENT_ERRORS.responses(200, SecondmentSerializer, 404)
    ),
    create=extend_schema(
        summary=_("安排挂职"),
        description=_(
            "本园区效能督查人员安排；挂职干部须为本园区持有挂职干部角色的在岗人员，期间不早于结对日期，"
            "且与该干部的其他挂职不重叠。"
        ),
        request=SecondmentCreateSerializer,
        responses=SECONDMENT_ERRORS.responses(201, SecondmentSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改挂职"),
        description=_(
            "只提交要改的字段，并带上读取时的 version；已被他人修改时返回 409。"
            "挂职干部已填写记录后不能更换挂职干部。"
        ),
        request=SecondmentUpdateSerializer,
        responses=SECONDMENT_ERRORS.responses(200, SecondmentSerializer, 400, 403, 404, 409),
    ),
)
class SecondmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeViewSet
):
    """Secondments of the caller's zones; a cadre sees its own."""

    queryset = Secondment.objects.none()
    serializer_class = SecondmentSerializer
    serializer_classes = {"create": SecondmentCreateSerializer, "partial_update": SecondmentUpdateSerializer}
    filterset_class = SecondmentFilter
    write_roles = {"create": KEEPERS, "partial_update": KEEPERS}
    write_refusal = _("只有本园区的效能督查人员可以安排和修改挂职")

    def get_queryset(self) -> QuerySet[Secondment]:
        scoped = Secondment.objects.visible_to(self.caller()).select_related("pairing", "cadre")
        return services.with_counts(scoped).order_by("-starts_on", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        secondment = services.create_secondment(by=actor(request), **data)
        return self.show(secondment, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        secondment = self.get_object()
        services.update_secondment(secondment, by=actor(request), **self.validated())
        return self.show(secondment)


# --- the cadre's notes and activities ---------------------------------------------------------------


class SecondmentRowFilter(django_filters.FilterSet):
    secondment = IdFilter(field_name="secondment_id", label=_("挂职 id"))


class NoteFilter(SecondmentRowFilter):
    class Meta:
        model = LearningNote
        fields: list[str] = []


class ActivityFilter(SecondmentRowFilter):
    class Meta:
        model = LiaisonActivity
        fields: list[str] = []


# A removal may send the version it read as ?version= (a stale one: 409); without it the row is removed.
ROW_VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description=_("读取时的 version；已被修改时返回 409"),
)


class LearningNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearningNote
        fields = ["id", "secondment", "title", "body", "observed_on", "created_at", "version"]
        read_only_fields = fields


class _NoteFields(serializers.Serializer):
    title = serializers.CharField(label=_("标题"), max_length=services.TITLE_MAX)
    body = serializers.CharField(label=_("内容"), max_length=services.LONG_TEXT_MAX)
    observed_on = serializers.DateField(label=_("日期"), help_text=_("挂职期间，不晚于今天（北京时间）"))


class LearningNoteCreateSerializer(_NoteFields):
    secondment = OwnSecondmentField(label=_("挂职"), help_text=_("调用者本人挂职的 id"))


class LearningNoteUpdateSerializer(_AllOptionalBut, _NoteFields):
    kept_required = ("version",)
    version = version_field()


class LiaisonActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = LiaisonActivity
        fields = [
            "id",
            "secondment",
            "title",
            "held_on",
            "place",
            "participants",
            "outcome",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class _ActivityFields(serializers.Serializer):
    title = serializers.CharField(label=_("活动名称"), max_length=services.TITLE_MAX)
    held_on = serializers.DateField(label=_("活动日期"), help_text=_("挂职期间，不晚于今天（北京时间）"))
    place = _optional_text(_("地点"), services.PLACE_MAX)
    participants = _optional_text(_("参加单位"), services.PARTICIPANTS_MAX)
    outcome = _optional_text(_("成效"), services.LONG_TEXT_MAX)


class LiaisonActivityCreateSerializer(_ActivityFields):
    secondment = OwnSecondmentField(label=_("挂职"), help_text=_("调用者本人挂职的 id"))


class LiaisonActivityUpdateSerializer(_AllOptionalBut, _ActivityFields):
    kept_required = ("version",)
    version = version_field()


def _version_asked(request: Request) -> int | None:
    """The ?version= a removal sent (None if none); what is no version is a 400 naming the field."""
    field = version_field(required=False)
    value = request.query_params.get("version")
    if value in (None, ""):
        return None
    try:
        return int(field.run_validation(value))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"version": exc.detail}) from exc


class _CadreRowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeViewSet,
):
    write_roles = {"create": CADRES, "partial_update": CADRES, "destroy": CADRES}

    def scoped(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.scoped().select_related("secondment__pairing", "secondment__cadre")


@extend_schema_view(
    list=extend_schema(
        summary=_("挂职见闻列表"),
        description=_("调用者可见的见闻：本园区挂职的（效能督查、领导），挂职干部本人挂职的；可按挂职筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("挂职见闻详情"), responses=NOTE_ERRORS.responses(200, LearningNoteSerializer, 404)
    ),
    create=extend_schema(
        summary=_("记录见闻"),
        description=_("挂职干部在本人挂职下记录；日期在挂职期间且不晚于今天。"),
        request=LearningNoteCreateSerializer,
        responses=NOTE_ERRORS.responses(201, LearningNoteSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改见闻"),
        description=_("只提交要改的字段，并带上读取时的 version；已被修改时返回 409。"),
        request=LearningNoteUpdateSerializer,
        responses=NOTE_ERRORS.responses(200, LearningNoteSerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("删除见闻"),
        description=_("可带上读取时的 version（查询参数）；已被修改时返回 409。"),
        parameters=[ROW_VERSION],
        responses=NOTE_ERRORS.responses(204, None, 400, 403, 404, 409),
    ),
)
class LearningNoteViewSet(_CadreRowViewSet):
    """Learning notes (见闻) the caller may read; the cadre of the secondment writes them."""

    queryset = LearningNote.objects.none()
    serializer_class = LearningNoteSerializer
    serializer_classes = {
        "create": LearningNoteCreateSerializer,
        "partial_update": LearningNoteUpdateSerializer,
    }
    filterset_class = NoteFilter
    write_refusal = _("只有挂职干部本人可以填写见闻")

    def scoped(self) -> QuerySet[LearningNote]:
        return LearningNote.objects.visible_to(self.caller()).order_by("-observed_on", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        note = services.add_note(data.pop("secondment"), by=actor(request), **data)
        return self.show(note, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note = self.get_object()
        services.update_note(note, by=actor(request), **self.validated())
        return self.show(note)

    def perform_destroy(self, instance: LearningNote) -> None:
        services.delete_note(instance, by=actor(self.request), version=_version_asked(self.request))


@extend_schema_view(
    list=extend_schema(
        summary=_("对接活动列表"),
        description=_(
            "调用者可见的对接活动：本园区挂职的（效能督查、领导），挂职干部本人挂职的；可按挂职筛选。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("对接活动详情"), responses=ACTIVITY_ERRORS.responses(200, LiaisonActivitySerializer, 404)
    ),
    create=extend_schema(
        summary=_("记录对接活动"),
        description=_("挂职干部在本人挂职下记录；活动日期在挂职期间且不晚于今天。"),
        request=LiaisonActivityCreateSerializer,
        responses=ACTIVITY_ERRORS.responses(201, LiaisonActivitySerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改对接活动"),
        description=_("只提交要改的字段，并带上读取时的 version；已被修改时返回 409。"),
        request=LiaisonActivityUpdateSerializer,
        responses=ACTIVITY_ERRORS.responses(200, LiaisonActivitySerializer, 400, 403, 404, 409),
    ),
    destroy=extend_schema(
        summary=_("删除对接活动"),
        description=_("可带上读取时的 version（查询参数）；已被修改时返回 409。"),
        parameters=[ROW_VERSION],
        responses=ACTIVITY_ERRORS.responses(204, None, 400, 403, 404, 409),
    ),
)
class LiaisonActivityViewSet(_CadreRowViewSet):
    """Liaison activities (对接活动) the caller may read; the cadre of the secondment writes them."""

    queryset = LiaisonActivity.objects.none()
    serializer_class = LiaisonActivitySerializer
    serializer_classes = {
        "create": LiaisonActivityCreateSerializer,
        "partial_update": LiaisonActivityUpdateSerializer,
    }
    filterset_class = ActivityFilter
    write_refusal = _("只有挂职干部本人可以填写对接活动")

    def scoped(self) -> QuerySet[LiaisonActivity]:
        return LiaisonActivity.objects.visible_to(self.caller()).order_by("-held_on", "-pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        activity = services.add_activity(data.pop("secondment"), by=actor(request), **data)
        return self.show(activity, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        activity = self.get_object()
        services.update_activity(activity, by=actor(request), **self.validated())
        return self.show(activity)

    def perform_destroy(self, instance: LiaisonActivity) -> None:
        services.delete_activity(instance, by=actor(self.request), version=_version_asked(self.request))


# --- sourced leads ----------------------------------------------------------------------------------


class SourcedLeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=SourcedLeadStatus.choices)
    secondment = IdFilter(field_name="secondment_id", label=_("挂职 id"))

    class Meta:
        model = SourcedLead
        fields: list[str] = []


class SourcedLeadSerializer(serializers.ModelSerializer):
    status = SourcedLeadStatusField(read_only=True)
    cadre = serializers.IntegerField(
        source="secondment.cadre_id", read_only=True, help_text=_("推荐的挂职干部")
    )
    cadre_name = serializers.CharField(source="secondment.cadre.__str__", read_only=True)
    host_unit = serializers.CharField(source="secondment.host_unit", read_only=True)
    contact_phone = serializers.SerializerMethodField(
        help_text=_("挂职干部本人、本园区招商专员和效能督查看到完整号码，领导看到脱敏号码")
    )

    class Meta:
        model = SourcedLead
        fields = [
            "id",
            "secondment",
            "cadre",
            "cadre_name",
            "host_unit",
            "company_name",
            "uscc",
            "industry",
            "summary",
            "contact_name",
            "contact_phone",
            "status",
            "lead",
            "decline_reason",
            "decided_by",
            "decided_at",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    def get_contact_phone(self, sourced: SourcedLead) -> str:
        return sourcing.contact_phone_for(caller(self.context), sourced)


class _SourcedFields(serializers.Serializer):
    company_name = serializers.CharField(label=_("企业名称"), max_length=sourcing.COMPANY_MAX)
    uscc = _optional_text(_("统一社会信用代码"), 18, help_text=_("知道时填写"))
    industry = _optional_text(_("所属行业"), sourcing.INDUSTRY_MAX)
    summary = serializers.CharField(label=_("项目情况"), max_length=sourcing.SUMMARY_MAX)
    contact_name = _optional_text(_("联系人"), sourcing.CONTACT_NAME_MAX)
    contact_phone = _optional_text(
        _("联系电话"), sourcing.CONTACT_PHONE_MAX, help_text=_("填写时须同时填写联系人")
    )


class SourcedLeadCreateSerializer(_SourcedFields):
    secondment = OwnSecondmentField(label=_("挂职"), help_text=_("调用者本人挂职的 id"))


class SourcedLeadUpdateSerializer(_AllOptionalBut, _SourcedFields):
    version = version_field()


class SourcedLeadTakeSerializer(serializers.Serializer):
    owner = PromoterField(
        label=_("负责人"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("本园区招商专员的用户 id；省略为调用者"),
    )
    node = NodeField(
        label=_("链环节"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("本园区产业链上的环节 id"),
    )
    version = version_field()


class SourcedLeadDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(label=_("不予跟进原因"), max_length=sourcing.REASON_MAX)
    version = version_field()


@extend_schema_view(
    list=extend_schema(
        summary=_("挂职干部推荐线索列表"),
        description=_(
            "调用者可见的推荐线索：挂职干部本人的，本园区招商专员、效能督查和领导可见本园区的；待接收的在前。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("推荐线索详情"), responses=SOURCED_ERRORS.responses(200, SourcedLeadSerializer, 404)
    ),
    create=extend_schema(
        summary=_("推荐招商线索"),
        description=_("挂职干部在本人挂职下推荐；统一社会信用代码知道时填写，须有效。"),
        request=SourcedLeadCreateSerializer,
        responses=SOURCED_ERRORS.responses(201, SourcedLeadSerializer, 400, 403),
    ),
    partial_update=extend_schema(
        summary=_("修改推荐线索"),
        description=_("挂职干部本人在线索待接收时修改；带上读取时的 version，已被修改或处理时返回 409。"),
        request=SourcedLeadUpdateSerializer,
        responses=SOURCED_ERRORS.responses(200, SourcedLeadSerializer, 400, 403, 404, 409),
    ),
)
class SourcedLeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgrammeViewSet
):
    """Sourced leads the caller may read; the cadre submits, the zone's promoters take or decline."""

    queryset = SourcedLead.objects.none()
    serializer_class = SourcedLeadSerializer
    serializer_classes = {
        "create": SourcedLeadCreateSerializer,
        "partial_update": SourcedLeadUpdateSerializer,
        "take": SourcedLeadTakeSerializer,
        "decline": SourcedLeadDeclineSerializer,
    }
    filterset_class = SourcedLeadFilter
    read_roles = SOURCED_READERS
    write_roles = {"create": CADRES, "partial_update": CADRES, "take": DECIDERS, "decline": DECIDERS}
    write_refusal = _("挂职干部本人推荐和修改线索；本园区招商专员接收或不予跟进")

    def get_queryset(self) -> QuerySet[SourcedLead]:
        waiting_first = models.Case(
            models.When(status=SourcedLeadStatus.SUBMITTED, then=models.Value(0)),
            default=models.Value(1),
            output_field=models.IntegerField(),
        )
        return (
            SourcedLead.objects.visible_to(self.caller())
            .select_related("secondment__pairing", "secondment__cadre")
            .order_by(waiting_first, "-created_at", "-pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated()
        sourced = sourcing.submit(data.pop("secondment"), by=actor(request), **data)
        return self.show(sourced, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sourced = self.get_object()
        sourcing.update_sourced(sourced, by=actor(request), **self.validated())
        return self.show(sourced)

    @extend_schema(
        summary=_("推荐线索转为招商线索"),
        description=_(
            "本园区招商专员接收：在本园区目标企业库中按统一社会信用代码或名称查找该企业，没有则新增；"
            "录入来源为“挂职干部”的招商线索（lead），负责人省略为调用者。同一线索只能接收一次，"
            "已被接收、不予跟进或修改时返回 409。"
        ),
        request=SourcedLeadTakeSerializer,
        responses=SOURCED_ERRORS.responses(200, SourcedLeadSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def take(self, request: Request, pk: str | None = None) -> Response:
        sourced = self.get_object()
        data = self.validated()
        sourcing.take(sourced, by=actor(request), **data)
        return self.show(sourced)

    @extend_schema(
        summary=_("推荐线索不予跟进"),
        description=_("本园区招商专员决定不予跟进，须填写原因；已被处理或修改时返回 409。"),
        request=SourcedLeadDeclineSerializer,
        responses=SOURCED_ERRORS.responses(200, SourcedLeadSerializer, 400, 403, 404, 409),
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decline(self, request: Request, pk: str | None = None) -> Response:
        sourced = self.get_object()
        data = self.validated()
        sourcing.decline(sourced, by=actor(request), **data)
        return self.show(sourced)


extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
    router.register("pairings", PairingViewSet, basename="pairing")
    router.register("secondments", SecondmentViewSet, basename="secondment")
    router.register("learning-notes", LearningNoteViewSet, basename="learning-note")
    router.register("liaison-activities", LiaisonActivityViewSet, basename="liaison-activity")
    router.register("sourced-leads", SourcedLeadViewSet, basename="sourced-lead")
