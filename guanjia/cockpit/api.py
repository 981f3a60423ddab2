"""驾驶舱 API: the cockpit's figures for leaders and supervisors of their zones.

The same functions as the page (figures.py, ranking.py, stewards.py), so the API and the page
always agree. /api/cockpit/kpis/, rankings/, volume/, open-by-age/.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from guanjia.appeals import kpi
from guanjia.cockpit import figures, ranking, stewards
from guanjia.cockpit import serializers as s
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.serializers import ErrorSerializer

ERRORS_400 = OpenApiResponse(description=_("参数有误：{字段: [消息]}，消息写明是哪个参数"))
ERRORS_403 = OpenApiResponse(ErrorSerializer, description=_("该角色无权查看驾驶舱"))


class ReadsCockpit(BasePermission):
    """Leaders and supervisors; nobody else (not the 三员)."""

    message = _("您的账号无权查看驾驶舱")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and not user.is_admin_account and figures.may_use(user)


def _value(value: kpi.KpiValue, code: str) -> dict[str, Any]:
    return {
        "name": str(kpi.KPIS[code]),
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": value.value,
        "provisional": value.provisional,
    }


class CockpitViewSet(viewsets.ViewSet):
    """The cockpit's figures over the caller's zones, or one of them (zone=)."""

    permission_classes = [IsAuthenticated, ReadsCockpit]

    def _params(self, request: Request, serializer: type[s.ZoneQuerySerializer]) -> dict[str, Any]:
        query = serializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)

    def _scope(self, request: Request, params: dict[str, Any]) -> figures.CockpitScope:
        user = request.user
        assert isinstance(user, User)  # ReadsCockpit let only accounts through
        return figures.resolve_scope(user, params.get("zone"))

    @extend_schema(
        summary=_("驾驶舱：考核指标"),
        description=_("每项指标的分子、分母（样本数 n）和值，以及上一等长统计期的值。口径见 docs/kpi.md。"),
        parameters=[s.PeriodQuerySerializer],
        responses={200: s.CockpitKpisSerializer, 400: ERRORS_400, 403: ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="kpis")
    def kpis(self, request: Request) -> Response:
        params = self._params(request, s.PeriodQuerySerializer)
        scope = self._scope(request, params)
        period = kpi.Period(params["start"], params["end"])
        previous = figures.previous_period(period)
        cards = figures.kpi_cards(scope, period)
        body = {
            "start": period.start,
            "end": period.end,
            "zone": params.get("zone"),
            "previous_start": previous.start,
            "previous_end": previous.end,
            "kpis": {
                card.code: {**_value(card.current, card.code), "previous": _value(card.previous, card.code)}
                for card in cards
            },
        }
        return Response(s.CockpitKpisSerializer(body).data)

    @extend_schema(
        summary=_("驾驶舱：排名"),
        description=_(
            "部门或园区在每项指标上的值、样本数 n 和名次，以及综合得分与综合排名（docs/cockpit.md）；"
            "样本不足的单位列出但不排名。level=steward：本园区服务管家，仅本园区领导可查看。"
        ),
        parameters=[s.RankingQuerySerializer],
        responses={200: s.RankingsSerializer, 400: ERRORS_400, 403: ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="rankings")
    def rankings(self, request: Request) -> Response:
        params = self._params(request, s.RankingQuerySerializer)
        scope = self._scope(request, params)
        period = kpi.Period(params["start"], params["end"])
        level = params["level"]
        body: dict[str, Any] = {
            "start": period.start,
            "end": period.end,
            "zone": params.get("zone"),
            "level": level,
            "min_n": ranking.MIN_N,
            "weights": ranking.COMPOSITE_WEIGHTS,
            "units": [],
            "stewards": [],
        }
        if level == "steward":
            user = request.user
            assert isinstance(user, User)
            zone = stewards.steward_zone(user)
            if zone is None:
                raise exceptions.PermissionDenied(_("服务管家的比较只向其所在园区的领导显示"))
            body["stewards"] = [
                {
                    "id": row.steward.pk,
                    "name": str(row.steward),
                    "enterprises": row.enterprises,
                    "visits_overdue": row.visits_overdue,
                    "visits_on_time": row.visits_on_time,
                    "campaign_visited": row.campaign_visited,
                    "campaign_targets": row.campaign_targets,
                    "raised": row.raised,
                    "solved": row.solved,
                    "rated": row.rated,
                    "satisfied": row.satisfied,
                }
                for row in stewards.steward_rows(zone, period, figures.current_day())
            ]
            return Response(s.RankingsSerializer(body).data)
        units = (kpi.by_department if level == "department" else kpi.by_zone)(scope.kpi_scope, period)
        by_id = {unit.unit_id: unit for unit in units}
        names = dict(OrgUnit.objects.filter(pk__in=list(by_id)).values_list("pk", "name"))
        places = {code: {r.unit_id: r.rank for r in ranking.rank(units, code)} for code in kpi.KPIS}
        body["units"] = [
            {
                "id": score.unit_id,
                "name": names.get(score.unit_id, ""),
                "score": score.score,
                "rank": score.rank,
                "kpis": {
                    code: {**_value(value, code), "rank": places[code][score.unit_id]}
                    for code, value in by_id[score.unit_id].kpis.items()
                },
            }
            for score in ranking.rank_composite(units)
        ]
        return Response(s.RankingsSerializer(body).data)

    @extend_schema(
        summary=_("驾驶舱：诉求量"),
        description=_("统计期内提交的诉求数，按日（含零）、周、类别或渠道分组（来自每日汇总）。"),
        parameters=[s.VolumeQuerySerializer],
        responses={200: s.VolumeSerializer, 400: ERRORS_400, 403: ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="volume")
    def volume(self, request: Request) -> Response:
        params = self._params(request, s.VolumeQuerySerializer)
        scope = self._scope(request, params)
        period = kpi.Period(params["start"], params["end"])
        bars = figures.volume_by(scope, period, params["by"])
        body = {
            "start": period.start,
            "end": period.end,
            "zone": params.get("zone"),
            "by": params["by"],
            "total": sum(bar.value for bar in bars),
            "rows": [{"key": bar.key, "name": bar.label, "count": bar.value} for bar in bars],
        }
        return Response(s.VolumeSerializer(body).data)

    @extend_schema(
        summary=_("驾驶舱：在办诉求按已历时长"),
        description=_("当前未办结的诉求，按自提交以来的天数分档（来自每日汇总）。"),
        parameters=[s.ZoneQuerySerializer],
        responses={200: s.OpenByAgeSerializer, 400: ERRORS_400, 403: ERRORS_403},
    )
    @action(detail=False, methods=["get"], url_path="open-by-age")
    def open_by_age(self, request: Request) -> Response:
        params = self._params(request, s.ZoneQuerySerializer)
        scope = self._scope(request, params)
        day = figures.current_day()
        bars = figures.open_by_age(scope, day)
        body = {
            "zone": params.get("zone"),
            "today": day,
            "total": sum(bar.value for bar in bars),
            "rows": [{"key": bar.key, "name": bar.label, "count": bar.value} for bar in bars],
        }
        return Response(s.OpenByAgeSerializer(body).data)


def register(router: DefaultRouter) -> None:
    router.register("cockpit", CockpitViewSet, basename="cockpit")
