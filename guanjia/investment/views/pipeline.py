"""Pages: the investment home (/investment/), the pipeline (招商漏斗与投资统计) and their exports.

Promoters and leaders of a zone read them; a city's leader sees every zone of the city, or one it
picks. A zone or chain outside the user's scope is a 404; any other role is refused (403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.investment import access, exporting, pipeline
from guanjia.investment.forms.pipeline import PipelineForm, ProjectsExportForm, ScopeForm
from guanjia.investment.models import INVESTMENT_READERS

READERS = tuple(INVESTMENT_READERS)

# The investment pages the home links to: (url name, label, what it is for).
SECTIONS = (
    ("investment:chains", gettext_lazy("产业链图谱"), gettext_lazy("产业链、链环节、链上企业与缺链补链")),
    ("investment:targets", gettext_lazy("目标企业库"), gettext_lazy("按链环节寻找可招引的企业")),
    ("investment:leads", gettext_lazy("招商线索"), gettext_lazy("线索登记、接洽记录与状态")),
    ("investment:projects", gettext_lazy("招商项目"), gettext_lazy("七个一批：谋划到达产的各阶段与节点")),
    ("investment:approvals-report", gettext_lazy("审批代办"), gettext_lazy("法定、承诺与实际用时")),
    ("investment:funds", gettext_lazy("产业基金"), gettext_lazy("基金、关注领域与单笔投资范围")),
    ("investment:roadshows", gettext_lazy("路演"), gettext_lazy("路演活动、参会基金与对接成果")),
    ("investment:needs", gettext_lazy("融资需求"), gettext_lazy("企业融资需求与对接成果")),
    ("investment:pipeline", gettext_lazy("招商漏斗与投资统计"), gettext_lazy("转化率、阶段用时、签约与到资")),
)


def _scope(request: AuthedRequest, form: ScopeForm) -> pipeline.Scope:
    if form.out_of_scope():
        raise Http404(_("该园区或产业链不存在，或不在您的范围内"))
    return pipeline.scope_for(
        request.user,
        zone=form.value("zone"),
        chain=form.value("chain"),
        source=form.value("source", ""),
    )


def _query(form: ScopeForm, **extra: Any) -> str:
    """The form's valid values as a query string, for the export links."""
    values = {name: form.value(name) for name in form.fields}
    params = {name: getattr(value, "pk", value) for name, value in values.items() if value not in (None, "")}
    return urlencode({**params, **extra})


def _links() -> list[dict[str, str]]:
    return [
        {"name": name, "url": reverse(name), "label": str(label), "hint": str(hint)}
        for name, label, hint in SECTIONS
    ]


@role_required(*READERS)
def index(request: AuthedRequest) -> HttpResponse:
    """The investment home: the zone's key figures and the way to every investment page."""
    form = ScopeForm(request.GET or None, user=request.user)
    scope = _scope(request, form)
    day = access.today()
    figures = pipeline.home_figures(scope, day)
    context = {
        "page_title": _("产业链招商"),
        "form": form,
        "scope": scope,
        "figures": figures,
        "day": day,
        "links": _links(),
        "projects_query": _query(form),
    }
    return render(request, "investment/index.html", context)


def _pipeline_figures(request: AuthedRequest) -> tuple[PipelineForm, pipeline.Figures]:
    form = PipelineForm(request.GET or None, user=request.user)
    scope = _scope(request, form)
    year = form.value("year", access.today().year)
    by = form.value("by", "month")
    return form, pipeline.figures(scope, year, by, now=timezone.now())


def _funnel_chart(chart_id: str, title: str, steps: list[pipeline.Step]) -> dict[str, Any]:
    return {
        "id": chart_id,
        "script_id": f"{chart_id}-data",
        "title": title,
        "data": {
            "kind": "funnel",
            "title": title,
            "labels": [step.label for step in steps],
            "values": [step.count for step in steps],
        },
    }


def _investment_chart(chart_id: str, title: str, rows: list[pipeline.InvestmentRow]) -> dict[str, Any]:
    return {
        "id": chart_id,
        "script_id": f"{chart_id}-data",
        "title": title,
        "data": {
            "kind": "bars",
            "title": title,
            "unit": _("万元"),
            "labels": [row.label for row in rows],
            "series": [
                {"name": _("计入投资额"), "values": [float(row.counted) for row in rows]},
                {"name": _("到资"), "values": [float(row.arrived) for row in rows]},
            ],
        },
    }


@role_required(*READERS)
def pipeline_page(request: AuthedRequest) -> HttpResponse:
    """The funnel, its conversion rates per chain and per source, time in stage, and investment per period."""
    form, figures = _pipeline_figures(request)
    period = _("按月") if figures.by == "month" else _("按季度")
    context = {
        "page_title": _("招商漏斗与投资统计"),
        "form": form,
        "scope": figures.scope,
        "figures": figures,
        "lead_chart": _funnel_chart(
            "lead-funnel", _("%(year)s 年线索漏斗") % {"year": figures.year}, figures.lead_funnel
        ),
        "project_chart": _funnel_chart("project-funnel", _("项目漏斗（全部项目）"), figures.project_funnel),
        "investment_chart": _investment_chart(
            "investment-periods",
            _("%(year)s 年签约投资与到资（%(period)s）") % {"year": figures.year, "period": period},
            figures.investment,
        ),
        "step_labels": [label for _key, label in pipeline.lead_step_definitions()],
        "export_query": _query(form, year=figures.year, by=figures.by),
    }
    return render(request, "investment/pipeline/index.html", context)


@role_required(*READERS)
def pipeline_export(request: AuthedRequest) -> HttpResponse:
    """The pipeline page's tables as one workbook, a sheet per table."""
    _form, figures = _pipeline_figures(request)
    return exporting.pipeline_workbook(request.user, figures)


@role_required(*READERS)
def projects_export(request: AuthedRequest) -> HttpResponse:
    """The projects (filtered by zone, chain, source, stage) with investment, arrivals and stage dates."""
    form = ProjectsExportForm(request.GET or None, user=request.user)
    scope = _scope(request, form)
    stage = form.value("stage", "")
    projects = pipeline.projects_for_export(scope, stage)
    return exporting.projects_workbook(request.user, scope, projects, stage=stage)


urlpatterns: list[URLPattern] = [
    path("investment/", index, name="index"),
    path("investment/pipeline/", pipeline_page, name="pipeline"),
    path("investment/pipeline/export/", pipeline_export, name="pipeline-export"),
    path("investment/projects/export/", projects_export, name="projects-export"),
]
