"""Pages of investment projects (招商项目, 七个一批) and their approval agency (审批代办): the list, a new
project (directly or from a lead), a project with its stage timeline, figures, signings, arrivals and
approval checklist, the edit page, the POST endpoints of every write, and the acceleration report.

The zone's promoters (招商专员) write; its leaders read; anyone else gets 403, and a project of a zone
out of the user's scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.roles import Role
from guanjia.investment import access, approvals
from guanjia.investment import projects as services
from guanjia.investment.forms.projects import (
    AdvanceForm,
    AgentForm,
    ApprovalAddForm,
    ApprovalDateForm,
    ArrivalForm,
    CorrectForm,
    PeriodForm,
    ProjectFilterForm,
    ProjectForm,
    PromisedForm,
    RegisterForm,
    SigningForm,
)
from guanjia.investment.models import STAGES, ApprovalItem, Lead, Project, ProjectKind, Stage
from guanjia.investment.views.common import (
    KEEPERS,
    READERS,
    post_action,
    refusal_as_form_error,
    refusal_as_message,
    version_shown,
)

PAGE_SIZE = 30


def _project(request: AuthedRequest, pk: int) -> Project:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    projects = Project.objects.visible_to(request.user).select_related(
        "zone", "target", "chain", "node", "owner", "agent", "enterprise", "lead"
    )
    return get_object_or_404(projects, pk=pk)


def _to_detail(project: Project, anchor: str = "") -> HttpResponse:
    url = reverse("investment:project", args=[project.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- the list -------------------------------------------------------------------------------------------


@role_required(*READERS)
def project_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = ProjectFilterForm(request.GET or None, user=user)
    projects = Project.objects.visible_to(user)
    stage = ""
    if filters.is_valid():
        data = filters.cleaned_data
        for name in ("chain", "owner"):
            if data.get(name) is not None:
                projects = projects.filter(**{name: data[name]})
        for name in ("source", "kind"):
            if data.get(name):
                projects = projects.filter(**{name: data[name]})
        if data.get("overdue") == "yes":
            projects = services.only_overdue(projects)
        stage = data.get("stage") or ""
    # The counts on top follow every filter but the stage, so that each is the size of its own tab.
    counts = services.stage_counts(projects)
    if stage:
        projects = projects.filter(stage=stage)
    rows = services.with_figures(projects).select_related("zone", "owner", "chain", "node", "target")
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    without_stage = request.GET.copy()
    for name in ("page", "stage"):
        without_stage.pop(name, None)
    context = {
        "page_title": _("招商项目"),
        "filters": filters,
        "page": page,
        "query_string": query.urlencode(),
        "stage_query": without_stage.urlencode(),
        "stage_counts": [(s, Stage(s).label, counts[s]) for s in STAGES],
        "total": sum(counts.values()),
        "stage": stage,
        "can_keep": access.may_keep(user),
    }
    return render(request, "investment/projects/list.html", context)


# --- creating and editing -------------------------------------------------------------------------------


def _lead_of(request: AuthedRequest) -> Lead | None:
    value = request.GET.get("lead", "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    leads = Lead.objects.visible_to(request.user).select_related("zone", "target", "node__chain", "owner")
    return get_object_or_404(leads, pk=int(value))


@role_required(*KEEPERS)
def project_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    lead = _lead_of(request)
    if request.method == "POST":
        form = ProjectForm(request.POST, user=user, from_lead=lead is not None)
        if form.is_valid():
            data = form.cleaned_data
            with refusal_as_form_error(form):
                project = services.create_project(
                    zone=None if lead is not None else data["zone"],
                    lead=lead,
                    kind=data["kind"],
                    on=data.get("on"),
                    promised=form.promised(),
                    by=user,
                    **form.facts(),
                )
                messages.success(request, _("已创建招商项目“%(name)s”") % {"name": project.name})
                return _to_detail(project)
    else:
        initial: dict[str, Any] = {"owner": user.pk}
        zones = list(access.zones_of(user)[:1])
        if zones:
            initial["zone"] = zones[0].pk
        if lead is not None:
            initial["name"] = _("%(target)s项目") % {"target": lead.target.name}
            if lead.owner.has_role(Role.PROMOTER):
                initial["owner"] = lead.owner_id
        form = ProjectForm(user=user, from_lead=lead is not None, initial=initial)
    context = {"page_title": _("新建招商项目"), "form": form, "lead": lead}
    return render(request, "investment/projects/form.html", context)


@role_required(*KEEPERS)
def project_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    project = _project(request, pk)
    promised_now = dict(project.milestones.values_list("stage", "promised_on"))
    if request.method == "POST":
        form = ProjectForm(request.POST, user=user, project=project)
        if form.is_valid():
            data = form.cleaned_data
            changed = {s: d for s, d in form.promised().items() if d != promised_now.get(s)}
            with refusal_as_form_error(form):
                services.update_project(
                    project,
                    version=version_shown(data, project.version),
                    by=user,
                    promised=changed,
                    **form.facts(),
                )
                messages.success(request, _("已保存"))
                return _to_detail(project)
    else:
        initial: dict[str, Any] = {
            name: getattr(project, name)
            for name in (
                "name",
                "project_type",
                "source",
                "investment_planned",
                "investment_base",
                "land_mu",
                "expected_output",
                "expected_tax",
                "description",
                "version",
            )
        }
        initial.update(
            owner=project.owner_id, target=project.target_id, chain=project.chain_id, node=project.node_id
        )
        if project.enterprise is not None:
            initial["enterprise_uscc"] = project.enterprise.uscc
        initial.update({f"promised_{s}": d for s, d in promised_now.items()})
        form = ProjectForm(user=user, project=project, initial=initial)
    context = {"page_title": _("修改招商项目"), "form": form, "project": project}
    return render(request, "investment/projects/form.html", context)


# --- the project page ---------------------------------------------------------------------------------------


def _detail(
    request: AuthedRequest, project: Project, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    user = request.user
    today = access.today()
    bound = bound or {}
    signed = services.is_signed(project)
    can_keep = access.may_keep(user, project.zone_id)
    items = list(project.approvals.all())
    overdue_items = 0
    for item in items:
        item.overdue = approvals.is_overdue(item, today)  # type: ignore[attr-defined]
        item.late = approvals.finished_late(item)  # type: ignore[attr-defined]
        overdue_items += item.overdue  # type: ignore[attr-defined]
    steps = services.timeline(project, today)
    arrived = services.arrived_of(project)
    context: dict[str, Any] = {
        "page_title": project.name,
        "project": project,
        "steps": steps,
        "overdue_steps": sum(1 for step in steps if step.overdue),
        "counted": project.investment_counted,
        "arrived": arrived,
        "over_arrived": arrived > project.investment_counted,
        "signed": signed,
        "signings": project.signings.select_related("by"),
        "arrivals": project.arrivals.select_related("by"),
        "items": items,
        "overdue_items": overdue_items,
        "events": project.events.select_related("by"),
        "can_keep": can_keep,
        "is_increase": project.kind == ProjectKind.CAPITAL_INCREASE,
        "today": today,
    }
    if can_keep:
        forms_: dict[str, forms.Form | None] = {
            "advance_form": AdvanceForm(project=project) if project.stage != STAGES[-1] else None,
            "correct_form": CorrectForm(project=project) if project.stage != STAGES[0] else None,
            "promised_form": PromisedForm(),
            "agent_form": AgentForm(project=project),
            "signing_form": SigningForm() if signed else None,
            "arrival_form": ArrivalForm() if signed else None,
            "approval_form": ApprovalAddForm() if signed else None,
            "register_form": (
                RegisterForm(project=project)
                if signed and project.kind == ProjectKind.NEW and project.enterprise_id is None
                else None
            ),
        }
        forms_.update({f"{name}_form": form for name, form in bound.items()})
        context.update(forms_)
    return render(request, "investment/projects/detail.html", context)


@role_required(*READERS)
def project_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _project(request, pk))


def _act(request: AuthedRequest, pk: int, name: str, form_class: type[forms.Form], call: Any) -> HttpResponse:
    """A write from the project page: on success back to the page with a message, else the page again
    with the form and its errors."""
    project = _project(request, pk)
    needs_project = form_class in (AdvanceForm, CorrectForm, AgentForm, RegisterForm)
    kwargs: dict[str, Any] = {"project": project} if needs_project else {}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            message = call(project, form.cleaned_data)
        except Conflict as exc:
            # Someone changed the project meanwhile: show it as it is now, with the reason.
            messages.error(request, str(exc))
            return _to_detail(project, name)
        except services.UsccInvalid as exc:
            form.add_error("uscc", str(exc))
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return _to_detail(project, name)
    return _detail(request, _project(request, pk), bound={name: form})


@post_action(*KEEPERS)
def project_advance(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        services.advance_project(
            project,
            to=data["to"],
            on=data["on"],
            by=request.user,
            note=data["note"],
            event=data["event"],
            version=data["version"],
        )
        return _("已推进到“%(stage)s”") % {"stage": project.get_stage_display()}

    return _act(request, pk, "advance", AdvanceForm, call)


@post_action(*KEEPERS)
def project_correct(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        services.correct_project(
            project, to=data["to"], reason=data["reason"], by=request.user, version=data["version"]
        )
        return _("已将阶段更正为“%(stage)s”") % {"stage": project.get_stage_display()}

    return _act(request, pk, "correct", CorrectForm, call)


@post_action(*KEEPERS)
def project_signing(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        services.add_signing(project, event=data["event"], signed_on=data["signed_on"], by=request.user)
        return _("已登记签约活动“%(event)s”（项目只计一次）") % {"event": data["event"]}

    return _act(request, pk, "signing", SigningForm, call)


@post_action(*KEEPERS)
def project_arrival(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        services.record_arrival(
            project, amount=data["amount"], arrived_on=data["arrived_on"], note=data["note"], by=request.user
        )
        return _("已登记到资 %(amount)s 万元") % {"amount": data["amount"]}

    return _act(request, pk, "arrival", ArrivalForm, call)


@post_action(*KEEPERS)
def project_promised(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        services.set_promised(project, data["stage"], data["promised_on"], by=request.user)
        return _("已保存%(stage)s的约定日期") % {"stage": Stage(data["stage"]).label}

    return _act(request, pk, "promised", PromisedForm, call)


@post_action(*KEEPERS)
def project_agent(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        approvals.assign_agent(project, agent=data["agent"], by=request.user)
        return _("代办员已设为 %(agent)s") % {"agent": data["agent"]}

    return _act(request, pk, "agent", AgentForm, call)


@post_action(*KEEPERS)
def project_approval_add(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        approvals.add_item(
            project,
            name=data["name"],
            statutory_days=data["statutory_days"],
            promised_days=data["promised_days"],
            note=data["note"],
            by=request.user,
        )
        return _("已新增审批事项“%(name)s”") % {"name": data["name"]}

    return _act(request, pk, "approval", ApprovalAddForm, call)


@post_action(*KEEPERS)
def project_register(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(project: Project, data: dict[str, Any]) -> str:
        enterprise = services.register_project_enterprise(
            project, uscc=data["uscc"], name=data["name"], steward=data["steward"], by=request.user
        )
        return _("已注册为企业“%(name)s”，服务管家：%(steward)s") % {
            "name": enterprise.name,
            "steward": enterprise.steward,
        }

    return _act(request, pk, "register", RegisterForm, call)


def _item(request: AuthedRequest, pk: int) -> ApprovalItem:
    visible = Project.objects.visible_to(request.user)
    return get_object_or_404(
        ApprovalItem.objects.filter(project__in=visible).select_related("project"), pk=pk
    )


def _item_act(request: AuthedRequest, pk: int, start: bool) -> HttpResponse:
    item = _item(request, pk)
    form = ApprovalDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("“%(name)s”：请填写有效的日期") % {"name": item.name})
        return _to_detail(item.project, "approvals")
    with refusal_as_message(request):
        if start:
            approvals.start_item(item, on=form.cleaned_data["on"], by=request.user)
            message = _("“%(name)s”已受理，承诺 %(day)s 前办结") % {
                "name": item.name,
                "day": item.promised_by,
            }
        else:
            approvals.finish_item(item, on=form.cleaned_data["on"], by=request.user)
            message = _("“%(name)s”已办结，用时 %(n)s 个工作日") % {"name": item.name, "n": item.actual_days}
        messages.success(request, message)
    return _to_detail(item.project, "approvals")


@post_action(*KEEPERS)
def approval_start(request: AuthedRequest, pk: int) -> HttpResponse:
    return _item_act(request, pk, start=True)


@post_action(*KEEPERS)
def approval_finish(request: AuthedRequest, pk: int) -> HttpResponse:
    return _item_act(request, pk, start=False)


# --- 行政审批加速度 --------------------------------------------------------------------------------------------


@role_required(*READERS)
def approvals_report(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = PeriodForm(request.GET, user=user)
    report = None
    if form.is_valid():
        data = form.cleaned_data
        zone_ids = [data["zone"].pk] if data.get("zone") else user.zone_ids()
        report = approvals.acceleration(zone_ids, data["start"], data["end"])
    context = {"page_title": _("行政审批加速度"), "form": form, "report": report}
    return render(request, "investment/projects/approvals_report.html", context)


urlpatterns: list[URLPattern] = [
    path("investment/projects/", project_list, name="projects"),
    path("investment/projects/new/", project_new, name="project-new"),
    path("investment/projects/<int:pk>/", project_detail, name="project"),
    path("investment/projects/<int:pk>/edit/", project_edit, name="project-edit"),
    path("investment/projects/<int:pk>/advance/", project_advance, name="project-advance"),
    path("investment/projects/<int:pk>/correct/", project_correct, name="project-correct"),
    path("investment/projects/<int:pk>/signings/", project_signing, name="project-signing"),
    path("investment/projects/<int:pk>/arrivals/", project_arrival, name="project-arrival"),
    path("investment/projects/<int:pk>/promised/", project_promised, name="project-promised"),
    path("investment/projects/<int:pk>/agent/", project_agent, name="project-agent"),
    path("investment/projects/<int:pk>/approvals/", project_approval_add, name="project-approval-add"),
    path("investment/projects/<int:pk>/register/", project_register, name="project-register"),
    path("investment/approval-items/<int:pk>/start/", approval_start, name="approval-start"),
    path("investment/approval-items/<int:pk>/finish/", approval_finish, name="approval-finish"),
    path("investment/approvals/report/", approvals_report, name="approvals-report"),
]
