"""Pages of scheduled visits: the steward's calendar, planning and recording a visit, a visit's page and
photos, an enterprise's cadence, and the overdue supervision (督查) of a zone."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.appeals.models import Appeal
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.http import client_ip
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.services import stewards_of_zones
from guanjia.visits import services, supervision
from guanjia.visits.forms import IntervalForm, PlanForm, ProblemFormSet, StewardChoiceForm, VisitForm
from guanjia.visits.models import Visit, VisitPhoto, VisitSchedule

OVERSEERS = (Role.DISPATCHER, Role.SUPERVISOR)
SUPERVISION_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)
OVERDUE_PER_PAGE = 50


@role_required(Role.STEWARD, *OVERSEERS)
def visit_calendar(request: AuthedRequest) -> HttpResponse:
    """The steward's own due list and plans; a dispatcher or supervisor picks a steward of its zones."""
    user = request.user
    overseer = user.has_any_role(OVERSEERS)
    stewards = stewards_of_zones(user.zone_ids()) if overseer else None
    chooser = StewardChoiceForm(request.GET or None, stewards=stewards) if stewards is not None else None
    steward = user if user.has_role(Role.STEWARD) else None
    if chooser is not None and request.GET.get("steward"):
        if not chooser.is_valid() or chooser.cleaned_data["steward"] is None:
            raise Http404(_("该服务管家不在您的范围内"))  # another zone's steward: not confirmed to exist
        steward = chooser.cleaned_data["steward"]
    context = {
        "page_title": _("走访日程"),
        "chooser": chooser,
        "steward": steward,
        "own": steward is not None and steward.pk == user.pk,
        "lists": services.due_lists(steward) if steward is not None else None,
        "recent": Visit.objects.visible_to(user)
        .done()
        .filter(steward=steward)
        .select_related("enterprise")[:10]
        if steward is not None
        else [],
    }
    return render(request, "visits/calendar.html", context)


def _served(request: AuthedRequest, enterprise: int) -> Enterprise:
    # Only the enterprise's own steward: any other enterprise is out of scope, a 404.
    return get_object_or_404(
        Enterprise.objects.visible_to(request.user).filter(steward=request.user), pk=enterprise
    )


@role_required(Role.STEWARD)
def visit_new(request: AuthedRequest, enterprise: int) -> HttpResponse:
    """Record a visit to one of the steward's enterprises (filling its plan in), with photos and problems."""
    target = _served(request, enterprise)
    plan = Visit.objects.plans().filter(enterprise=target).first()
    if request.method == "POST" and "more" in request.POST:
        # "Add another problem": the same page again with one more blank block, nothing saved.
        # (Chosen photos are not kept by a browser across pages; the page says so.)
        form = VisitForm(initial=request.POST.dict())
        count = min(int(request.POST.get("problems-TOTAL_FORMS") or 1) + 1, services.MAX_PROBLEMS)
        initial = [
            {key: request.POST.get(f"problems-{i}-{key}", "") for key in ("title", "body", "category")}
            for i in range(count - 1)
        ]
        formset = ProblemFormSet(prefix="problems", initial=initial)
    elif request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        formset = ProblemFormSet(request.POST, prefix="problems")
        if form.is_valid() and formset.is_valid():
            problems = [p for p in (f.problem() for f in formset.forms) if p is not None]
            data = dict(form.cleaned_data)
            photos = data.pop("photos", [])
            chosen = _chosen_plan(request, target)
            try:
                visit = services.record_visit(
                    target, by=request.user, problems=problems, photos=photos, plan=chosen, **data
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("已登记走访 #%(pk)s，提出诉求 %(n)s 项，照片 %(photos)s 张")
                    % {"pk": visit.pk, "n": len(problems), "photos": len(photos)},
                )
                return redirect("visits:detail", pk=visit.pk)
    else:
        form = VisitForm()
        formset = ProblemFormSet(prefix="problems")
    context = {
        "page_title": _("登记走访"),
        "enterprise": target,
        "plan": plan,
        "form": form,
        "formset": formset,
        "can_add_problem": formset.total_form_count() < services.MAX_PROBLEMS,
    }
    return render(request, "visits/form.html", context)


def _chosen_plan(request: AuthedRequest, enterprise: Enterprise) -> Visit | None:
    """The plan the form was opened from (a hidden field), so that a plan done meanwhile is a conflict."""
    raw = request.POST.get("plan") or ""
    if not raw.isdigit():
        return None
    # Any row of this enterprise: one that is already done makes record_visit say so.
    return Visit.objects.filter(pk=int(raw), enterprise=enterprise).first()


@role_required(Role.STEWARD)
def visit_plan(request: AuthedRequest, enterprise: int) -> HttpResponse:
    """安排走访: the steward plans a visit to one of its enterprises."""
    target = _served(request, enterprise)
    existing = Visit.objects.plans().filter(enterprise=target).first()
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_visit(
                target,
                on=form.cleaned_data["planned_on"],
                by=request.user,
                note=form.cleaned_data["plan_note"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已安排 %(day)s 走访 %(name)s")
                % {"day": form.cleaned_data["planned_on"].isoformat(), "name": target.name},
            )
            return redirect("visits:calendar")
    context = {"page_title": _("安排走访"), "enterprise": target, "form": form, "existing": existing}
    return render(request, "visits/plan.html", context)


@require_POST
@role_required(Role.STEWARD)
def plan_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    """取消走访计划 (the plan's page offers it to the enterprise's steward)."""
    plan = get_object_or_404(
        Visit.objects.visible_to(request.user)
        .plans()
        .filter(enterprise__steward=request.user)
        .select_related("enterprise"),
        pk=pk,
    )
    try:
        services.cancel_plan(plan, by=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("visits:detail", pk=plan.pk)
    messages.success(request, _("已取消对 %(name)s 的走访计划") % {"name": plan.enterprise.name})
    return redirect("visits:calendar")


@role_required(Role.STEWARD, *ZONE_WIDE_ROLES)
def visit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A visit (or a plan) with its photos and the appeals it raised."""
    visit = get_object_or_404(
        Visit.objects.visible_to(request.user).select_related("enterprise", "steward"), pk=pk
    )
    appeals = Appeal.objects.visible_to(request.user).filter(visit_link__visit=visit).order_by("pk")
    context = {
        "page_title": (_("走访计划 #%(pk)s") if visit.is_plan else _("走访 #%(pk)s")) % {"pk": visit.pk},
        "visit": visit,
        "appeals": appeals,
        "photos": list(visit.photos.all()),
        "may_act": services.may_record(request.user, visit.enterprise),
    }
    return render(request, "visits/detail.html", context)


@role_required(Role.STEWARD, *ZONE_WIDE_ROLES)
def photo(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """A visit photo, shown inline to those who see its visit; to everyone else it does not exist."""
    found = get_object_or_404(
        VisitPhoto.objects.filter(visit__in=Visit.objects.visible_to(request.user).values("pk")), pk=pk
    )
    download = request.GET.get("download") == "1"
    return services.photo_response(found, by=request.user, download=download, ip=client_ip(request))


@role_required(*OVERSEERS)
def schedule_edit(request: AuthedRequest, enterprise: int) -> HttpResponse:
    """An enterprise's cadence: the zone's dispatcher or supervisor overrides (or resets) it."""
    target = get_object_or_404(
        Enterprise.objects.filter(zone_id__in=request.user.zone_ids()).select_related("steward"),
        pk=enterprise,
    )
    row = VisitSchedule.objects.filter(enterprise=target).first() or services.refresh_schedule(target)
    form = IntervalForm(request.POST or None, instance=VisitSchedule(interval_days=row.interval_days))
    if request.method == "POST" and form.is_valid():
        seen = request.POST.get("seen", "")
        try:
            services.set_interval(
                target,
                form.cleaned_data["interval_days"],
                by=request.user,
                was=int(seen) if seen.isdigit() else None,
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已调整 %(name)s 的走访周期") % {"name": target.name})
            return redirect("visits:schedule", enterprise=target.pk)
    context = {
        "page_title": _("走访周期"),
        "enterprise": target,
        "row": row,
        "form": form,
        "default_days": services.interval_for(target.tier),
        "interval": services.interval_for(target.tier, row.interval_days),
        "visits": Visit.objects.visible_to(request.user).done().filter(enterprise=target)[:5],
    }
    return render(request, "visits/schedule.html", context)


# --- overdue supervision (督查) ---------------------------------------------------------------------


@role_required(*SUPERVISION_ROLES)
def overdue(request: AuthedRequest) -> HttpResponse:
    """Overdue enterprises of the user's zones, by zone and by steward; every number links to its list."""
    zone_ids = request.user.zone_ids()
    context = {
        "page_title": _("走访逾期督查"),
        "today": services.today(),
        "zones": supervision.overdue_by_zone(zone_ids),
        "stewards": supervision.overdue_by_steward(zone_ids),
    }
    return render(request, "visits/overdue.html", context)


SORTS = {"days": ("next_due", "enterprise_id"), "-days": ("-next_due", "-enterprise_id")}


@role_required(*SUPERVISION_ROLES)
def overdue_list(request: AuthedRequest) -> HttpResponse:
    """The overdue enterprises behind a number: a zone's, a steward's or those with no steward."""
    zone_ids = request.user.zone_ids()
    zone_id = _int_param(request, "zone")
    steward_id = _int_param(request, "steward")
    unassigned = request.GET.get("steward") == "none"
    if zone_id is not None and zone_id not in zone_ids:
        raise Http404(_("该园区不在您的范围内"))
    if (
        steward_id is not None
        and not Enterprise.objects.filter(zone_id__in=zone_ids, steward_id=steward_id).exists()
    ):
        raise Http404(_("该服务管家不在您的范围内"))
    sort = request.GET.get("sort") or "days"
    if sort not in SORTS:
        sort = "days"
    rows = supervision.overdue_enterprises(
        zone_ids, zone_id=zone_id, steward_id=steward_id, unassigned=unassigned
    ).order_by(*SORTS[sort])
    page = Paginator(rows, OVERDUE_PER_PAGE).get_page(request.GET.get("page"))
    keep = {
        k: v
        for k, v in (("zone", zone_id), ("steward", "none" if unassigned else steward_id))
        if v is not None
    }
    for row in page:
        row.days_overdue = (services.today() - row.next_due).days  # type: ignore[attr-defined]
    context = {
        "page_title": _("走访逾期企业"),
        "page": page,
        "sort": sort,
        "filters": keep,
        "filter_query": urlencode(keep),
        "query_string": urlencode({**keep, "sort": sort}),
        "zone": OrgUnit.objects.filter(pk=zone_id).first() if zone_id is not None else None,
        "steward": User.objects.filter(pk=steward_id).first() if steward_id is not None else None,
        "unassigned": unassigned,
    }
    return render(request, "visits/overdue_list.html", context)


def _int_param(request: AuthedRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    if not raw or raw == "none":
        return None
    if not raw.isdigit():
        raise Http404(_("参数有误"))
    return int(raw)
