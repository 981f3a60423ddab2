"""Pages of practices (经验做法) and their adoptions: the list with its counts per stage and filters, a
practice with its adoptions and their stage dates, the new and edit pages (a cadre proposes from its
own secondment: ?secondment=<pk>), an adoption's new page and its one-step advance, and an adoption's
effect page (its KPI in the quarters before and after the trial, side by side, with n).

The zone's supervisors (效能督查) keep practices and adoptions; its leaders read them; a seconded cadre
reads and writes the practices of its own secondments and reads their adoptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

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
from django.views.decorators.http import require_POST

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.roles import Role
from guanjia.exchange import effects
from guanjia.exchange import practices as services
from guanjia.exchange.forms.practices import (
    FURTHEST_CHOICES,
    AdoptionForm,
    AdvanceForm,
    PracticeFilter,
    PracticeForm,
    QuartersForm,
)
from guanjia.exchange.models import Adoption, AdoptionStage, Practice

PAGE_SIZE = 20

READERS = (Role.SUPERVISOR, Role.LEADER, Role.SECONDED_CADRE)
PROPOSERS = (Role.SUPERVISOR, Role.SECONDED_CADRE)
KEEPERS = (Role.SUPERVISOR,)

# The button that takes an adoption to each stage.
ADVANCE_LABELS: dict[str, Any] = {
    AdoptionStage.TRIAL: gettext_lazy("进入试行"),
    AdoptionStage.ROLLOUT: gettext_lazy("全面推广"),
}


@contextmanager
def refusal_as_form_error(form: forms.BaseForm) -> Iterator[None]:
    """Run a form's write: a service's refusal becomes the form's error, and the page shows it again."""
    try:
        yield
    except ServiceError as exc:
        form.add_error(None, str(exc))


def _practices(request: AuthedRequest) -> QuerySet[Practice]:
    return Practice.objects.visible_to(request.user)


def _practice(request: AuthedRequest, pk: int) -> Practice:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(
        _practices(request).select_related("zone", "created_by", "secondment__cadre", "secondment__pairing"),
        pk=pk,
    )


def _adoption(request: AuthedRequest, pk: int) -> Adoption:
    return get_object_or_404(
        Adoption.objects.visible_to(request.user).select_related("practice__zone", "unit", "created_by"),
        pk=pk,
    )


def _secondment_url(practice: Practice) -> str:
    return reverse("exchange:secondment", args=[practice.secondment_id]) if practice.secondment_id else ""


# --- the list ------------------------------------------------------------------------------------------------


@role_required(*READERS)
def practice_list(request: AuthedRequest) -> HttpResponse:
    visible = _practices(request)
    filters = PracticeFilter(request.GET or None, queryset=visible, request=request)
    found = filters.qs if filters.is_bound else visible
    # The counts per stage follow every filter but the stage itself, so each tab shows what it would list.
    others = request.GET.copy()
    others.pop("stage", None)
    others.pop("page", None)
    unstaged = PracticeFilter(others or None, queryset=visible, request=request)
    counts = services.furthest_counts(unstaged.qs if unstaged.is_bound else visible)
    rows = services.with_stage_counts(found).select_related("zone", "secondment__cadre")
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    stage = getattr(filters.form, "cleaned_data", {}).get("stage", "") if filters.is_bound else ""
    tabs = [
        {
            "value": value,
            "label": label,
            "count": counts[value],
            "active": stage == value,
            "query": urlencode({**others.dict(), "stage": value}),
        }
        for value, label in FURTHEST_CHOICES
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("经验做法"),
        "filters": filters,
        "stage": stage,
        "page": page,
        "tabs": tabs,
        "total": sum(counts.values()),
        "all_query": others.urlencode(),
        "query_string": query.urlencode(),
        "many_zones": len(request.user.zone_ids()) > 1,
        "can_create": services.may_propose(request.user),
    }
    return render(request, "exchange/practices/list.html", context)


# --- a new practice, and its edit ------------------------------------------------------------------------------


@role_required(*PROPOSERS)
def practice_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not services.may_propose(user):
        raise PermissionDenied(_("只有效能督查人员或挂职干部可以记录经验做法"))
    initial: dict[str, Any] = {}
    chosen = request.GET.get("secondment", "")
    if chosen.isdigit():
        secondment = services.secondments_for(user).filter(pk=chosen).first()
        if secondment is not None:
            initial.update(secondment=secondment.pk, zone=secondment.pairing.zone_id)
    form = PracticeForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            practice = services.create_practice(
                by=user,
                zone=data.get("zone"),
                secondment=data.get("secondment"),
                title=data["title"],
                description=data["description"],
                seen_at=data["seen_at"],
                learned_by=data["learned_by"],
            )
            messages.success(request, _("已记录经验做法：%(title)s") % {"title": practice.title})
            return redirect("exchange:practice", pk=practice.pk)
    context = {"page_title": _("记录经验做法"), "form": form}
    return render(request, "exchange/practices/form.html", context)


@role_required(*PROPOSERS)
def practice_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    practice = _practice(request, pk)
    if not services.may_edit_practice(request.user, practice):
        raise PermissionDenied(_("只有本园区的效能督查人员或该挂职干部本人可以修改此经验做法"))
    initial = {
        "secondment": practice.secondment_id,
        "title": practice.title,
        "description": practice.description,
        "seen_at": practice.seen_at,
        "learned_by": practice.learned_by,
        "version": practice.version,
    }
    form = PracticeForm(request.POST or None, user=request.user, practice=practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in ("title", "description", "seen_at", "learned_by")}
        if "secondment" in form.fields:
            changes["secondment"] = data.get("secondment")
        version = data.get("version")
        with refusal_as_form_error(form):
            services.update_practice(
                practice,
                by=request.user,
                version=version if version is not None else practice.version,
                **changes,
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:practice", pk=practice.pk)
    context = {"page_title": _("修改经验做法"), "form": form, "practice": practice}
    return render(request, "exchange/practices/form.html", context)


# --- a practice ------------------------------------------------------------------------------------------------


def _adoption_rows(practice: Practice, keeper: bool, failed: tuple[int, AdvanceForm] | None) -> list[Any]:
    rows = []
    for adoption in practice.adoptions.select_related("unit").order_by("pk"):
        step = services.next_stage(adoption)
        form = None
        if keeper and step is not None:
            if failed is not None and failed[0] == adoption.pk:
                form = failed[1]
            else:
                initial = {"to_stage": step, "on": services.today(), "version": adoption.version}
                form = AdvanceForm(initial=initial, prefix=f"advance-{adoption.pk}")
            form.fields["on"].label = _("%(stage)s日期") % {"stage": AdoptionStage(step).label}
        rows.append(
            {
                "adoption": adoption,
                "kpi_label": effects.kpi_label(adoption.kpi),
                "next": step,
                "next_label": ADVANCE_LABELS.get(step, "") if step else "",
                "form": form,
            }
        )
    return rows


def _detail(request: AuthedRequest, practice: Practice, failed: tuple[int, AdvanceForm] | None = None) -> Any:
    user = request.user
    keeper = services.may_keep_practice(user, practice)
    context = {
        "page_title": practice.title,
        "practice": practice,
        "keeper": keeper,
        "editable": services.may_edit_practice(user, practice),
        "secondment_url": _secondment_url(practice),
        "adoptions": _adoption_rows(practice, keeper, failed),
        "may_adopt": keeper
        and services.adopting_units(practice).exclude(pk__in=practice.adoptions.values("unit_id")).exists(),
    }
    return render(request, "exchange/practices/detail.html", context)


@role_required(*READERS)
def practice_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _practice(request, pk))


# --- adoptions ---------------------------------------------------------------------------------------------------


@role_required(*KEEPERS)
def adoption_new(request: AuthedRequest, pk: int) -> HttpResponse:
    practice = _practice(request, pk)
    if not services.may_keep_practice(request.user, practice):
        raise PermissionDenied(_("只有本园区的效能督查人员可以登记采纳"))
    form = AdoptionForm(request.POST or None, practice=practice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            adoption = services.add_adoption(
                practice,
                unit=data["unit"],
                kpi=data["kpi"],
                referenced_on=data["referenced_on"],
                note=data["note"],
                by=request.user,
            )
            messages.success(request, _("已登记 %(unit)s 借鉴此经验做法") % {"unit": adoption.unit})
            return redirect("exchange:practice", pk=practice.pk)
    context = {"page_title": _("登记采纳"), "form": form, "practice": practice}
    return render(request, "exchange/practices/adoption_form.html", context)


@require_POST
@role_required(*KEEPERS)
def adoption_advance(request: AuthedRequest, pk: int) -> HttpResponse:
    adoption = _adoption(request, pk)
    practice = _practice(request, adoption.practice_id)
    if not services.may_keep_practice(request.user, practice):
        raise PermissionDenied(_("只有本园区的效能督查人员可以推进采纳阶段"))
    form = AdvanceForm(request.POST, prefix=f"advance-{adoption.pk}")
    if form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.advance(
                adoption, to_stage=data["to_stage"], on=data["on"], version=data["version"], by=request.user
            )
            messages.success(
                request,
                _("%(unit)s 已进入“%(stage)s”阶段")
                % {"unit": adoption.unit, "stage": adoption.get_stage_display()},
            )
            return redirect("exchange:practice", pk=practice.pk)
    # The refusal is shown beside the adoption's own form, with what was entered.
    return _detail(request, practice, failed=(adoption.pk, form))


def _chart(effect: effects.Effect) -> dict[str, Any]:
    """The bars of the effect page: the quarters before, then after, one series per side (the same
    numbers as the tables)."""
    code = effect.kpi
    before = [effects.chart_value(code, f.value.value) for f in effect.before]
    after = [effects.chart_value(code, f.value.value) for f in effect.after]
    gap_before, gap_after = [None] * len(before), [None] * len(after)
    return {
        "title": str(effect.kpi_label),
        "unit": "%" if effect.is_share else _("个工作日"),
        "labels": [f.quarter.short_label for f in (*effect.before, *effect.after)],
        "n": [f.value.denominator for f in (*effect.before, *effect.after)],
        "series": [
            {"name": _("采纳前"), "values": before + gap_after},
            {"name": _("采纳后"), "values": gap_before + after},
        ],
    }


def _side(effect: effects.Effect, figures: list[effects.QuarterFigure]) -> list[dict[str, Any]]:
    return [
        {
            "quarter": figure.quarter,
            "value": effects.shown_value(effect.kpi, figure.value.value),
            "n": figure.value.denominator,
            "numerator": figure.value.numerator,
            "state": figure.state,
            "provisional": figure.value.provisional,
        }
        for figure in figures
    ]


@role_required(*READERS)
def adoption_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    adoption = _adoption(request, pk)
    span = QuartersForm(request.GET or None, initial={"quarters": 2})
    quarters = 2
    if span.is_valid() and span.cleaned_data.get("quarters"):
        quarters = span.cleaned_data["quarters"]
    effect = services.effect(adoption, quarters)
    code = effect.kpi
    context = {
        "page_title": _("采纳成效：%(practice)s · %(unit)s")
        % {"practice": adoption.practice.title, "unit": adoption.unit},
        "adoption": adoption,
        "practice": adoption.practice,
        "effect": effect,
        "span": span,
        "before": _side(effect, effect.before),
        "after": _side(effect, effect.after),
        "before_total": effects.shown_value(code, effect.before_total.value),
        "after_total": effects.shown_value(code, effect.after_total.value),
        "change": effects.shown_change(code, effect.change),
        "chart": _chart(effect),
        "pivot_is_trial": effect.pivot_stage == AdoptionStage.TRIAL,
        "lower_is_better": code in effects.LOWER_IS_BETTER,
    }
    return render(request, "exchange/practices/adoption.html", context)


urlpatterns: list[URLPattern] = [
    path("exchange/practices/", practice_list, name="practices"),
    path("exchange/practices/new/", practice_new, name="practice-new"),
    path("exchange/practices/<int:pk>/", practice_detail, name="practice"),
    path("exchange/practices/<int:pk>/edit/", practice_edit, name="practice-edit"),
    path("exchange/practices/<int:pk>/adoptions/new/", adoption_new, name="adoption-new"),
    path("exchange/adoptions/<int:pk>/", adoption_detail, name="adoption"),
    path("exchange/adoptions/<int:pk>/advance/", adoption_advance, name="adoption-advance"),
]
