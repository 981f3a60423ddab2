"""API shapes of campaigns, their coverage, their targets and the target-list operations."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.campaigns import importing, services
from guanjia.campaigns.models import Campaign, CampaignStatus, CampaignTarget
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.industries import DIVISIONS, SECTIONS
from guanjia.enterprises.models import Tag, Tier


@extend_schema_field({"type": "string", "enum": list(Tier.values)})
class TierField(serializers.ChoiceField):
    """An inline enum: the enterprises' TierEnum already names this choice set under "tier"."""


class CampaignSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=CampaignStatus.choices, read_only=True, help_text=_("按北京时间的今天与期间推算")
    )
    zones: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text=_("覆盖园区的 id"))
    target_count = serializers.IntegerField(read_only=True, help_text=_("目标企业数"))
    visited_count = serializers.IntegerField(read_only=True, help_text=_("期间内已走访的目标企业数"))
    coverage_rate = serializers.SerializerMethodField(help_text=_("覆盖率（0–1）；没有目标企业时为 null"))

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "starts_on",
            "ends_on",
            "status",
            "zones",
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "target_count",
            "visited_count",
            "coverage_rate",
        ]
        read_only_fields = fields

    def get_coverage_rate(self, campaign: Campaign) -> float | None:
        share = services.Share(visited=campaign.visited_count, total=campaign.target_count)  # type: ignore[attr-defined]
        return share.rate


@extend_schema_field(OpenApiTypes.INT)
class CallerZonesField(serializers.PrimaryKeyRelatedField):
    """A zone id, accepted only among the caller's own zones: any other "does not exist"."""

    default_error_messages = {"does_not_exist": _("园区 {pk_value} 不存在或不在您的管辖范围内")}

    def get_queryset(self) -> QuerySet[OrgUnit]:
        user = getattr(self.context.get("request"), "user", None)
        if not isinstance(user, User):
            return OrgUnit.objects.none()
        return OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE)


class _PeriodChecks(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.context.get("campaign")
        starts_on = attrs.get("starts_on") or getattr(instance, "starts_on", None)
        ends_on = attrs.get("ends_on") or getattr(instance, "ends_on", None)
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError({"ends_on": [_("结束日期不能早于开始日期")]})
        return attrs


class CampaignCreateSerializer(_PeriodChecks):
    name = serializers.CharField(label=_("名称"), max_length=services.NAME_MAX)
    description = serializers.CharField(label=_("说明"), required=False, allow_blank=True, default="")
    starts_on = serializers.DateField(label=_("开始日期"))
    ends_on = serializers.DateField(label=_("结束日期"))
    zones = CallerZonesField(
        many=True,
        required=False,
        label=_("覆盖园区"),
        help_text=_("调用者管辖的园区 id；省略则为调用者的全部园区"),
    )


class CampaignUpdateSerializer(_PeriodChecks):
    name = serializers.CharField(label=_("名称"), max_length=services.NAME_MAX, required=False)
    description = serializers.CharField(label=_("说明"), required=False, allow_blank=True)
    starts_on = serializers.DateField(label=_("开始日期"), required=False)
    ends_on = serializers.DateField(label=_("结束日期"), required=False)
    zones = CallerZonesField(many=True, required=False, label=_("覆盖园区"))
    version = serializers.IntegerField(
        label=_("版本"), min_value=1, help_text=_("读取时的 version；已被他人修改时返回 409")
    )


class ShareSerializer(serializers.Serializer):
    visited = serializers.IntegerField(help_text=_("期间内已走访的目标企业数"))
    total = serializers.IntegerField(help_text=_("目标企业数"))
    rate = serializers.FloatField(allow_null=True, help_text=_("覆盖率（0–1）；没有目标企业时为 null"))


class ZoneShareSerializer(ShareSerializer):
    zone = serializers.IntegerField(source="key")
    name = serializers.CharField()


class StewardShareSerializer(ShareSerializer):
    steward = serializers.IntegerField(source="key", allow_null=True, help_text=_("null 为未分配管家的目标"))
    name = serializers.CharField()


class ProblemsSerializer(serializers.Serializer):
    raised = serializers.IntegerField(help_text=_("期间内走访目标企业时提出的诉求数"))
    closed = serializers.IntegerField(help_text=_("其中已办结的"))
    solved = serializers.IntegerField(help_text=_("其中已办结且企业最后一次评价确认已解决的"))


class CoverageSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign_id")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    overall = ShareSerializer()
    by_zone = ZoneShareSerializer(many=True)
    by_steward = StewardShareSerializer(many=True)
    problems = ProblemsSerializer()


class TargetSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    zone = serializers.IntegerField(source="enterprise.zone_id", read_only=True)
    steward_name = serializers.SerializerMethodField()
    visited = serializers.BooleanField(read_only=True, help_text=_("期间内是否有该企业的走访记录"))

    class Meta:
        model = CampaignTarget
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "uscc",
            "zone",
            "steward",
            "steward_name",
            "visited",
            "added_at",
        ]
        read_only_fields = fields

    def get_steward_name(self, target: CampaignTarget) -> str:
        return str(target.steward) if target.steward_id else ""


class TargetPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TargetSerializer(many=True)


class TargetQuerySerializer(serializers.Serializer):
    visited = serializers.BooleanField(required=False, help_text=_("true 只列已走访的，false 只列未走访的"))
    steward = serializers.IntegerField(required=False, help_text=_("责任管家的用户 id"))
    page = serializers.IntegerField(required=False, min_value=1)


class TargetCriteriaSerializer(serializers.Serializer):
    zones = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE),
        help_text=_("本专项行动覆盖园区中的若干个；省略为全部"),
    )
    tiers = serializers.ListField(
        child=TierField(choices=Tier.choices), required=False, help_text=_("企业分级，任一")
    )
    industry_section = serializers.ChoiceField(choices=sorted(SECTIONS), required=False, allow_blank=True)
    industry_division = serializers.ChoiceField(choices=sorted(DIVISIONS), required=False, allow_blank=True)
    tags = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Tag.objects.all(), help_text=_("标签 id，有其中任一即可")
    )


def criteria_from(data: dict[str, Any]) -> services.TargetCriteria:
    """The service's criteria from a validated TargetCriteriaSerializer."""
    return services.TargetCriteria(
        zones=list(data.get("zones", [])),
        tiers=list(data.get("tiers", [])),
        industry_section=data.get("industry_section", ""),
        industry_division=data.get("industry_division", ""),
        tags=list(data.get("tags", [])),
    )


class TargetAddSerializer(serializers.Serializer):
    filters = TargetCriteriaSerializer(required=False, help_text=_("按条件添加（与 usccs 二选一）"))
    usccs = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=False),
        required=False,
        max_length=importing.MAX_TARGET_ROWS,
        help_text=_("按统一社会信用代码清单添加（与 filters 二选一）；任一行有误则全部不写入"),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("filters" in attrs) == ("usccs" in attrs):
            raise serializers.ValidationError(_("请提供 filters 或 usccs 其中之一"))
        if "usccs" in attrs and not attrs["usccs"]:
            raise serializers.ValidationError({"usccs": [_("请至少提供一个统一社会信用代码")]})
        return attrs


class AddResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text=_("新加入目标清单的企业数"))
    skipped = serializers.IntegerField(help_text=_("已在目标清单中而跳过的企业数"))


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("第几个代码（从 1 起）"))
    uscc = serializers.CharField()
    error = serializers.CharField()


class RowErrorsSerializer(serializers.Serializer):
    """A 400: {detail, rows} when codes are bad; {field: [messages]} or {detail} for other input errors."""

    detail = serializers.CharField(required=False)
    rows = RowErrorSerializer(many=True, required=False, help_text=_("每个有误的代码及原因（按行号排列）"))


@extend_schema_field(OpenApiTypes.INT)
class StewardField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("服务管家 {pk_value} 不存在")}

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(role_grants__role=Role.STEWARD).distinct()


class AssignSerializer(serializers.Serializer):
    to_steward = StewardField(label=_("改派给"), help_text=_("本专项行动园区中在岗的服务管家"))
    targets = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=services.MAX_SELECTED,
        help_text=_("目标 id（与 from_steward 二选一）"),
    )
    from_steward = StewardField(
        required=False, label=_("原责任管家"), help_text=_("改派其全部目标（与 targets 二选一）")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("targets")) == ("from_steward" in attrs):
            raise serializers.ValidationError(_("请提供 targets 或 from_steward 其中之一"))
        return attrs


class AssignResultSerializer(serializers.Serializer):
    moved = serializers.IntegerField(help_text=_("责任管家改变了的目标数"))
