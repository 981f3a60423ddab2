"""API shapes of visits and the visit schedule."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanjia.appeals.models import AppealCategory
from guanjia.core.models import User
from guanjia.enterprises.models import Enterprise
from guanjia.visits import services
from guanjia.visits.models import Mode, Visit, VisitPhoto, VisitSchedule


class VisitPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = VisitPhoto
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, photo: VisitPhoto) -> str:
        """Where the photo is downloaded (the caller must see the visit)."""
        return reverse("visit-photo", args=[photo.visit_id, photo.pk])


class VisitSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    appeals = serializers.SerializerMethodField()
    photos = VisitPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "zone",
            "steward",
            "planned_on",
            "plan_note",
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
            "photos",
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


@extend_schema_field(OpenApiTypes.INT)
class OwnPlanField(serializers.PrimaryKeyRelatedField):
    """An open plan of one of the caller's enterprises; any other id "does not exist"."""

    default_error_messages = {"does_not_exist": _("走访计划 {pk_value} 不存在、已登记或不由您负责")}

    def get_queryset(self) -> QuerySet[Visit]:
        user = getattr(self.context.get("request"), "user", None)
        if not isinstance(user, User):
            return Visit.objects.none()
        return Visit.objects.plans().filter(enterprise__steward=user)


class VisitCreateSerializer(serializers.Serializer):
    enterprise = ServedEnterpriseField(label=_("企业"))
    plan = OwnPlanField(
        label=_("走访计划"),
        required=False,
        allow_null=True,
        help_text=_("由计划登记时填写计划 id；不填时，该企业若有未完成的计划，也由本次走访完成"),
    )
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

    def validate(self, attrs):
        plan = attrs.get("plan")
        if plan is not None and plan.enterprise_id != attrs["enterprise"].pk:
            raise serializers.ValidationError({"plan": [_("该走访计划不属于所选企业")]})
        return attrs

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


class VisitPlanSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "enterprise", "enterprise_name", "zone", "steward", "planned_on", "plan_note"]
        read_only_fields = fields


class VisitPlanCreateSerializer(serializers.Serializer):
    enterprise = ServedEnterpriseField(label=_("企业"))
    planned_on = serializers.DateField(label=_("计划走访日期"))
    plan_note = serializers.CharField(
        label=_("计划事项"), max_length=200, required=False, allow_blank=True, default=""
    )

    def validate_planned_on(self, value):
        if value < services.today():
            raise serializers.ValidationError(_("计划走访日期不能早于今天"))
        return value


class IntervalSerializer(serializers.Serializer):
    interval_days = serializers.IntegerField(
        label=_("走访周期（天）"),
        min_value=1,
        max_value=366,
        allow_null=True,
        help_text=_("null：恢复分级默认周期"),
    )
    was = serializers.IntegerField(
        label=_("原走访周期（天）"),
        min_value=1,
        max_value=366,
        allow_null=True,
        required=False,
        help_text=_("调用者看到的原设置（null 为默认）；填写后，若他人已改动则返回 409，不覆盖"),
    )


class ZoneOverdueSerializer(serializers.Serializer):
    zone = serializers.IntegerField(source="zone.pk")
    zone_name = serializers.CharField(source="zone.name")
    enterprises = serializers.IntegerField()
    overdue = serializers.IntegerField()
    share = serializers.FloatField(help_text=_("逾期企业占比（0–1）"))
    oldest_due = serializers.DateField(allow_null=True, help_text=_("逾期企业中最早的应走访日期"))


class StewardOverdueSerializer(serializers.Serializer):
    steward = serializers.SerializerMethodField(help_text=_("服务管家的用户 id；null：未分配管家"))
    steward_name = serializers.SerializerMethodField()
    enterprises = serializers.IntegerField()
    overdue = serializers.IntegerField()
    share = serializers.FloatField(help_text=_("逾期企业占比（0–1）"))
    oldest_due = serializers.DateField(allow_null=True)

    def get_steward(self, row) -> int | None:
        return row.steward.pk if row.steward is not None else None

    def get_steward_name(self, row) -> str:
        return str(row.steward) if row.steward is not None else ""
