"""Pages of leads (招商线索): the list with its filters and counts per state, a new lead (prefilled from the
chain map's gap list or a target's page), a lead with its contacts, contact log and state history, and
the small forms that change it. The zone's promoters and leaders read; only its promoters write."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.forms import form_errors_message
from guanjia.investment import leads as services
from guanjia.investment.forms.leads import (
    ContactForm,
    LeadFilter,
    LeadForm,
    LogForm,
    MoveForm,
    ReassignForm,
    promoters_for,
)
from guanjia.investment.models import ChainNode, Lead, LeadContact, LeadStatus, Target
from guanjia.investment.views.common import (
    KEEPERS,
    READERS,
    post_action,
    refusal_as_form_error,
    refusal_as_message,
    version_shown,
)

PAGE_SIZE = 20

# The label of the button that makes each move (the table itself is services.TRANSITIONS).
MOVE_LABELS: dict[str, Any] = {
    LeadStatus.CONTACTING: gettext_lazy("开始接触"),
    LeadStatus.NEGOTIATING: gettext_lazy("进入洽谈"),
}


def _visible(request: AuthedRequest) -> QuerySet[Lead]:
    return Lead.objects.visible_to(request.user)


def _lead(request: AuthedRequest, pk: int) -> Lead:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    return get_object_or_404(
        _visible(request).select_related("zone", "target", "node__chain", "owner", "created_by", "project"),
        pk=pk,
    )


# --- the list ---------------------------------------------------------------------------------------


@role_required(*READERS)
def lead_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    visible = _visible(request)
    filters = LeadFilter(request.GET or None, queryset=visible, request=request)
    leads = filters.qs if filters.is_bound else visible
    # The counts per state follow every filter but the state itself, so each tab shows what it would list.
    others = request.GET.copy()
    others.pop("status", None)
    others.pop("page", None)
    unstated = LeadFilter(others or None, queryset=visible, request=request)
    counts = services.state_counts(unstated.qs if unstated.is_bound else visible)
    rows = leads.select_related("target", "node__chain", "owner").order_by("-created_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each valid filter applies even beside an invalid one (whose error the form shows).
    status = getattr(filters.form, "cleaned_data", {}).get("status", "") if filters.is_bound else ""
    tabs = [
        {
            "value": value,
            "label": label,
            "count": counts[value],
            "active": status == value,
            "query": urlencode({**others.dict(), "status": value}),
        }
        for value, label in LeadStatus.choices
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("招商线索"),
        "filters": filters,
        "status": status,
        "page": page,
        "tabs": tabs,
        "total": sum(counts.values()),
        "all_query": others.urlencode(),
        "owners": promoters_for(user),
        "owner_value": request.GET.get("owner", ""),
        "query_string": query.urlencode(),
        "can_create": user.has_any_role(KEEPERS),
    }
    return render(request, "investment/leads/list.html", context)


# --- a new lead, and its edit ------------------------------------------------------------------------


def _prefill(request: AuthedRequest) -> tuple[dict[str, Any], QuerySet[Target] | None, ChainNode | None]:
    """?target=<pk>&node=<pk> from the chain map's gap list or a target's page: the form's initial values;
    with only ?node=, the target choice is limited to the targets that cover the node."""
    initial: dict[str, Any] = {"owner": request.user.pk}
    targets: QuerySet[Target] | None = None
    node = None
    node_id, target_id = request.GET.get("node", ""), request.GET.get("target", "")
    if node_id.isdigit():
        node = ChainNode.objects.visible_to(request.user).select_related("chain").filter(pk=node_id).first()
        if node is not None:
            initial["node"] = node.pk
    if target_id.isdigit():
        target = Target.objects.visible_to(request.user).filter(pk=target_id).first()
        if target is not None:
            initial["target"] = target.pk
    elif node is not None:
        targets = Target.objects.visible_to(request.user).filter(nodes=node)
    return initial, targets, node


@role_required(*KEEPERS)
def lead_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    initial, targets, node = _prefill(request)
    form = LeadForm(request.POST or None, user=user, targets=targets, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            lead = services.create_lead(
                target=data["target"],
                node=data["node"],
                source=data["source"],
                source_detail=data["source_detail"],
                owner=data["owner"],
                summary=data["summary"],
                contacts=form.contacts(),
                by=user,
            )
            messages.success(request, _("已新建招商线索：%(target)s") % {"target": lead.target})
            return redirect("investment:lead", pk=lead.pk)
    context = {
        "page_title": _("新建招商线索"),
        "form": form,
        "node": node,
        # ?node= with no target covering it: say so, and point to the library to add one.
        "no_targets": targets is not None and not targets.exists(),
        "targets_url": reverse("investment:targets"),
    }
    return render(request, "investment/leads/form.html", context)


@role_required(*KEEPERS)
def lead_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    initial = {
        "target": lead.target_id,
        "node": lead.node_id,
        "source": lead.source,
        "source_detail": lead.source_detail,
        "summary": lead.summary,
        "version": lead.version,
    }
    form = LeadForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.update_lead(
                lead,
                by=request.user,
                version=version_shown(data, lead.version),
                target=data["target"],
                node=data["node"],
                source=data["source"],
                source_detail=data["source_detail"],
                summary=data["summary"],
            )
            messages.success(request, _("已保存"))
            return redirect("investment:lead", pk=lead.pk)
    context = {"page_title": _("修改招商线索"), "form": form, "lead": lead}
    return render(request, "investment/leads/form.html", context)


# --- a lead -----------------------------------------------------------------------------------------


def _detail(request: AuthedRequest, lead: Lead, **forms: Any) -> HttpResponse:
    user = request.user
    keeper = services.may_keep_lead(user, lead)
    contacts = [
        {"contact": c, "phone": services.contact_phone_for(user, lead, c.phone)} for c in lead.contacts.all()
    ]
    logs = lead.logs.select_related("by").order_by("-happened_on", "-pk")
    transitions = lead.transitions.select_related("by").order_by("at", "pk")
    moves = [
        {"to": to, "label": MOVE_LABELS.get(to, _("重新激活"))}
        for to in services.allowed_moves(lead)
        if to != LeadStatus.ABANDONED and lead.status != LeadStatus.ABANDONED
    ]
    project = services.project_of(lead)
    is_open = lead.status in services.OPEN_STATUSES
    context = {
        "page_title": str(lead.target),
        "lead": lead,
        "keeper": keeper,
        "is_open": is_open,
        "contacts": contacts,
        "logs": logs,
        "transitions": transitions,
        "moves": moves,
        "may_abandon": LeadStatus.ABANDONED in services.allowed_moves(lead),
        "may_reactivate": LeadStatus.CONTACTING in services.allowed_moves(lead)
        and lead.status == LeadStatus.ABANDONED,
        "editable": lead.status != LeadStatus.CONVERTED,
        "project": project,
        "project_url": reverse("investment:project", args=[project.pk]) if project else "",
        # The projects part's page creates the project and marks the lead converted (mark_converted).
        "convert_url": f"{reverse('investment:project-new')}?lead={lead.pk}" if is_open else "",
        "contact_form": forms.get("contact_form") or ContactForm(),
        "log_form": forms.get("log_form") or LogForm(),
        "reassign_form": forms.get("reassign_form")
        or ReassignForm(lead=lead, initial={"version": lead.version}),
    }
    return render(request, "investment/leads/detail.html", context)


@role_required(*READERS)
def lead_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _detail(request, _lead(request, pk))


@post_action(*KEEPERS)
def lead_move(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("改变状态：%(errors)s") % {"errors": form_errors_message(form)})
        return redirect("investment:lead", pk=lead.pk)
    data = form.cleaned_data
    with refusal_as_message(request):
        services.move_lead(
            lead, to=data["to"], reason=data["reason"], version=data["version"], by=request.user
        )
        messages.success(request, _("线索已改为“%(status)s”") % {"status": lead.get_status_display()})
    return redirect("investment:lead", pk=lead.pk)


@post_action(*KEEPERS)
def lead_reassign(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = ReassignForm(request.POST, lead=lead)
    if form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.reassign_owner(lead, owner=data["owner"], version=data["version"], by=request.user)
            messages.success(request, _("线索已改由 %(owner)s 负责") % {"owner": lead.owner})
            return redirect("investment:lead", pk=lead.pk)
    return _detail(request, lead, reassign_form=form)


@post_action(*KEEPERS)
def lead_contact_add(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        with refusal_as_form_error(form):
            services.add_contact(lead, by=request.user, **form.cleaned_data)
            messages.success(request, _("已添加联系人：%(name)s") % {"name": form.cleaned_data["name"]})
            return redirect("investment:lead", pk=lead.pk)
    return _detail(request, lead, contact_form=form)


@post_action(*KEEPERS)
def lead_contact_remove(request: AuthedRequest, pk: int, contact: int) -> HttpResponse:
    lead = _lead(request, pk)
    person = get_object_or_404(LeadContact.objects.select_related("lead"), pk=contact, lead=lead)
    with refusal_as_message(request):
        services.remove_contact(person, by=request.user)
        messages.success(request, _("已删除联系人：%(name)s") % {"name": person.name})
    return redirect("investment:lead", pk=lead.pk)


@post_action(*KEEPERS)
def lead_log_add(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = LogForm(request.POST)
    if form.is_valid():
        with refusal_as_form_error(form):
            services.add_log(lead, by=request.user, **form.cleaned_data)
            messages.success(request, _("已添加接洽记录"))
            return redirect("investment:lead", pk=lead.pk)
    return _detail(request, lead, log_form=form)


urlpatterns: list[URLPattern] = [
    path("investment/leads/", lead_list, name="leads"),
    path("investment/leads/new/", lead_new, name="lead-new"),
    path("investment/leads/<int:pk>/", lead_detail, name="lead"),
    path("investment/leads/<int:pk>/edit/", lead_edit, name="lead-edit"),
    path("investment/leads/<int:pk>/move/", lead_move, name="lead-move"),
    path("investment/leads/<int:pk>/reassign/", lead_reassign, name="lead-reassign"),
    path("investment/leads/<int:pk>/contacts/", lead_contact_add, name="lead-contact-add"),
    path(
        "investment/leads/<int:pk>/contacts/<int:contact>/remove/",
        lead_contact_remove,
        name="lead-contact-remove",
    ),
    path("investment/leads/<int:pk>/logs/", lead_log_add, name="lead-log-add"),
]
