"""Pages of the listing pipeline (上市后备企业库): the list with its filters, figures and export, a new
candidate, a candidate with its stage timeline, intermediaries, problems and supports, and the POST
endpoints of every write.

Readers (access.may_read) open the pages; anyone else gets 403, and a candidate out of the user's scope
is a 404. The zone's promoters write, its leaders and supervisors correct a stage, the enterprise's
steward raises a problem as an appeal; anyone else who sees the candidate gets 403 on those writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals.models import Appeal
from guanjia.capital import access, exporting, listings
from guanjia.capital.forms import (
    CandidateForm,
    CorrectForm,
    FilterForm,
    IntermediaryForm,
    MoveForm,
    ProblemForm,
    SupportForm,
)
from guanjia.capital.models import LISTING_STAGES, ListingCandidate, ListingProblem
from guanjia.core.decorators import AuthedRequest
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.roles import Role
from guanjia.core.views_common import allowed_if, post_action, refusal_as_form_error

PAGE_SIZE = 30
NO_ACCESS = gettext_lazy("您的角色无权查看上市后备企业库")
reads = allowed_if(access.may_read, NO_ACCESS)
writes = allowed_if(lambda user: access.may_write(user), gettext_lazy("只有招商专员可以新增上市后备企业"))


def _candidate(request: AuthedRequest, pk: int) -> ListingCandidate:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    candidates = ListingCandidate.objects.visible_to(request.user).select_related("enterprise", "zone")
    return get_object_or_404(candidates, pk=pk)


def _to_detail(candidate: ListingCandidate, anchor: str = "") -> HttpResponse:
    url = reverse("capital:listing", args=[candidate.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _filtered(request: AuthedRequest) -> tuple[FilterForm, QuerySet[ListingCandidate], str, dict[str, Any]]:
    """The candidates the user sees with the filters but the stage (the cards count every stage), the
    stage filter, and the filters as the audit records them."""
    user = request.user
    filters = FilterForm(request.GET or None, user=user)
    candidates = ListingCandidate.objects.visible_to(user)
    stage, applied = "", {}
    if filters.is_valid():
        data = filters.cleaned_data
        if data.get("board"):
            candidates = candidates.filter(board=data["board"])
            applied["board"] = data["board"]
        if data.get("chain") is not None:
            on_chain = ListingCandidate.objects.filter(
                enterprise__chain_placements__node__chain=data["chain"]
            )
            candidates = candidates.filter(pk__in=on_chain.values("pk"))
            applied["chain"] = data["chain"].pk
        stage = data.get("stage") or ""
        if stage:
            applied["stage"] = stage
    return filters, candidates, stage, applied


@reads
def listing_list(request: AuthedRequest) -> HttpResponse:
    filters, candidates, stage, _applied = _filtered(request)
    figures = listings.figures(candidates)
    if stage:
        candidates = candidates.filter(stage=stage)
    rows = (
        listings.with_figures(candidates)
        .select_related("enterprise", "zone")
        .order_by("zone_id", "stage", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    chains = listings.chains_of([candidate.pk for candidate in page])
    today = access.today()
    for candidate in page:
        candidate.chains = chains.get(candidate.pk, [])  # type: ignore[attr-defined]
        candidate.days = listings.days_in_stage(candidate, today)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    without_stage = query.copy()
    without_stage.pop("stage", None)
    context = {
        "page_title": _("上市后备企业库"),
        "filters": filters,
        "page": page,
        "query_string": query.urlencode(),
        "stage_query": without_stage.urlencode(),
        "figures": figures,
        "stage": stage,
        "can_write": access.may_write(request.user),
    }
    return render(request, "capital/listings/list.html", context)


@reads
def listing_export(request: AuthedRequest) -> HttpResponse:
    _filters, candidates, stage, applied = _filtered(request)
    if stage:
        candidates = candidates.filter(stage=stage)
    return exporting.export_listings(candidates, request.user, filters=applied)


@writes
def listing_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = CandidateForm(request.POST, user=user)
        if form.is_valid():
            with refusal_as_form_error(form):
                candidate = listings.create_candidate(by=user, **form.cleaned_data)
                messages.success(
                    request, _("已将“%(name)s”纳入上市后备企业库") % {"name": candidate.enterprise.name}
                )
                return _to_detail(candidate)
    else:
        form = CandidateForm(user=user)
    return render(request, "capital/listings/form.html", {"page_title": _("新增上市后备企业"), "form": form})


def _detail(
    request: AuthedRequest, candidate: ListingCandidate, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    user = request.user
    can_write = access.may_write(user, candidate.zone_id)
    can_correct = access.may_correct(user, candidate.zone_id)
    can_raise = access.may_raise(user, candidate)
    intermediaries = list(candidate.intermediaries.all())
    for intermediary in intermediaries:
        intermediary.shown_phone = access.phone_for(user, candidate, intermediary.phone)  # type: ignore[attr-defined]
    problems = list(candidate.problems.select_related("appeal", "raised_by"))
    raised = [problem.appeal_id for problem in problems if problem.appeal_id]
    visible_appeals = set(Appeal.objects.visible_to(user).filter(pk__in=raised).values_list("pk", flat=True))
    for problem in problems:
        problem.appeal_visible = problem.appeal_id in visible_appeals  # type: ignore[attr-defined]
    supports = list(candidate.supports.select_related("delivery__item"))
    current = LISTING_STAGES.index(candidate.stage)
    reached = {move.to_stage: move.on for move in candidate.moves.filter(voided=False).order_by("on", "pk")}
    steps = [
        {
            "stage": stage,
            "label": listings.stage_label(stage),
            "on": reached.get(stage) if index <= current else None,
            "current": index == current,
            "done": index < current,
        }
        for index, stage in enumerate(LISTING_STAGES)
    ]
    context: dict[str, Any] = {
        "page_title": candidate.enterprise.name,
        "candidate": candidate,
        "chains": listings.chains_of([candidate.pk]).get(candidate.pk, []),
        "days": listings.days_in_stage(candidate),
        "steps": steps,
        "history": listings.history(candidate),
        "intermediaries": intermediaries,
        "problems": problems,
        "supports": supports,
        "support_total": sum((s.amount for s in supports if s.amount is not None), listings.ZERO),
        "can_write": can_write,
        "can_correct": can_correct,
        "can_raise": can_raise,
    }
    if can_write:
        context.update(
            move_form=MoveForm(candidate=candidate) if candidate.stage != LISTING_STAGES[-1] else None,
            intermediary_form=IntermediaryForm(),
            problem_form=ProblemForm(),
            support_form=SupportForm(candidate=candidate),
        )
    if can_correct:
        context["correct_form"] = CorrectForm(candidate=candidate)
    context.update({f"{name}_form": form for name, form in (bound or {}).items()})
    return render(request, "capital/listings/detail.html", context)


@reads
def listing_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _candidate(request, pk))


def _act(
    request: AuthedRequest,
    pk: int,
    name: str,
    may: Callable[[ListingCandidate], bool],
    make_form: Callable[..., forms.Form],
    call: Callable[[ListingCandidate, dict[str, Any]], str],
) -> HttpResponse:
    """A write from the candidate page: 404 out of scope, 403 for a reader who may not, then the form; on
    success back to the page with a message, else the page again with the form and its errors."""
    candidate = _candidate(request, pk)
    if not may(candidate):
        raise PermissionDenied(_("您无权对该企业执行此操作"))
    form = make_form(request.POST, candidate)
    if form.is_valid():
        try:
            message = call(candidate, form.cleaned_data)
        except Conflict as exc:
            messages.error(request, str(exc))
            return _to_detail(candidate, name)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return _to_detail(candidate, name)
    return _detail(request, _candidate(request, pk), bound={name: form})


@post_action(Role.PROMOTER)
def listing_move(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(candidate: ListingCandidate, data: dict[str, Any]) -> str:
        listings.move_stage(candidate, by=request.user, **data)
        return _("已推进到“%(stage)s”") % {"stage": candidate.get_stage_display()}

    return _act(
        request,
        pk,
        "move",
        lambda c: access.may_write(request.user, c.zone_id),
        lambda data, c: MoveForm(data, candidate=c),
        call,
    )


@post_action(Role.LEADER, Role.SUPERVISOR)
def listing_correct(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(candidate: ListingCandidate, data: dict[str, Any]) -> str:
        listings.correct_stage(candidate, by=request.user, **data)
        return _("已将阶段更正为“%(stage)s”") % {"stage": candidate.get_stage_display()}

    return _act(
        request,
        pk,
        "correct",
        lambda c: access.may_correct(request.user, c.zone_id),
        lambda data, c: CorrectForm(data, candidate=c),
        call,
    )


@post_action(Role.PROMOTER)
def listing_intermediary(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(candidate: ListingCandidate, data: dict[str, Any]) -> str:
        listings.add_intermediary(candidate, by=request.user, **data)
        return _("已登记中介机构“%(firm)s”") % {"firm": data["firm"]}

    return _act(
        request,
        pk,
        "intermediary",
        lambda c: access.may_write(request.user, c.zone_id),
        lambda data, c: IntermediaryForm(data),
        call,
    )


@post_action(Role.PROMOTER)
def listing_problem(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(candidate: ListingCandidate, data: dict[str, Any]) -> str:
        listings.add_problem(candidate, by=request.user, **data)
        return _("已登记问题；该企业的服务管家可将其转为诉求")

    return _act(
        request,
        pk,
        "problem",
        lambda c: access.may_write(request.user, c.zone_id),
        lambda data, c: ProblemForm(data),
        call,
    )


@post_action(Role.PROMOTER)
def listing_support(request: AuthedRequest, pk: int) -> HttpResponse:
    def call(candidate: ListingCandidate, data: dict[str, Any]) -> str:
        support = listings.add_support(candidate, by=request.user, **data)
        return _("已登记支持事项“%(what)s”") % {"what": support.what}

    return _act(
        request,
        pk,
        "support",
        lambda c: access.may_write(request.user, c.zone_id),
        lambda data, c: SupportForm(data, candidate=c),
        call,
    )


@post_action(Role.STEWARD)
def problem_raise(request: AuthedRequest, pk: int) -> HttpResponse:
    visible = ListingCandidate.objects.visible_to(request.user)
    problem = get_object_or_404(
        ListingProblem.objects.filter(candidate__in=visible).select_related("candidate__enterprise"), pk=pk
    )
    if not access.may_raise(request.user, problem.candidate):
        raise PermissionDenied(_("只有该企业的服务管家可以将问题转为诉求"))
    try:
        appeal = listings.raise_problem(problem, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已转为诉求 #%(n)s，进入诉求闭环办理") % {"n": appeal.pk})
    return _to_detail(problem.candidate, "problems")


urlpatterns: list[URLPattern] = [
    path("capital/listings/", listing_list, name="listings"),
    path("capital/listings/export/", listing_export, name="listings-export"),
    path("capital/listings/new/", listing_new, name="listing-new"),
    path("capital/listings/<int:pk>/", listing_detail, name="listing"),
    path("capital/listings/<int:pk>/move/", listing_move, name="listing-move"),
    path("capital/listings/<int:pk>/correct/", listing_correct, name="listing-correct"),
    path("capital/listings/<int:pk>/intermediaries/", listing_intermediary, name="listing-intermediary"),
    path("capital/listings/<int:pk>/problems/", listing_problem, name="listing-problem"),
    path("capital/listings/<int:pk>/supports/", listing_support, name="listing-support"),
    path("capital/listing-problems/<int:pk>/raise/", problem_raise, name="listing-problem-raise"),
]
