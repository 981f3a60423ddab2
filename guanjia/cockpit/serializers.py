"""The cockpit API's query parameters and answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from guanjia.appeals import kpi
from guanjia.appeals.api import KpiValueSerializer

LEVELS = ("department", "zone", "steward")
VOLUME_BY = ("day", "week", "category", "channel")


class ZoneQuerySerializer(serializers.Serializer):
    zone = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("只看该园区（须在您的范围内）；不填为您的全部范围"),
        error_messages={"invalid": _("园区 zone 应为园区编号（整数）")},
    )

    def validate_zone(self, value: int) -> int:
        if value not in self.context["request"].user.zone_ids():
            raise serializers.ValidationError(_("园区 zone 不存在或不在您的范围内"))
        return value


class PeriodQuerySerializer(ZoneQuerySerializer):
    start = serializers.DateField(
        help_text=_("统计期首日（北京时间，含当日），格式 YYYY-MM-DD"),
        error_messages={
            "required": _("请提供开始日期 start，格式为 YYYY-MM-DD"),
            "invalid": _("开始日期 start 不是有效日期，格式应为 YYYY-MM-DD，例如 2026-03-01"),
        },
    )
    end = serializers.DateField(
        help_text=_("统计期结束日（不含当日）：3 月全月为 start=2026-03-01、end=2026-04-01"),
        error_messages={
            "required": _("请提供结束日期 end（不含当日），格式为 YYYY-MM-DD"),
            "invalid": _("结束日期 end 不是有效日期，格式应为 YYYY-MM-DD，例如 2026-04-01"),
        },
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("结束日期 end 必须晚于开始日期 start")]})
        if (attrs["end"] - attrs["start"]).days > 400:
            raise serializers.ValidationError({"end": [_("统计期最长 400 天")]})
        return attrs


class RankingQuerySerializer(PeriodQuerySerializer):
    level = serializers.ChoiceField(
        choices=LEVELS,
        default="department",
        help_text=_("department 部门、zone 园区、steward 服务管家（仅本园区领导）"),
        error_messages={"invalid_choice": _("level 只能是 department、zone 或 steward")},
    )


class VolumeQuerySerializer(PeriodQuerySerializer):
    by = serializers.ChoiceField(
        choices=VOLUME_BY,
        default="day",
        help_text=_("day 按日（含零）、week 按周（键为周一）、category 按类别、channel 按渠道"),
        error_messages={"invalid_choice": _("by 只能是 day、week、category 或 channel")},
    )


class CockpitKpiValueSerializer(KpiValueSerializer):
    previous = KpiValueSerializer(help_text=_("上一等长统计期的值"))


# One field per KPI of kpi.KPIS, in its order (test_cockpit_api checks that the two agree).
class CockpitKpiSetSerializer(serializers.Serializer):
    on_time_signing = CockpitKpiValueSerializer(help_text=kpi.KPIS["on_time_signing"])
    on_time_answering = CockpitKpiValueSerializer(help_text=kpi.KPIS["on_time_answering"])
    first_satisfaction = CockpitKpiValueSerializer(help_text=kpi.KPIS["first_satisfaction"])
    final_satisfaction = CockpitKpiValueSerializer(help_text=kpi.KPIS["final_satisfaction"])
    praise_rate = CockpitKpiValueSerializer(help_text=kpi.KPIS["praise_rate"])
    solved_rate = CockpitKpiValueSerializer(help_text=kpi.KPIS["solved_rate"])
    reopen_rate = CockpitKpiValueSerializer(help_text=kpi.KPIS["reopen_rate"])
    mean_handling_days = CockpitKpiValueSerializer(help_text=kpi.KPIS["mean_handling_days"])
    co_on_time_feedback = CockpitKpiValueSerializer(help_text=kpi.KPIS["co_on_time_feedback"])


class CockpitKpisSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("不含当日"))
    zone = serializers.IntegerField(allow_null=True)
    previous_start = serializers.DateField(help_text=_("上一等长统计期首日"))
    previous_end = serializers.DateField(help_text=_("上一等长统计期结束日（不含当日）"))
    kpis = CockpitKpiSetSerializer()


class RankedValueSerializer(KpiValueSerializer):
    rank = serializers.IntegerField(
        allow_null=True, help_text=_("名次；样本不足（n 少于 min_n）或无值时为 null")
    )


class RankedKpiSetSerializer(serializers.Serializer):
    on_time_signing = RankedValueSerializer()
    on_time_answering = RankedValueSerializer()
    first_satisfaction = RankedValueSerializer()
    final_satisfaction = RankedValueSerializer()
    praise_rate = RankedValueSerializer()
    solved_rate = RankedValueSerializer()
    reopen_rate = RankedValueSerializer()
    mean_handling_days = RankedValueSerializer()
    co_on_time_feedback = RankedValueSerializer()


class UnitRankingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text=_("综合得分（0–100）；样本不足时为 null"))
    rank = serializers.IntegerField(allow_null=True, help_text=_("综合排名；样本不足时为 null"))
    kpis = RankedKpiSetSerializer()


class StewardRankingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    enterprises = serializers.IntegerField(help_text=_("服务企业数"))
    visits_overdue = serializers.IntegerField(help_text=_("走访逾期的企业数"))
    visits_on_time = serializers.FloatField(allow_null=True, help_text=_("走访未逾期的企业占比"))
    campaign_visited = serializers.IntegerField(help_text=_("进行中专项行动的已走访目标"))
    campaign_targets = serializers.IntegerField(help_text=_("进行中专项行动的目标企业"))
    raised = serializers.IntegerField(help_text=_("统计期内走访中提出的诉求"))
    solved = serializers.IntegerField(help_text=_("其中已办结且企业确认解决的"))
    rated = serializers.IntegerField(help_text=_("所服务企业期内办结且有评价的诉求（n）"))
    satisfied = serializers.IntegerField(help_text=_("其中最终评价为基本满意及以上的"))


class RankingsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("不含当日"))
    zone = serializers.IntegerField(allow_null=True)
    level = serializers.ChoiceField(choices=LEVELS)
    min_n = serializers.IntegerField(help_text=_("参与排名的最小样本数"))
    weights = serializers.DictField(child=serializers.FloatField(), help_text=_("综合得分各指标的权重"))
    units = UnitRankingSerializer(many=True, help_text=_("部门或园区，按综合排名；level=steward 时为空"))
    stewards = StewardRankingSerializer(many=True, help_text=_("服务管家；仅 level=steward"))


class BarSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=_("分组键：日期、周一日期、类别编号（none 为未分类）、渠道代码或分档序号")
    )
    name = serializers.CharField(help_text=_("分组名称，如日期、类别名、渠道名或时长分档"))
    count = serializers.IntegerField()


class VolumeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("不含当日"))
    zone = serializers.IntegerField(allow_null=True)
    by = serializers.ChoiceField(choices=VOLUME_BY)
    total = serializers.IntegerField()
    rows = BarSerializer(many=True)


class OpenByAgeSerializer(serializers.Serializer):
    zone = serializers.IntegerField(allow_null=True)
    today = serializers.DateField(help_text=_("北京时间的今天"))
    total = serializers.IntegerField()
    rows = BarSerializer(many=True)
