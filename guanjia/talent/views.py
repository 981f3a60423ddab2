"""Pages of the talent app (人才绿色通道).

On the portal an enterprise user (or the steward of the enterprise) follows its needs, applications and
services, adds a need, applies for recognition with documents and asks for a service for an approved
talent. The deciding departments work from /talent/ (applications waiting, services due, overdue
first) and decide on the detail pages; the zone's leaders and supervisors read the figures per enterprise
and chain there and keep the tiers and routes on /talent/settings/. Every read goes through a
visible_to queryset (out of scope is a 404); a role that never reads talent work gets 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.http import client_ip
from guanjia.core.models import OrgUnit
from guanjia.core.views_common import post_action, posted_version, refusal_as_message
from guanjia.talent import services
from guanjia.talent.access import (
    enterprises_served_by,
    id_number_shown,
    may_decide_application,
    may_decide_service,
    overseen_zones,
    phone_shown,
)
from guanjia.talent.forms import (
    ApplicationForm,
    DecideApplicationForm,
    DecideServiceForm,
    NeedForm,
    RouteForm,
    ServiceRequestForm,
    TierForm,
    refusal_on_form,
)
from guanjia.talent.models import (
    TALENT_DECIDERS,
    TALENT_OVERSEERS,
    TALENT_REQUESTERS,
    ApplicationStatus,
    RouteKind,
    ServiceKind,
    ServiceStatus,
    TalentApplication,
    TalentDocument,
    TalentNeed,
    TalentService,
    TalentServiceRoute,
    TalentTier,
)

REQUESTERS = tuple(TALENT_REQUESTERS)
DECIDERS = tuple(TALENT_DECIDERS)
OVERSEERS = tuple(TALENT_OVERSEERS)
READERS = (*REQUESTERS, *DECIDERS, *OVERSEERS)
STAFF = (*DECIDERS, *OVERSEERS)


def _mark_overdue(rows: Any) -> list[TalentService]:
    now = timezone.now()
    found = list(rows)
    for row in found:
        row.overdue = row.is_overdue(now)  # type: ignore[attr-defined]
    return found


# --- the portal ---------------------------------------------------------------------------------------


@role_required(*REQUESTERS)
def portal(request: AuthedRequest) -> HttpResponse:
    items = services.portal_items(request.user)
    applications = list(items["applications"])
    for application in applications:
        application.id_shown = id_number_shown(request.user, application)  # type: ignore[attr-defined]
    context = {
        "page_title": _("人才服务"),
        "needs": items["needs"],
        "applications": applications,
        "services": _mark_overdue(items["services"]),
        "may_ask": services.approved_talent(request.user).exists(),
    }
    return render(request, "talent/portal.html", context)


def _portal_form(
    request: AuthedRequest, form: Any, template: str, title: str, write: Any, done: str
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            write(form.cleaned_data)
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, done)
            return redirect("talent:portal")
    return render(request, template, {"page_title": title, "form": form})


@role_required(*REQUESTERS)
def need_new(request: AuthedRequest) -> HttpResponse:
    form = NeedForm(request.POST or None, user=request.user, enterprises=enterprises_served_by(request.user))

    def write(data: dict[str, Any]) -> None:
        services.add_need(
            data["enterprise"],
            by=request.user,
            post=data["post"],
            count=data["count"],
            by_date=data["by_date"],
            note=data["note"],
        )

    return _portal_form(request, form, "talent/need_form.html", _("发布人才需求"), write, _("已发布人才需求"))


@post_action(*REQUESTERS)
def need_close(request: AuthedRequest, pk: int) -> HttpResponse:
    need = get_object_or_404(
        TalentNeed.objects.filter(enterprise__in=enterprises_served_by(request.user)).select_related(
            "enterprise"
        ),
        pk=pk,
    )
    status = request.POST.get("status", "")
    with refusal_as_message(request):
        if status not in ("filled", "withdrawn"):
            raise ServiceError(_("状态：请选择已满足或已撤回"))
        services.close_need(
            need, status=status, by=request.user, version=posted_version(request, need.version)
        )
        messages.success(request, _("已更新人才需求"))
    return redirect("talent:portal")


@role_required(*REQUESTERS)
def application_new(request: AuthedRequest) -> HttpResponse:
    form = ApplicationForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        enterprises=enterprises_served_by(request.user),
    )

    def write(data: dict[str, Any]) -> None:
        services.submit_application(
            data["enterprise"],
            by=request.user,
            person_name=data["person_name"],
            id_number=data["id_number"],
            phone=data["phone"],
            tier=data["tier"],
            files=data["documents"],
        )

    return _portal_form(
        request, form, "talent/application_form.html", _("申请人才认定"), write, _("已提交人才认定申请")
    )


@role_required(*REQUESTERS)
def service_new(request: AuthedRequest) -> HttpResponse:
    talent = services.approved_talent(request.user)
    initial = {"application": request.GET.get("application", "")}
    form = ServiceRequestForm(request.POST or None, talent=talent, initial=initial)

    def write(data: dict[str, Any]) -> None:
        services.request_service(data["application"], kind=data["kind"], by=request.user, note=data["note"])

    return _portal_form(
        request, form, "talent/service_form.html", _("申请人才服务"), write, _("已提交人才服务申请")
    )


def _count_rows(tallies: Any) -> list[dict[str, Any]]:
    """Each tally as a table row: applications by status, each kind's services as 办理中/已办结/未予办理."""
    rows = []
    for tally in sorted(tallies, key=lambda t: t.name):
        figures = tally.as_dict()
        rows.append(
            {
                "name": tally.name,
                "applications": [figures["applications"][status] for status in ApplicationStatus.values],
                "services": [
                    [figures["services"][kind][status] for status in ServiceStatus.values]
                    for kind in ServiceKind.values
                ],
                "open_needs": figures["open_needs"],
            }
        )
    return rows


# --- the staff's pages --------------------------------------------------------------------------------


@role_required(*STAFF)
def index(request: AuthedRequest) -> HttpResponse:
    user = request.user
    applications, due = services.worklist(user)
    context: dict[str, Any] = {
        "page_title": _("人才绿色通道"),
        "applications": applications,
        "services": _mark_overdue(due),
        "decider": user.has_any_role(TALENT_DECIDERS),
        "overseer": user.has_any_role(TALENT_OVERSEERS),
    }
    if context["overseer"]:
        per, chains = services.counts(user)
        context["enterprise_counts"] = _count_rows(per.values())
        context["chain_counts"] = _count_rows(chains.values())
        context["kinds"] = [label for _value, label in ServiceKind.choices]
    return render(request, "talent/index.html", context)


def _application(request: AuthedRequest, pk: int) -> TalentApplication:
    return get_object_or_404(
        TalentApplication.objects.visible_to(request.user).select_related(
            "enterprise", "tier", "department", "decided_by", "submitted_by"
        ),
        pk=pk,
    )


def _service(request: AuthedRequest, pk: int) -> TalentService:
    return get_object_or_404(
        TalentService.objects.visible_to(request.user).select_related(
            "enterprise", "application", "application__tier", "department", "decided_by", "requested_by"
        ),
        pk=pk,
    )


def _application_page(
    request: AuthedRequest, application: TalentApplication, form: Any = None
) -> HttpResponse:
    may = may_decide_application(request.user, application) and application.status == "submitted"
    context = {
        "page_title": _("人才认定申请"),
        "application": application,
        "id_shown": id_number_shown(request.user, application),
        "phone_shown": phone_shown(request.user, application),
        "documents": application.documents.all(),
        "services": _mark_overdue(application.services.select_related("department")),
        "form": form or (DecideApplicationForm(initial={"version": application.version}) if may else None),
    }
    return render(request, "talent/application_detail.html", context)


@role_required(*READERS)
def application_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _application_page(request, _application(request, pk))


@post_action(*DECIDERS)
def application_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    form = DecideApplicationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decide_application(
                application,
                by=request.user,
                approve=data["decision"] == "approve",
                reason=data["reason"],
                version=data["version"],
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("已认定：%(status)s") % {"status": application.get_status_display()})
            return redirect("talent:application", pk=application.pk)
    return _application_page(request, application, form)


@role_required(*READERS)
def document(request: AuthedRequest, pk: int, doc: int) -> FileResponse:
    application = _application(request, pk)
    found = get_object_or_404(TalentDocument.objects.filter(application=application), pk=doc)
    return services.document_download(found, by=request.user, ip=client_ip(request))


def _service_page(request: AuthedRequest, service: TalentService, form: Any = None) -> HttpResponse:
    may = may_decide_service(request.user, service) and service.status == ServiceStatus.REQUESTED
    service.overdue = service.is_overdue()  # type: ignore[attr-defined]
    context = {
        "page_title": _("人才服务事项"),
        "service": service,
        "form": form or (DecideServiceForm(initial={"version": service.version}) if may else None),
    }
    return render(request, "talent/service_detail.html", context)


@role_required(*READERS)
def service_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _service_page(request, _service(request, pk))


@post_action(*DECIDERS)
def service_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    form = DecideServiceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decide_service(
                service,
                by=request.user,
                grant=data["decision"] == "grant",
                result=data["result"],
                reason=data["reason"],
                version=data["version"],
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("已办理：%(status)s") % {"status": service.get_status_display()})
            return redirect("talent:service", pk=service.pk)
    return _service_page(request, service, form)


# --- the zone's settings --------------------------------------------------------------------------------


def _zone(request: AuthedRequest, raw: Any) -> OrgUnit:
    zones = overseen_zones(request.user)
    if raw in (None, ""):
        zone = zones.first()
        if zone is None:
            raise Http404
        return zone
    try:
        return get_object_or_404(zones, pk=int(raw))
    except (TypeError, ValueError):
        raise Http404 from None


def _settings_page(
    request: AuthedRequest, zone: OrgUnit, tier_form: Any = None, route_form: Any = None
) -> HttpResponse:
    tiers = TalentTier.objects.filter(zone=zone).order_by("position", "code")
    editing = None
    raw = request.GET.get("tier", "")
    if tier_form is None and raw.isdigit():
        editing = tiers.filter(pk=int(raw)).first()
    if tier_form is None:
        initial: dict[str, Any] = {"zone": zone.pk}
        if editing is not None:
            initial.update(
                tier=editing.pk,
                version=editing.version,
                code=editing.code,
                name=editing.name,
                description=editing.description,
                position=editing.position,
            )
        tier_form = TierForm(initial=initial)
    routes = {
        route.kind: route
        for route in TalentServiceRoute.objects.filter(zone=zone).select_related("department")
    }
    context = {
        "page_title": _("人才类别与责任部门"),
        "zone": zone,
        "zones": overseen_zones(request.user),
        "tiers": tiers,
        "routes": [(value, label, routes.get(value)) for value, label in RouteKind.choices],
        "tier_form": tier_form,
        "editing": editing,
        "route_form": route_form or RouteForm(zone=zone, initial={"zone": zone.pk}, prefix="route"),
    }
    return render(request, "talent/settings.html", context)


@role_required(*OVERSEERS)
def settings(request: AuthedRequest) -> HttpResponse:
    return _settings_page(request, _zone(request, request.GET.get("zone")))


@post_action(*OVERSEERS)
def tier_save(request: AuthedRequest) -> HttpResponse:
    zone = _zone(request, request.POST.get("zone"))
    form = TierForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        tier = None
        if data["tier"]:
            tier = get_object_or_404(TalentTier.objects.filter(zone=zone), pk=data["tier"])
        try:
            services.save_tier(
                zone,
                by=request.user,
                code=data["code"],
                name=data["name"],
                description=data["description"],
                position=data["position"] if data["position"] is not None else 0,
                tier=tier,
                version=data["version"],
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存人才类别"))
            return redirect(f"{reverse('talent:settings')}?zone={zone.pk}")
    return _settings_page(request, zone, tier_form=form)


@post_action(*OVERSEERS)
def route_save(request: AuthedRequest) -> HttpResponse:
    zone = _zone(request, request.POST.get("route-zone"))
    form = RouteForm(request.POST, zone=zone, prefix="route")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_route(
                zone,
                kind=data["kind"],
                department=data["department"],
                workdays=data["workdays"],
                by=request.user,
            )
        except ServiceError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("已设置责任部门"))
            return redirect(f"{reverse('talent:settings')}?zone={zone.pk}")
    return _settings_page(request, zone, route_form=form)


urlpatterns: list[URLPattern] = [
    path("portal/talent/", portal, name="portal"),
    path("portal/talent/needs/new/", need_new, name="need-new"),
    path("portal/talent/needs/<int:pk>/close/", need_close, name="need-close"),
    path("portal/talent/applications/new/", application_new, name="application-new"),
    path("portal/talent/services/new/", service_new, name="service-new"),
    path("talent/", index, name="index"),
    path("talent/applications/<int:pk>/", application_detail, name="application"),
    path("talent/applications/<int:pk>/decide/", application_decide, name="application-decide"),
    path("talent/applications/<int:pk>/documents/<int:doc>/", document, name="document"),
    path("talent/services/<int:pk>/", service_detail, name="service"),
    path("talent/services/<int:pk>/decide/", service_decide, name="service-decide"),
    path("talent/settings/", settings, name="settings"),
    path("talent/settings/tiers/", tier_save, name="tier-save"),
    path("talent/settings/routes/", route_save, name="route-save"),
]
