"""What the investment API's modules share: who may read and who may write, the caller's zone, the
fields that name an investment object in the caller's scope, and a viewset base that reads a body and
answers with the object as it is now.

What any app's API shares (the refusals an endpoint documents, who the caller is, ScopedField, the
version and money fields, NamedEnumField, IdFilter) lives in guanjia.core.api_common; it is imported
here too so that the investment modules name one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from guanjia.core.api_common import (
    FORBIDDEN,
    MISSING,
    STALE,
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
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.investment.access import may_keep, may_read, zones_of
from guanjia.investment.models import ChainNode, IndustryChain, Target

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

__all__ = [
    "FORBIDDEN",
    "MISSING",
    "NAME_THE_ZONE",
    "STALE",
    "CallerZoneField",
    "IdFilter",
    "InvestmentViewSet",
    "KeepersWrite",
    "NamedEnumField",
    "ReadsInvestment",
    "Refusals",
    "ScopedField",
    "VisibleChainField",
    "VisibleEnterpriseField",
    "VisibleNodeField",
    "VisibleTargetField",
    "actor",
    "caller",
    "money_field",
    "user_or_none",
    "version_field",
    "zone_or_only",
]

NAME_THE_ZONE = _("请指定所属园区")

# --- the caller's zone -------------------------------------------------------------------------------


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


# --- fields: an object named in a body is looked up in the caller's scope (core.api_common.ScopedField)


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
