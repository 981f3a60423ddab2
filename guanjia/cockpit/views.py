"""驾驶舱: the leader's page of figures, the rows behind each figure (穿透), and the rankings.

Leaders and supervisors see their own zones (a city leader: every zone of the city, or one it
picks); a zone outside that is a 404. Every table can be downloaded as Excel (?format=xlsx&table=…).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import kpi
from guanjia.cockpit import drill, exporting, figures, ranking, stewards
from guanjia.cockpit.forms import PeriodForm
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.models import OrgUnit

DRILL_PER_PAGE = 50


def _int_param(request: AuthedRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(_("参数 %(name)s 有误") % {"name": name})
    return int(raw)


class Links:
    """URLs of the cockpit's pages for one scope and period: every figure links to its rows."""

    def __init__(self, scope: figures.CockpitScope, period: kpi.Period, name: str) -> None:
        self.scope = scope
        self.period = period
        self.name = name
        self.base: dict[str, Any] = {}
        if scope.zone is not None and scope.many_zones:
            self.base["zone"] = scope.zone.pk

    @property
    def period_query(self) -> dict[str, str]:
        return {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}

    def page_query(self, **extra: Any) -> str:
        query: dict[str, Any] = {**self.base, "period": self.name}
        if self.name == "custom":
            query.update(self.period_query)
        return urlencode({**query, **extra})

    def drill(self, **params: Any) -> str:
        query = {**self.base, **self.period_query, **{k: v for k, v in params.items() if v is not None}}
        return f"{reverse('cockpit:drill')}?{urlencode(query)}"

    def kpi(self, code: str, part: str, *, zone: int | None = None, department: int | None = None) -> str:
        params: dict[str, Any] = {"kpi": code, "part": part, "department": department}
        if zone is not None:
            params["zone"] = zone
        return self.drill(**params)


def _scope_and_period(request: AuthedRequest) -> tuple[figures.CockpitScope, PeriodForm, str, kpi.Period]:
    day = figures.current_day()
    scope = figures.resolve_scope(request.user, _int_param(request, "zone"))
    form = PeriodForm(request.GET or None, day=day)
    name, period = form.chosen()
    return scope, form, name, period


def _kpi_rows(cards: list[figures.KpiCard], links: Links) -> list[dict[str, Any]]:
    return [
        {
            "card": card,
            "value": figures.show(card.current, card.code),
            "previous": figures.show(card.previous, card.code),
            "numerator_url": links.kpi(card.code, "numerator"),
            "denominator_url": links.kpi(card.code, "denominator"),
        }
        for card in cards
    ]


def _chart(chart_id: str, title: str, bars: list[figures.Bar], links: list[str]) -> dict[str, Any]:
    return {
        "id": chart_id,
        "script_id": f"{chart_id}-data",
        "title": title,
        "rows": [{"bar": bar, "url": url} for bar, url in zip(bars, links, strict=True)],
        "data": {
            "title": title,
            "labels": [bar.label for bar in bars],
            "values": [bar.value for bar in bars],
            "links": links,
        },
        "total": sum(bar.value for bar in bars),
    }


@role_required(*figures.COCKPIT_ROLES)
def cockpit(request: AuthedRequest) -> HttpResponse:
    """The figures of the user's scope for the chosen period, each linked to the rows behind it."""
    scope, form, name, period = _scope_and_period(request)
    links = Links(scope, period, name)
    day = figures.current_day()
    axis = figures.time_axis(period)
    time_bars = figures.volume_by(scope, period, axis)
    category_bars = figures.volume_by(scope, period, "category")
    channel_bars = figures.volume_by(scope, period, "channel")
    age_bars = figures.open_by_age(scope, day)
    charts = [
        _chart(
            "volume-time",
            _("按日诉求量") if axis == "day" else _("按周诉求量"),
            time_bars,
            [links.drill(kind="volume", by=axis, key=bar.key) for bar in time_bars],
        ),
        _chart(
            "volume-category",
            _("按类别诉求量"),
            category_bars,
            [links.drill(kind="volume", by="category", key=bar.key) for bar in category_bars],
        ),
        _chart(
            "volume-channel",
            _("按渠道诉求量"),
            channel_bars,
            [links.drill(kind="volume", by="channel", key=bar.key) for bar in channel_bars],
        ),
        _chart(
            "open-age",
            _("在办诉求按已历时长"),
            age_bars,
            [links.drill(kind="age", key=bar.key) for bar in age_bars],
        ),
    ]
    cards = figures.kpi_cards(scope, period)
    zone_rows = [
        {
            "zone": row["zone"],
            "cells": [
                {
                    "value": figures.show(row["kpis"][code], code),
                    "n": row["kpis"][code].denominator,
                    "url": links.kpi(code, "denominator", zone=row["zone"].pk),
                }
                for code in kpi.KPIS
            ],
        }
        for row in figures.zone_rows(scope, period)
    ]
    tables = {
        "kpis": cards,
        "charts": charts,
        "zones": zone_rows,
        "visits": figures.visit_rows(scope, day),
        "campaigns": figures.running_campaigns(scope, day),
    }
    if request.GET.get("format") == "xlsx":
        return exporting.cockpit_table(request.user, request.GET.get("table", ""), tables, scope, period)
    context = {
        "page_title": _("驾驶舱"),
        "scope": scope,
        "zones": figures.zones_of(scope) if scope.many_zones else [],
        "form": form,
        "period": period,
        "period_name": name,
        "period_label": dict(figures.PERIOD_CHOICES)[name],
        "previous": figures.previous_period(period),
        "kpis": _kpi_rows(cards, links),
        "charts": charts,
        "red_cards": figures.red_cards(scope, period),
        "red_url": links.drill(kind="red"),
        "zone_rows": zone_rows,
        "kpi_labels": list(kpi.KPIS.values()),
        "visits": tables["visits"],
        "campaigns": tables["campaigns"],
        "links": links,
        "export_query": links.page_query(format="xlsx"),
        "day": day,
        "may_see_stewards": stewards.steward_zone(request.user) is not None,
    }
    return render(request, "cockpit/index.html", context)


def _drill_from_request(request: AuthedRequest, scope: figures.CockpitScope) -> drill.Drill:
    get = request.GET
    kind = get.get("kind") or ("kpi" if get.get("kpi") else "")
    if kind not in drill.KINDS:
        raise drill.DrillError(_("请指明要穿透的数字（kind 或 kpi 参数）"))
    period = None
    if kind != "age":
        try:
            period = kpi.Period(
                date.fromisoformat(get.get("start", "")), date.fromisoformat(get.get("end", ""))
            )
        except ValueError as error:
            raise drill.DrillError(_("统计期有误：start、end 应为 YYYY-MM-DD，且结束晚于开始")) from error
    department = _int_param(request, "department")
    if (
        department is not None
        and not OrgUnit.objects.filter(
            pk=department, kind=OrgUnit.Kind.DEPARTMENT, parent_id__in=scope.zone_ids
        ).exists()
    ):
        raise Http404(_("该部门不在您的范围内"))
    return drill.Drill(
        kind=kind,
        zone_ids=scope.zone_ids,
        period=period,
        code=get.get("kpi", ""),
        part=get.get("part") or "denominator",
        department_id=department,
        by=get.get("by", ""),
        key=get.get("key", ""),
    )


def _drill_title(target: drill.Drill) -> str:
    if target.kind == "kpi":
        label = kpi.KPIS.get(target.code, target.code)
        if target.code == "mean_handling_days":
            return _("%(kpi)s：计入的答复记录") % {"kpi": label}
        part = _("分子") if target.part == "numerator" else _("分母（样本数 n）")
        return f"{label} · {part}"
    if target.kind == "volume":
        return _("诉求量：%(key)s") % {"key": target.key}
    if target.kind == "age":
        return _("在办诉求（按已历时长）")
    return _("红牌督办")


@role_required(*figures.COCKPIT_ROLES)
def drill_down(request: AuthedRequest) -> HttpResponse:
    """The rows one figure counts: its count is the figure (平均办理时长: the days add up to its numerator)."""
    scope = figures.resolve_scope(request.user, _int_param(request, "zone"))
    day = figures.current_day()
    try:
        target = _drill_from_request(request, scope)
        found = drill.with_related(drill.rows(target, user=request.user, day=day, now=timezone.now()), target)
        total = found.count()
    except drill.DrillError as error:
        refused = {"page_title": _("穿透查询"), "error": str(error)}
        return render(request, "cockpit/drill.html", refused, status=400)
    if request.GET.get("format") == "xlsx":
        return exporting.drill_table(request.user, target, found, title=_drill_title(target))
    page = Paginator(found, DRILL_PER_PAGE).get_page(request.GET.get("page"))
    table = drill.table(target, page.object_list, request.user)
    days_total = None
    if target.kind == "kpi" and target.code == "mean_handling_days":
        days_total = kpi.all_kpis(
            kpi.Scope(
                zone_ids=target.zone_ids,
                department_ids=[target.department_id] if target.department_id else None,
            ),
            target.period,  # type: ignore[arg-type]
        )["mean_handling_days"].numerator
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "xlsx"
    context: dict[str, Any] = {
        "page_title": _("穿透查询"),
        "title": _drill_title(target),
        "scope": scope,
        "target": target,
        "total": total,
        "page": page,
        "table": table,
        "days_total": days_total,
        "export_query": query.urlencode(),
        "department": OrgUnit.objects.filter(pk=target.department_id).first()
        if target.department_id
        else None,
    }
    return render(request, "cockpit/drill.html", context)


def ranking_tables(
    scope: figures.CockpitScope, period: kpi.Period, links: Links | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Departments and zones: every KPI with its n and rank, and the composite score."""
    result: dict[str, list[dict[str, Any]]] = {}
    for level, units in (
        ("department", kpi.by_department(scope.kpi_scope, period)),
        ("zone", kpi.by_zone(scope.kpi_scope, period)),
    ):
        names = dict(OrgUnit.objects.filter(pk__in=[u.unit_id for u in units]).values_list("pk", "name"))
        places = {code: {r.unit_id: r.rank for r in ranking.rank(units, code)} for code in kpi.KPIS}
        rows = []
        for score in ranking.rank_composite(units):
            unit = next(u for u in units if u.unit_id == score.unit_id)
            cells = []
            for code in kpi.KPIS:
                value = unit.kpis[code]
                url = None
                if links is not None:
                    url = (
                        links.kpi(code, "denominator", department=unit.unit_id)
                        if level == "department"
                        else links.kpi(code, "denominator", zone=unit.unit_id)
                    )
                cells.append(
                    {
                        "code": code,
                        "value": figures.show(value, code),
                        "n": value.denominator,
                        "rank": places[code][unit.unit_id],
                        "url": url,
                    }
                )
            rows.append(
                {"unit_id": unit.unit_id, "name": names.get(unit.unit_id, ""), "score": score, "cells": cells}
            )
        result[level] = rows
    return result


@role_required(*figures.COCKPIT_ROLES)
def rankings(request: AuthedRequest) -> HttpResponse:
    """Departments and zones side by side on every KPI with n, and the stewards for their zone's leaders."""
    scope, form, name, period = _scope_and_period(request)
    links = Links(scope, period, name)
    tables = ranking_tables(scope, period, links)
    zone = stewards.steward_zone(request.user)
    steward_table = stewards.steward_rows(zone, period, figures.current_day()) if zone is not None else None
    if request.GET.get("format") == "xlsx":
        return exporting.ranking_table(
            request.user, request.GET.get("table", ""), tables, steward_table, period
        )
    context = {
        "page_title": _("比学赶超 · 排名"),
        "scope": scope,
        "zones": figures.zones_of(scope) if scope.many_zones else [],
        "form": form,
        "period": period,
        "period_name": name,
        "departments": tables["department"],
        "zone_table": tables["zone"],
        "kpi_labels": list(kpi.KPIS.values()),
        "stewards": steward_table,
        "steward_zone": zone,
        "min_n": ranking.MIN_N,
        "weights": [
            (kpi.KPIS[code], int(weight * 100)) for code, weight in ranking.COMPOSITE_WEIGHTS.items()
        ],
        "export_query": links.page_query(format="xlsx"),
        "page_query": links.page_query(),
    }
    return render(request, "cockpit/rankings.html", context)
