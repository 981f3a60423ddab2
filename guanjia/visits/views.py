"""Pages of scheduled visits: the steward's visit calendar, recording a visit, a visit's page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from guanjia.appeals.models import Appeal
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.roles import ZONE_WIDE_ROLES, Role
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.services import stewards_of_zones
from guanjia.visits import services
from guanjia.visits.forms import ProblemFormSet, StewardChoiceForm, VisitForm
from guanjia.visits.models import Visit

OVERSEERS = (Role.DISPATCHER, Role.SUPERVISOR)


@role_required(Role.STEWARD, *OVERSEERS)
def visit_calendar(request: AuthedRequest) -> HttpResponse:
    """The steward's own due list; a dispatcher or supervisor picks a steward of its zones."""
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
        "recent": Visit.objects.visible_to(user).filter(steward=steward).select_related("enterprise")[:10]
        if steward is not None
        else [],
    }
    return render(request, "visits/calendar.html", context)


@role_required(Role.STEWARD)
def visit_new(request: AuthedRequest, enterprise: int) -> HttpResponse:
    """Record a visit to one of the steward's enterprises, raising its problems as appeals."""
    # Only the enterprise's own steward: any other enterprise is out of scope, a 404.
    target = get_object_or_404(
        Enterprise.objects.visible_to(request.user).filter(steward=request.user), pk=enterprise
    )
    if request.method == "POST" and "more" in request.POST:
        # "Add another problem": the same page again with one more blank block, nothing saved.
        form = VisitForm(initial=request.POST.dict())
        count = min(int(request.POST.get("problems-TOTAL_FORMS") or 1) + 1, services.MAX_PROBLEMS)
        initial = [
            {key: request.POST.get(f"problems-{i}-{key}", "") for key in ("title", "body", "category")}
            for i in range(count - 1)
        ]
        formset = ProblemFormSet(prefix="problems", initial=initial)
    elif request.method == "POST":
        form = VisitForm(request.POST)
        formset = ProblemFormSet(request.POST, prefix="problems")
        if form.is_valid() and formset.is_valid():
            problems = [p for p in (f.problem() for f in formset.forms) if p is not None]
            try:
                visit = services.record_visit(target, by=request.user, problems=problems, **form.cleaned_data)
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("已登记走访 #%(pk)s，提出诉求 %(n)s 项") % {"pk": visit.pk, "n": len(problems)},
                )
                return redirect("visits:detail", pk=visit.pk)
    else:
        form = VisitForm()
        formset = ProblemFormSet(prefix="problems")
    context = {
        "page_title": _("登记走访"),
        "enterprise": target,
        "form": form,
        "formset": formset,
        "can_add_problem": formset.total_form_count() < services.MAX_PROBLEMS,
    }
    return render(request, "visits/form.html", context)


@role_required(Role.STEWARD, *ZONE_WIDE_ROLES)
def visit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(
        Visit.objects.visible_to(request.user).select_related("enterprise", "steward"), pk=pk
    )
    appeals = Appeal.objects.visible_to(request.user).filter(visit_link__visit=visit).order_by("pk")
    context = {"page_title": _("走访 #%(pk)s") % {"pk": visit.pk}, "visit": visit, "appeals": appeals}
    return render(request, "visits/detail.html", context)
