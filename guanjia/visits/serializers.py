"""API shapes of visits and the visit schedule."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.appeals.models import AppealCategory
from guanjia.core.models import User
from guanjia.enterprises.models import Enterprise
from guanjia.visits import services
from guanjia.visits.models import Mode, Visit, VisitSchedule


class VisitSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    appeals = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "zone",
            "steward",
            "visited_on",
            "mode",
            "our_side",
            "their_side",
            "summary",
            "explained",
            "location",
            "latitude",
            "longitude",
            "recorded_at",
            "appeals",
        ]
        read_only_fields = fields

    def get_appeals(self, visit: Visit) -> list[int]:
        """The ids of the appeals this visit raised."""
        return [link.appeal_id for link in visit.appeal_links.all()]


class ProblemSerializer(serializers.Serializer):
    title = serializers.CharField(label=_("诉求标题"), max_length=200)
    body = serializers.CharField(label=_("诉求内容"))
    category = serializers.PrimaryKeyRelatedField(
        label=_("诉求类别"),
        queryset=AppealCategory.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )


@extend_schema_field(OpenApiTypes.INT)
class ServedEnterpriseField(serializers.PrimaryKeyRelatedField):
    """An enterprise id, accepted only among the caller's own enterprises: any other "does not exist"."""

    default_error_messages = {"does_not_exist": _("企业 {pk_value} 不存在或不由您服务")}

    def get_queryset(self) -> QuerySet[Enterprise]:
        user = getattr(self.context.get("request"), "user", None)
        if not isinstance(user, User):
            return Enterprise.objects.none()
        return Enterprise.objects.filter(steward=user)


class VisitCreateSerializer(serializers.Serializer):
    enterprise = ServedEnterpriseField(label=_("企业"))
    visited_on = serializers.DateField(label=_("走访日期"))
    mode = serializers.ChoiceField(label=_("走访方式"), choices=Mode.choices)
    our_side = serializers.CharField(label=_("我方人员"), max_length=200)
    their_side = serializers.CharField(label=_("企业方人员"), max_length=200)
    summary = serializers.CharField(label=_("走访情况"))
    explained = serializers.CharField(label=_("宣讲内容"), required=False, allow_blank=True, default="")
    location = serializers.CharField(
        label=_("走访地点"), max_length=200, required=False, allow_blank=True, default=""
    )
    latitude = serializers.DecimalField(
        label=_("纬度"),
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        label=_("经度"),
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )
    appeals = ProblemSerializer(many=True, required=False, default=list)

    def validate_visited_on(self, value):
        if value > services.today():
            raise serializers.ValidationError(_("走访日期不能晚于今天"))
        return value

    def validate_appeals(self, value):
        if len(value) > services.MAX_PROBLEMS:
            raise serializers.ValidationError(
                _("一次走访最多提出 %(max)s 项诉求") % {"max": services.MAX_PROBLEMS}
            )
        return value


class VisitScheduleSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    enterprise_tier = serializers.CharField(source="enterprise.tier", read_only=True)
    steward = serializers.IntegerField(source="enterprise.steward_id", read_only=True, allow_null=True)
    interval = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = VisitSchedule
        fields = [
            "enterprise",
            "enterprise_name",
            "enterprise_tier",
            "steward",
            "interval_days",
            "interval",
            "last_visit_on",
            "next_due",
            "overdue",
        ]
        read_only_fields = fields

    def get_interval(self, row: VisitSchedule) -> int:
        """The cadence in effect, in calendar days (the override, or the tier's default)."""
        return services.interval_for(row.enterprise.tier, row.interval_days)

    def get_overdue(self, row: VisitSchedule) -> bool:
        return row.next_due < services.today()
