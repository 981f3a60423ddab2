"""Serializers of the enterprise API: shapes and input checks only; writes belong to services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.core import api as core_api
from guanjia.core.masking import phone_for
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Contact, Enterprise, StewardAssignment, Tag
from guanjia.enterprises.services import EDITABLE_FIELDS, stewards_of_zones
from guanjia.enterprises.uscc import clean_uscc


def _request_user(field: serializers.Field) -> User | None:
    request = field.context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def _caller_zone_ids(field: serializers.Field) -> list[int]:
    user = _request_user(field)
    return user.zone_ids() if user is not None else []


class CallerZoneField(serializers.PrimaryKeyRelatedField):
    """A zone id, accepted only among the zones the caller works in."""

    def get_queryset(self) -> QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE, pk__in=_caller_zone_ids(self))


class CallerStewardField(serializers.PrimaryKeyRelatedField):
    """An active steward's user id, accepted only among the stewards of the caller's zones."""

    def get_queryset(self) -> QuerySet[User]:
        return stewards_of_zones(_caller_zone_ids(self))


class LeavingStewardField(serializers.PrimaryKeyRelatedField):
    """The steward handing over: a steward of the caller's zones, or anyone still serving one of
    their enterprises (a leaving steward may already have lost the role)."""

    def get_queryset(self) -> QuerySet[User]:
        zone_ids = _caller_zone_ids(self)
        return User.objects.filter(
            Q(role_grants__role=Role.STEWARD, unit_id__in=zone_ids)
            | Q(role_grants__role=Role.STEWARD, unit__parent_id__in=zone_ids)
            | Q(stewarded_enterprises__zone_id__in=zone_ids)
        ).distinct()


def steward_queryset() -> QuerySet[User]:
    """Names the model for the schema; CallerStewardField narrows it to the caller's zones."""
    return User.objects.filter(role_grants__role=Role.STEWARD)


CONTACT_FIELDS = ["name", "position", "phone", "email", "is_primary"]
ENTERPRISE_FIELDS = ["uscc", *EDITABLE_FIELDS, "tags"]


class ContactSerializer(serializers.ModelSerializer):
    """A contact as shown: the phone masked for roles that need not call."""

    # Not an EmailField: most contacts have no address, and "" is no "format: email".
    email = serializers.CharField(read_only=True, help_text=_("邮箱；未填为空字符串"))

    class Meta:
        model = Contact
        fields = ["id", *CONTACT_FIELDS]
        read_only_fields = fields

    def to_representation(self, instance: Contact) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["phone"] = phone_for(_request_user(self), instance.phone)
        return data


class ContactInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = CONTACT_FIELDS


class EnterpriseSerializer(serializers.ModelSerializer):
    """An enterprise as every read (and the answer to every write) shows it."""

    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True, help_text=_("标签名称")
    )
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    steward: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("当前服务管家的用户编号")
    )
    steward_name = serializers.SerializerMethodField()
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            *ENTERPRISE_FIELDS,
            "zone",
            "zone_name",
            "steward",
            "steward_name",
            "contacts",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_steward_name(self, obj: Enterprise) -> str | None:
        return str(obj.steward) if obj.steward_id else None


class EnterpriseCreateSerializer(serializers.ModelSerializer):
    """A new enterprise: registry fields, its zone (one of the caller's), tags and contacts."""

    # Declared without the model's max_length and unique validators: clean_uscc names
    # the exact problem (length, characters, check digit) in one message.
    uscc = serializers.CharField(help_text=_("统一社会信用代码（18 位，GB 32100）"))
    tags = serializers.SlugRelatedField(
        slug_field="name", queryset=Tag.objects.all(), many=True, required=False, help_text=_("标签名称")
    )
    zone = CallerZoneField(
        queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE), help_text=_("所属园区编号")
    )
    contacts = ContactInputSerializer(many=True, required=False)

    class Meta:
        model = Enterprise
        fields = [*ENTERPRISE_FIELDS, "zone", "contacts"]

    def validate_uscc(self, value: str) -> str:
        try:
            code = clean_uscc(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        # create_enterprise refuses a duplicate too; checking here names the field.
        if Enterprise.objects.filter(uscc=code).exists():
            raise serializers.ValidationError(_("统一社会信用代码 %(uscc)s 已登记") % {"uscc": code})
        return code


class EnterpriseUpdateSerializer(serializers.ModelSerializer):
    """The registry fields a keeper or the enterprise's steward may change, with the version read."""

    tags = serializers.SlugRelatedField(
        slug_field="name", queryset=Tag.objects.all(), many=True, required=False, help_text=_("标签名称")
    )
    version = serializers.IntegerField(
        min_value=1, help_text=_("读取时的版本号；若企业已被他人修改，返回 409，请重新读取后再提交")
    )

    class Meta:
        model = Enterprise
        # The USCC and the zone identify the enterprise and are not edited here.
        fields = [*(f for f in ENTERPRISE_FIELDS if f != "uscc"), "version"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update skips required fields, but without the version there is no
        # guard against overwriting someone else's edit.
        if "version" not in attrs:
            raise serializers.ValidationError({"version": [_("请提供读取时的版本号（version）")]})
        return attrs


class StewardAssignmentSerializer(serializers.ModelSerializer):
    """One period of a steward's service to an enterprise."""

    steward_name = serializers.CharField(source="steward.__str__", read_only=True)
    assigned_by_name = serializers.SerializerMethodField()

    class Meta:
        model = StewardAssignment
        fields = [
            "id",
            "steward",
            "steward_name",
            "started_at",
            "ended_at",
            "reason",
            "assigned_by",
            "assigned_by_name",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assigned_by_name(self, obj: StewardAssignment) -> str | None:
        return str(obj.assigned_by) if obj.assigned_by_id else None


class AssignStewardSerializer(serializers.Serializer):
    steward = CallerStewardField(queryset=steward_queryset(), help_text=_("新服务管家的用户编号"))
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StewardLoadSerializer(serializers.Serializer):
    """A steward of a zone with the enterprises it serves and their weighted load."""

    id = serializers.IntegerField(source="steward.pk")
    username = serializers.CharField(source="steward.username")
    name = serializers.CharField(source="steward.__str__")
    zone = serializers.IntegerField(source="zone.pk")
    zone_name = serializers.CharField(source="zone.name")
    enterprises = serializers.IntegerField(help_text=_("服务企业数"))
    weighted = serializers.IntegerField(help_text=_("加权负荷：重点 3、规上 2、一般 1"))


class StewardBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class SuggestQuerySerializer(serializers.Serializer):
    zone = CallerZoneField(queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE), help_text=_("园区编号"))


class HandoverSerializer(serializers.Serializer):
    from_steward = LeavingStewardField(queryset=User.objects.all(), help_text=_("移交企业的服务管家"))
    to_steward = CallerStewardField(
        queryset=steward_queryset(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("接手的服务管家；为空时按负荷逐家分给本园区最空闲的管家"),
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    zone = CallerZoneField(
        queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("只移交该园区的企业；为空时移交全部"),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("to_steward") is not None and attrs["to_steward"] == attrs["from_steward"]:
            raise serializers.ValidationError({"to_steward": [_("接手的管家不能是移交的管家本人")]})
        return attrs


# One error component for the whole schema; kept importable from here for the apps' API modules.
ErrorSerializer = core_api.ErrorSerializer
