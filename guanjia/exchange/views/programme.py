"""Pages of the exchange programme: the programme's home (pairings with their secondments and what came of
them), a pairing, a secondment with its notes (见闻), liaison activities (对接活动), sourced leads (推荐线索)
and practices (经验做法), the cadre's own secondments, the forms that write them, and the promoters' list
of sourced leads with their take and decline.

The zone's supervisors keep pairings and secondments; its leaders read them; a seconded cadre reads its
own secondments and writes their notes, activities and sourced leads; the zone's promoters read the
sourced leads and take them into the investment pipeline or decline them. Out of scope is a 404.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.roles import Role
from guanjia.core.views_common import (
    post_action,
    posted_version,
    refusal_as_form_error,
    refusal_as_message,
    version_shown,
)
from guanjia.exchange import programme as services
from guanjia.exchange import sourcing
from guanjia.exchange.access import is_own_secondment, may_keep
from guanjia.exchange.forms.programme import (
    ActivityForm,
    DeclineForm,
    NoteForm,
    PairingForm,
    SecondmentForm,
    SourcedFilterForm,
    SourcedLeadForm,
    TakeForm,
)
from guanjia.exchange.models import (
    EXCHANGE_READERS,
    LearningNote,
    LiaisonActivity,
    Pairing,
    Practice,
    Secondment,
    SourcedLead,
    SourcedLeadStatus,
)
from guanjia.investment.models import Lead

PAGE_SIZE = 20
PAIRINGS_PER_PAGE = 10
ROWS_PER_SECTION = 10

READERS = (Role.SUPERVISOR, Role.LEADER, Role.SECONDED_CADRE)
KEEPERS = (Role.SUPERVISOR,)
CADRES = (Role.SECONDED_CADRE,)
SOURCED_READERS = (Role.PROMOTER, Role.SUPERVISOR, Role.LEADER, Role.SECONDED_CADRE)
DECIDERS = (Role.PROMOTER,)


# --- lookups: out of the user's scope is a 404 (we do not confirm that it exists) --------------------


def _pairing(request: AuthedRequest, pk: int) -> Pairing:
    return get_object_or_404(
        Pairing.objects.visible_to(request.user).select_related("zone", "local_unit__parent", "created_by"),
        pk=pk,
    )


def _kept_pairing(request: AuthedRequest, pk: int) -> Pairing:
    pairing = _pairing(request, pk)
    if not may_keep(request.user, pairing.zone_id):
        raise PermissionDenied(_("只有本园区的效能督查人员可以修改结对关系"))
    return pairing


def _secondments(request: AuthedRequest) -> QuerySet[Secondment]:
    return Secondment.objects.visible_to(request.user).select_related(
        "pairing__zone", "pairing__local_unit", "cadre__unit"
    )


def _secondment(request: AuthedRequest, pk: int) -> Secondment:
    return get_object_or_404(_secondments(request).select_related("created_by"), pk=pk)


def _own_secondment(request: AuthedRequest, pk: int) -> Secondment:
    """A secondment the user is the cadre of: another cadre's is a 404 (it does not see it); one it reads
    as a supervisor or leader but is not seconded on is a 403."""
    secondment = _secondment(request, pk)
    if not is_own_secondment(request.user, secondment):
        raise PermissionDenied(_("只有本人的挂职记录可以填写见闻、对接活动和推荐线索"))
    return secondment


def _own_row(request: AuthedRequest, model: type[LearningNote] | type[LiaisonActivity], pk: int) -> Any:
    row = get_object_or_404(
        model.objects.visible_to(request.user).select_related("secondment__pairing", "secondment__cadre"),
        pk=pk,
    )
    if not is_own_secondment(request.user, row.secondment):
        raise PermissionDenied(_("只有本人的挂职记录可以填写见闻、对接活动和推荐线索"))
    return row


def _sourced(request: AuthedRequest, pk: int) -> SourcedLead:
    return get_object_or_404(
        SourcedLead.objects.visible_to(request.user).select_related(
            "secondment__pairing__zone", "secondment__cadre", "decided_by", "lead"
        ),
        pk=pk,
    )


def _page(request: AuthedRequest, rows: Any, size: int = PAGE_SIZE, param: str = "page") -> Page:
    return Paginator(rows, size).get_page(request.GET.get(param))


# --- the programme's home, and the cadre's own secondments -------------------------------------------


@role_required(*READERS, Role.PROMOTER)
def index(request: AuthedRequest) -> HttpResponse:
    """Supervisors and leaders: the pairings with their secondments and counts. A cadre goes to its own
    secondments, a promoter to the sourced leads."""
    user = request.user
    if not user.has_any_role(EXCHANGE_READERS):
        return redirect("exchange:mine" if user.has_role(Role.SECONDED_CADRE) else "exchange:sourced-leads")
    pairings = Pairing.objects.visible_to(user).select_related("zone", "local_unit__parent")
    page = _page(request, pairings.order_by("zone__code", "-started_on", "pk"), PAIRINGS_PER_PAGE)
    grouped: dict[int, list[Secondment]] = defaultdict(list)
    shown = services.with_counts(_secondments(request).filter(pairing__in=[p.pk for p in page]))
    for secondment in shown.order_by("-starts_on", "pk"):
        grouped[secondment.pairing_id].append(secondment)
    leads = SourcedLead.objects.visible_to(user)
    totals = {
        "pairings": pairings.count(),
        "secondments": Secondment.objects.visible_to(user).count(),
        "notes": LearningNote.objects.visible_to(user).count(),
        "activities": LiaisonActivity.objects.visible_to(user).count(),
        "leads": leads.count(),
        "leads_taken": leads.filter(status=SourcedLeadStatus.TAKEN).count(),
        "practices": Practice.objects.visible_to(user).count(),
    }
    context = {
        "page_title": _("挂职结对"),
        "page": page,
        "rows": [{"pairing": p, "secondments": grouped.get(p.pk, [])} for p in page],
        "totals": totals,
        "can_keep": may_keep(user),
    }
    return render(request, "exchange/programme/index.html", context)


@role_required(*CADRES)
def mine(request: AuthedRequest) -> HttpResponse:
    secondments = services.with_counts(_secondments(request).filter(cadre=request.user))
    page = _page(request, secondments.order_by("-starts_on", "pk"))
    return render(request, "exchange/programme/mine.html", {"page_title": _("我的挂职"), "page": page})


# --- pairings ---------------------------------------------------------------------------------------


def _pairing_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in services.PAIRING_FIELDS}


@role_required(*READERS)
def pairing_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    pairing = _pairing(request, pk)
    secondments = services.with_counts(_secondments(request).filter(pairing=pairing)).order_by(
        "-starts_on", "pk"
    )
    page = _page(request, secondments)
    context = {
        "page_title": str(pairing),
        "pairing": pairing,
        "page": page,
        "secondments": page,
        "can_keep": may_keep(request.user, pairing.zone_id),
    }
    return render(request, "exchange/programme/pairing.html", context)


@role_required(*KEEPERS)
def pairing_new(request: AuthedRequest) -> HttpResponse:
    form = PairingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with refusal_as_form_error(form):
            pairing = services.create_pairing(by=request.user, **_pairing_values(form.cleaned_data))
            messages.success(request, _("已新建结对：%(pairing)s") % {"pairing": pairing})
            return redirect("exchange:pairing", pk=pairing.pk)
    return render(
        request, "exchange/programme/pairing_form.html", {"page_title": _("新建结对"), "form": form}
    )


@role_required(*KEEPERS)
def pairing_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    pairing = _kept_pairing(request, pk)
    initial = {name: getattr(pairing, name) for name in services.PAIRING_FIELDS}
    form = PairingForm(
        request.POST or None,
        user=request.user,
        pairing=pairing,
        initial={**initial, "local_unit": pairing.local_unit_id, "version": pairing.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.update_pairing(
                pairing,
                by=request.user,
                version=version_shown(data, pairing.version),
                **_pairing_values(data),
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:pairing", pk=pairing.pk)
    context = {"page_title": _("修改结对"), "form": form, "pairing": pairing}
    return render(request, "exchange/programme/pairing_form.html", context)


# --- secondments ------------------------------------------------------------------------------------


def _kept_pairings(request: AuthedRequest) -> QuerySet[Pairing]:
    """The pairings whose secondments the user keeps: those of its zones (a supervisor's)."""
    return Pairing.objects.filter(zone__in=services.keeper_zones(request.user))


def _sections(request: AuthedRequest, secondment: Secondment) -> dict[str, Any]:
    user = request.user
    own = is_own_secondment(user, secondment)
    notes = _page(request, secondment.notes.order_by("-observed_on", "-pk"), ROWS_PER_SECTION, "notes")
    activities = _page(
        request, secondment.activities.order_by("-held_on", "-pk"), ROWS_PER_SECTION, "activities"
    )
    leads = _page(
        request,
        secondment.sourced_leads.select_related("lead", "decided_by").order_by("-created_at", "-pk"),
        ROWS_PER_SECTION,
        "leads",
    )
    practices = _page(
        request,
        Practice.objects.visible_to(user).filter(secondment=secondment).order_by("-created_at", "-pk"),
        ROWS_PER_SECTION,
        "practices",
    )
    return {
        "own": own,
        "notes": notes,
        "note_rows": [{"note": n} for n in notes],
        "activities": activities,
        "activity_rows": [{"activity": a} for a in activities],
        "leads": leads,
        "lead_rows": [{"sourced": s, "phone": sourcing.contact_phone_for(user, s)} for s in leads],
        "practices": practices,
        # The practices part's page; it takes the secondment from ?secondment=<pk>.
        "may_propose": own or may_keep(user, secondment.pairing.zone_id),
    }


@role_required(*READERS)
def secondment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    secondment = _secondment(request, pk)
    context = {
        "page_title": str(secondment),
        "secondment": secondment,
        "can_keep": may_keep(request.user, secondment.pairing.zone_id),
        **_sections(request, secondment),
    }
    return render(request, "exchange/programme/secondment.html", context)


def _secondment_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in services.SECONDMENT_FIELDS}


@role_required(*KEEPERS)
def secondment_new(request: AuthedRequest) -> HttpResponse:
    pairings = _kept_pairings(request)
    initial: dict[str, Any] = {}
    wanted = request.GET.get("pairing", "")
    if wanted.isdigit() and pairings.filter(pk=wanted).exists():
        initial["pairing"] = int(wanted)
    form = SecondmentForm(request.POST or None, user=request.user, pairings=pairings, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            secondment = services.create_secondment(
                pairing=data["pairing"], by=request.user, **_secondment_values(data)
            )
            messages.success(request, _("已安排挂职：%(secondment)s") % {"secondment": secondment})
            return redirect("exchange:secondment", pk=secondment.pk)
    return render(
        request, "exchange/programme/secondment_form.html", {"page_title": _("安排挂职"), "form": form}
    )


@role_required(*KEEPERS)
def secondment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    secondment = _secondment(request, pk)
    if not may_keep(request.user, secondment.pairing.zone_id):
        raise PermissionDenied(_("只有本园区的效能督查人员可以修改挂职"))
    initial = {name: getattr(secondment, name) for name in services.SECONDMENT_FIELDS}
    form = SecondmentForm(
        request.POST or None,
        user=request.user,
        pairings=Pairing.objects.filter(pk=secondment.pairing_id),
        editing=True,
        initial={**initial, "cadre": secondment.cadre_id, "version": secondment.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.update_secondment(
                secondment,
                by=request.user,
                version=version_shown(data, secondment.version),
                **_secondment_values(data),
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:secondment", pk=secondment.pk)
    context = {"page_title": _("修改挂职"), "form": form, "secondment": secondment}
    return render(request, "exchange/programme/secondment_form.html", context)


# --- the cadre's notes and activities ---------------------------------------------------------------


def _row_form(
    request: AuthedRequest,
    *,
    secondment: Secondment,
    form: Any,
    title: str,
    what: str,
    row: Any = None,
) -> HttpResponse:
    context = {"page_title": title, "form": form, "secondment": secondment, "row": row, "what": what}
    return render(request, "exchange/programme/row_form.html", context)


@role_required(*CADRES)
def note_new(request: AuthedRequest, pk: int) -> HttpResponse:
    secondment = _own_secondment(request, pk)
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.add_note(
                secondment,
                by=request.user,
                title=data["title"],
                body=data["body"],
                observed_on=data["observed_on"],
            )
            messages.success(request, _("已添加见闻"))
            return redirect("exchange:secondment", pk=secondment.pk)
    return _row_form(request, secondment=secondment, form=form, title=_("添加见闻"), what="note")


@role_required(*CADRES)
def note_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _own_row(request, LearningNote, pk)
    initial = {name: getattr(note, name) for name in services.NOTE_FIELDS}
    form = NoteForm(request.POST or None, initial={**initial, "version": note.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.update_note(
                note,
                by=request.user,
                version=version_shown(data, note.version),
                title=data["title"],
                body=data["body"],
                observed_on=data["observed_on"],
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:secondment", pk=note.secondment_id)
    return _row_form(
        request, secondment=note.secondment, form=form, title=_("修改见闻"), what="note", row=note
    )


@post_action(*CADRES)
def note_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    note = _own_row(request, LearningNote, pk)
    with refusal_as_message(request):
        services.delete_note(note, by=request.user, version=posted_version(request, note.version))
        messages.success(request, _("已删除见闻：%(title)s") % {"title": note.title})
    return redirect("exchange:secondment", pk=note.secondment_id)


def _activity_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in services.ACTIVITY_FIELDS}


@role_required(*CADRES)
def activity_new(request: AuthedRequest, pk: int) -> HttpResponse:
    secondment = _own_secondment(request, pk)
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_as_form_error(form):
            services.add_activity(secondment, by=request.user, **_activity_values(form.cleaned_data))
            messages.success(request, _("已添加对接活动"))
            return redirect("exchange:secondment", pk=secondment.pk)
    return _row_form(request, secondment=secondment, form=form, title=_("添加对接活动"), what="activity")


@role_required(*CADRES)
def activity_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = _own_row(request, LiaisonActivity, pk)
    initial = {name: getattr(activity, name) for name in services.ACTIVITY_FIELDS}
    form = ActivityForm(request.POST or None, initial={**initial, "version": activity.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            services.update_activity(
                activity,
                by=request.user,
                version=version_shown(data, activity.version),
                **_activity_values(data),
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:secondment", pk=activity.secondment_id)
    return _row_form(
        request,
        secondment=activity.secondment,
        form=form,
        title=_("修改对接活动"),
        what="activity",
        row=activity,
    )


@post_action(*CADRES)
def activity_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = _own_row(request, LiaisonActivity, pk)
    with refusal_as_message(request):
        services.delete_activity(activity, by=request.user, version=posted_version(request, activity.version))
        messages.success(request, _("已删除对接活动：%(title)s") % {"title": activity.title})
    return redirect("exchange:secondment", pk=activity.secondment_id)


# --- sourced leads ----------------------------------------------------------------------------------


def _sourced_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in sourcing.SOURCED_FIELDS}


@role_required(*CADRES)
def sourced_lead_new(request: AuthedRequest, pk: int) -> HttpResponse:
    secondment = _own_secondment(request, pk)
    form = SourcedLeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_as_form_error(form):
            sourced = sourcing.submit(secondment, by=request.user, **_sourced_values(form.cleaned_data))
            messages.success(
                request, _("已推荐线索：%(name)s，等待招商专员接收") % {"name": sourced.company_name}
            )
            return redirect("exchange:secondment", pk=secondment.pk)
    return _row_form(request, secondment=secondment, form=form, title=_("推荐招商线索"), what="sourced")


@role_required(*CADRES)
def sourced_lead_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    sourced = _sourced(request, pk)
    if not is_own_secondment(request.user, sourced.secondment):
        raise PermissionDenied(_("只有推荐该线索的挂职干部可以修改"))
    initial = {name: getattr(sourced, name) for name in sourcing.SOURCED_FIELDS}
    form = SourcedLeadForm(request.POST or None, initial={**initial, "version": sourced.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            sourcing.update_sourced(
                sourced,
                by=request.user,
                version=version_shown(data, sourced.version),
                **_sourced_values(data),
            )
            messages.success(request, _("已保存"))
            return redirect("exchange:sourced-lead", pk=sourced.pk)
    return _row_form(
        request,
        secondment=sourced.secondment,
        form=form,
        title=_("修改推荐线索"),
        what="sourced",
        row=sourced,
    )


@role_required(*SOURCED_READERS)
def sourced_lead_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = SourcedFilterForm(request.GET or None)
    rows = SourcedLead.objects.visible_to(user).select_related(
        "secondment__cadre", "secondment__pairing", "lead", "decided_by"
    )
    status = ""
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        if status:
            rows = rows.filter(status=status)
    # Those waiting for a promoter first, the newest first within each.
    waiting_first = Case(
        When(status=SourcedLeadStatus.SUBMITTED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    page = _page(request, rows.order_by(waiting_first, "-created_at", "-pk"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("挂职干部推荐线索"),
        "filters": filters,
        "status": status,
        "page": page,
        "rows": [{"sourced": s, "phone": sourcing.contact_phone_for(user, s)} for s in page],
        "query_string": query.urlencode(),
        "waiting": SourcedLead.objects.visible_to(user).filter(status=SourcedLeadStatus.SUBMITTED).count(),
    }
    return render(request, "exchange/programme/sourced_leads.html", context)


def _sourced_page(request: AuthedRequest, sourced: SourcedLead, **forms: Any) -> HttpResponse:
    user = request.user
    deciding = sourced.status == SourcedLeadStatus.SUBMITTED and sourcing.may_decide(user, sourced)
    zone = sourced.secondment.pairing.zone
    lead_visible = (
        sourced.lead_id is not None and Lead.objects.visible_to(user).filter(pk=sourced.lead_id).exists()
    )
    context = {
        "page_title": sourced.company_name,
        "sourced": sourced,
        "phone": sourcing.contact_phone_for(user, sourced),
        "deciding": deciding,
        "editable": sourcing.may_edit(user, sourced),
        "lead_visible": lead_visible,
        "secondment_visible": Secondment.objects.visible_to(user).filter(pk=sourced.secondment_id).exists(),
        "take_form": forms.get("take_form")
        or TakeForm(zone=zone, user=user, initial={"version": sourced.version}),
        "decline_form": forms.get("decline_form") or DeclineForm(initial={"version": sourced.version}),
    }
    return render(request, "exchange/programme/sourced_lead.html", context)


@role_required(*SOURCED_READERS)
def sourced_lead_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _sourced_page(request, _sourced(request, pk))


def _decided_sourced(request: AuthedRequest, pk: int) -> SourcedLead:
    sourced = _sourced(request, pk)
    if not sourcing.may_decide(request.user, sourced):
        raise PermissionDenied(_("只有本园区的招商专员可以接收或退回挂职干部推荐的线索"))
    return sourced


@post_action(*DECIDERS)
def sourced_lead_take(request: AuthedRequest, pk: int) -> HttpResponse:
    sourced = _decided_sourced(request, pk)
    zone = sourced.secondment.pairing.zone
    form = TakeForm(request.POST, zone=zone, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            lead = sourcing.take(
                sourced,
                by=request.user,
                owner=data["owner"],
                node=data["node"],
                version=version_shown(data, sourced.version),
            )
            messages.success(request, _("已转为招商线索：%(name)s") % {"name": sourced.company_name})
            return redirect("investment:lead", pk=lead.pk)
    return _sourced_page(request, sourced, take_form=form)


@post_action(*DECIDERS)
def sourced_lead_decline(request: AuthedRequest, pk: int) -> HttpResponse:
    sourced = _decided_sourced(request, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with refusal_as_form_error(form):
            sourcing.decline(
                sourced, by=request.user, reason=data["reason"], version=version_shown(data, sourced.version)
            )
            messages.success(request, _("已决定不予跟进：%(name)s") % {"name": sourced.company_name})
            return redirect("exchange:sourced-leads")
    return _sourced_page(request, sourced, decline_form=form)


urlpatterns: list[URLPattern] = [
    path("exchange/", index, name="index"),
    path("exchange/mine/", mine, name="mine"),
    path("exchange/pairings/new/", pairing_new, name="pairing-new"),
    path("exchange/pairings/<int:pk>/", pairing_detail, name="pairing"),
    path("exchange/pairings/<int:pk>/edit/", pairing_edit, name="pairing-edit"),
    path("exchange/secondments/new/", secondment_new, name="secondment-new"),
    path("exchange/secondments/<int:pk>/", secondment_detail, name="secondment"),
    path("exchange/secondments/<int:pk>/edit/", secondment_edit, name="secondment-edit"),
    path("exchange/secondments/<int:pk>/notes/new/", note_new, name="note-new"),
    path("exchange/notes/<int:pk>/edit/", note_edit, name="note-edit"),
    path("exchange/notes/<int:pk>/delete/", note_delete, name="note-delete"),
    path("exchange/secondments/<int:pk>/activities/new/", activity_new, name="activity-new"),
    path("exchange/activities/<int:pk>/edit/", activity_edit, name="activity-edit"),
    path("exchange/activities/<int:pk>/delete/", activity_delete, name="activity-delete"),
    path("exchange/secondments/<int:pk>/sourced-leads/new/", sourced_lead_new, name="sourced-lead-new"),
    path("exchange/sourced-leads/", sourced_lead_list, name="sourced-leads"),
    path("exchange/sourced-leads/<int:pk>/", sourced_lead_detail, name="sourced-lead"),
    path("exchange/sourced-leads/<int:pk>/edit/", sourced_lead_edit, name="sourced-lead-edit"),
    path("exchange/sourced-leads/<int:pk>/take/", sourced_lead_take, name="sourced-lead-take"),
    path("exchange/sourced-leads/<int:pk>/decline/", sourced_lead_decline, name="sourced-lead-decline"),
]
