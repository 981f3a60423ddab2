"""What the investment API's modules share: the refusals they document, who the caller is, who may read
and who may write, the fields that name an object in the caller's scope, the choice fields named as
schema components, and a viewset base that reads a body and answers with the object as it is now.

The services' refusals (ServiceError 400, NotAllowed 403, Conflict 409) are turned into HTTP answers
once for the whole API, by guanjia.core.api.api_exception_handler; nothing here maps them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from guanjia.core.api import DEFAULT_ERRORS, ErrorSerializer
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.investment.access import may_keep, may_read, zones_of
from guanjia.investment.models import ChainNode, IndustryChain, Target

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

FORBIDDEN = _("无权执行此操作")
MISSING = _("对象不存在或不在您的范围内")
STALE = _("已被他人修改：请重新读取后再提交")
NAME_THE_ZONE = _("请指定所属园区")

# --- the refusals an endpoint documents ---------------------------------------------------------------


class Refusals:
    """The refusals one resource's endpoints document, each worded for the resource: 400 (the input, or a
    rule of the service), 403, 404 (absent or out of the caller's scope) and 409 (changed meanwhile)."""

    def __init__(
        self,
        *,
        forbidden: StrOrPromise = FORBIDDEN,
        missing: StrOrPromise = MISSING,
        stale: StrOrPromise = STALE,
        invalid: StrOrPromise | None = None,
    ) -> None:
        # The 400 is a field map or a {detail}: no one body to name.
        self.invalid = DEFAULT_ERRORS["400"] if invalid is None else OpenApiResponse(description=invalid)
        self.forbidden = OpenApiResponse(ErrorSerializer, description=forbidden)
        self.missing = OpenApiResponse(ErrorSerializer, description=missing)
        self.stale = OpenApiResponse(ErrorSerializer, description=stale)

    def responses(self, code: int, body: Any, *refused: int) -> dict[int, Any]:
        """An endpoint's documented responses: `body` with `code`, and the refusals it may give, e.g.
        `ERRORS.responses(200, LeadDetailSerializer, 400, 403, 404, 409)`."""
        by_code = {400: self.invalid, 403: self.forbidden, 404: self.missing, 409: self.stale}
        return {code: body, **{refusal: by_code[refusal] for refusal in refused}}


# --- the caller ---------------------------------------------------------------------------------------


def user_or_none(request: Request | None) -> User | None:
    """The request's user if it is an account (the anonymous visitor is None: scoped reads see nothing)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def caller(context: Mapping[str, Any]) -> User | None:
    """The user of a serializer's or field's context."""
    return user_or_none(context.get("request"))


def actor(request: Request) -> User:
    """The account doing a write (the permissions let only accounts through)."""
    user = user_or_none(request)
    if user is None:
        raise exceptions.NotAuthenticated()
    return user


def zone_or_only(user: User, zone: OrgUnit | None, *, several: StrOrPromise = NAME_THE_ZONE) -> OrgUnit:
    """The zone a body names, or the caller's only zone; a caller of several zones must name one."""
    if zone is not None:
        return zone
    zones = list(zones_of(user)[:2])
    if len(zones) != 1:
        raise serializers.ValidationError({"zone": [str(several)]})
    return zones[0]


# --- who may read, who may write ----------------------------------------------------------------------


class ReadsInvestment(BasePermission):
    """The zone's promoters and leaders (access.may_read)."""

    message = _("您的账号没有查看招商数据的权限")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and may_read(user)


class KeepersWrite(BasePermission):
    """Leaders read; a write by them is refused before its input is read. A module words the refusal
    for what it keeps by subclassing and setting `message`."""

    message = _("只有本园区的招商专员可以执行此操作")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return request.method in SAFE_METHODS or (isinstance(user, User) and may_keep(user))


# --- fields: an object named in a body is looked up in the caller's scope -------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """An object named by id, looked up among those the caller may see: anything else "does not exist"
    (400). A module words that refusal by subclassing and setting `default_error_messages`."""

    def get_queryset(self) -> QuerySet:
        user = caller(self.context)
        return self.scoped(user) if user is not None else OrgUnit.objects.none()

    def scoped(self, user: User) -> QuerySet:
        raise NotImplementedError


class CallerZoneField(ScopedField):
    """A zone the caller works in."""

    def scoped(self, user: User) -> QuerySet[OrgUnit]:
        return zones_of(user)


class VisibleChainField(ScopedField):
    def scoped(self, user: User) -> QuerySet[IndustryChain]:
        return IndustryChain.objects.visible_to(user)


class VisibleNodeField(ScopedField):
    def scoped(self, user: User) -> QuerySet[ChainNode]:
        return ChainNode.objects.visible_to(user).select_related("chain")


class VisibleTargetField(ScopedField):
    def scoped(self, user: User) -> QuerySet[Target]:
        return Target.objects.visible_to(user)


class VisibleEnterpriseField(ScopedField):
    def scoped(self, user: User) -> QuerySet[Enterprise]:
        return Enterprise.objects.visible_to(user)


def version_field(**options: Any) -> serializers.IntegerField:
    """The version the client read: a write with a stale one is refused with 409 (Conflict)."""
    options = {"min_value": 1, "help_text": _("读取时的 version；已被他人修改时返回 409"), **options}
    return serializers.IntegerField(**options)


def money_field(**options: Any) -> serializers.DecimalField:
    """An amount in 万元."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **options)


# --- choice fields, each with its enum as one named component: field names such as "kind", "stage" and
# "status" are used by other choice sets of the schema, so drf-spectacular's naming by field name would
# collide ------------------------------------------------------------------------------------------------


class NamedEnumField(serializers.ChoiceField):
    """A choice field whose enum is the schema component `enum_name`."""

    enum_name = ""
    choice_set: type[models.TextChoices]
    blank_allowed = False

    def __init__(self, **kwargs: Any) -> None:
        if self.blank_allowed:
            kwargs["allow_blank"] = True
        super().__init__(choices=self.choice_set.choices, **kwargs)


class NamedEnumExtension(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField
    match_subclasses = True

    def get_name(self) -> str | None:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        values = list(field.choice_set.values)
        labels = [f"* `{value}` - {label}" for value, label in field.choice_set.choices]
        if field.blank_allowed:
            values = ["", *values]
            labels = ["* `` - （未填写）", *labels]
        return {"type": "string", "enum": values, "description": "\n".join(labels)}


# --- the viewsets ---------------------------------------------------------------------------------------


class InvestmentViewSet(viewsets.GenericViewSet):
    """A viewset of the investment API: readers read, the zone's promoters write (a module names its own
    KeepersWrite), one serializer per action, and a write answers with the object as it is now."""

    permission_classes: Sequence[Any] = [IsAuthenticated, ReadsInvestment, KeepersWrite]
    # The serializer of each action that has its own; `serializer_class` for the others.
    serializer_classes: Mapping[str, type[serializers.BaseSerializer]] = {}
    # What show() answers with; `serializer_class` when None.
    detail_serializer_class: type[serializers.BaseSerializer] | None = None

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.serializer_classes.get(self.action or "", super().get_serializer_class())

    def caller(self) -> User | None:
        return user_or_none(self.request)

    def validated(
        self, serializer_class: type[serializers.BaseSerializer] | None = None, **options: Any
    ) -> dict[str, Any]:
        """The request's body, validated by `serializer_class` (the action's when None): a 400 if invalid."""
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **options
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def shown(self) -> QuerySet:
        """Where show() reads the object again."""
        return self.get_queryset()

    def show(self, instance: models.Model, code: int = status.HTTP_200_OK) -> Response:
        """The object as it is now, read again through the scoped queryset (with its figures)."""
        fresh = self.shown().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.serializer_class
        assert serializer_class is not None
        return Response(serializer_class(fresh, context=self.get_serializer_context()).data, status=code)
