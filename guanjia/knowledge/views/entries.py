"""Pages of the knowledge base (知识库): the staff's list with its search, filters and counts, an entry and
the keepers' forms, an answered 咨询 appeal turned into an entry, the zone's unanswered portal searches,
the HTMX panel beside the appeal form and on the dispatcher's desk, and the enterprise portal's search
with its "did this solve your question?" buttons.

Reads go through Entry.objects.visible_to (out of scope is a 404); a role without the right gets 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals.models import Appeal
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.core.views_common import (
    allowed_if,
    post_action,
    posted_version,
    refusal_as_message,
    version_shown,
)
from guanjia.enterprises.models import Enterprise, EnterpriseMembership
from guanjia.knowledge import entries as services
from guanjia.knowledge import finding
from guanjia.knowledge.access import answered_consultation, keeps_some_entry, may_keep, may_turn_into_entry
from guanjia.knowledge.forms.entries import (
    SEARCH_MAX,
    EntryFilter,
    EntryForm,
    FeedbackForm,
    FromAppealForm,
    categories,
)
from guanjia.knowledge.models import KNOWLEDGE_KEEPERS, KNOWLEDGE_OVERSEERS, Entry, EntryStatus

PAGE_SIZE = 20
PANEL_SIZE = 5
PORTAL_SIZE = 10
SEARCH_SIZE = 50
# H4's booking page (windows:book); its path while that page is not there yet.
APPOINTMENT_PATH = "/portal/appointments/new/"


# --- who may ----------------------------------------------------------------------------------------


def _business(user: User) -> bool:
    return is_business_account(user) and bool(user.roles)


def _staff(user: User) -> bool:
    return _business(user) and bool(user.roles - {Role.ENTERPRISE_USER})


# A business account other than an enterprise's (those use the portal); the writes, for the handlers
# and heads of a department (access.keeps_some_entry).
staff_required = allowed_if(_staff, gettext_lazy("您的账号无权查看知识库管理页面"))
keeper_required = allowed_if(keeps_some_entry, gettext_lazy("只有部门承办人或部门负责人可以维护知识库"))


def _entry(request: AuthedRequest, pk: int) -> Entry:
    # Out of the user's scope is a 404: we do not confirm that it exists.
    queryset = Entry.objects.visible_to(request.user).select_related(
        "department", "category", "category__parent", "created_by", "zone"
    )
    return get_object_or_404(queryset, pk=pk)


def _kept_entry(request: AuthedRequest, pk: int) -> Entry:
    entry = _entry(request, pk)
    if not may_keep(request.user, entry):
        raise PermissionDenied(_("只有该条目维护部门的工作人员可以维护该条目"))
    return entry


def _refusal_on_form(form: Any, exc: ServiceError) -> None:
    """A service's refusal next to the field it names (without repeating the label), else above the form."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if field and field in form.fields:
        form.add_error(field, message.removeprefix(f"{form.fields[field].label}："))
    else:
        form.add_error(None, message)


def _query(request: AuthedRequest, *names: str) -> str:
    for name in names:
        text = request.GET.get(name, "").strip()
        if text:
            return text[:SEARCH_MAX]
    return ""


def appointment_url() -> str:
    try:
        return reverse("windows:book")
    except NoReverseMatch:
        return APPOINTMENT_PATH


# --- the staff's list -------------------------------------------------------------------------------


def _readable(user: User) -> QuerySet[Entry]:
    visible = Entry.objects.visible_to(user)
    return visible if finding.sees_drafts(user) else visible.published()


@staff_required
def entry_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    readable = _readable(user)
    filters = EntryFilter(request.GET, queryset=readable)
    scoped = filters.qs if filters.is_valid() else readable.none()
    q = _query(request, "q")
    page = None
    if q:
        found = finding.find(user, q, limit=SEARCH_SIZE, published_only=False, within=scoped)
        counted = services.with_counts(Entry.objects.filter(pk__in=[f.entry.pk for f in found]))
        counts = {row["pk"]: row for row in counted.values("pk", "resolved_count", "unresolved_count")}
        rows = [
            {
                "entry": f.entry,
                "title_html": f.hit.title_html,
                "snippet": f.hit.snippet_html(),
                "resolved": counts.get(f.entry.pk, {}).get("resolved_count", 0),
            }
            for f in found
        ]
    else:
        order = (
            ("-resolved_count", "-pk") if request.GET.get("order") == "resolved" else ("-updated_at", "-pk")
        )
        listed = (
            services.with_counts(scoped)
            .select_related("department", "category", "category__parent")
            .order_by(*order)
        )
        page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {
                "entry": entry,
                "title_html": escape(entry.question),
                "snippet": Truncator(entry.answer).chars(120),
                "resolved": entry.resolved_count,  # type: ignore[attr-defined]
            }
            for entry in page
        ]
    now = timezone.now()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_title": _("知识库"),
        "q": q,
        "filters": filters,
        "rows": rows,
        "page": page,
        "query_string": query.urlencode(),
        "categories": categories(),
        "departments": OrgUnit.objects.filter(pk__in=readable.values("department_id")).order_by("name"),
        "statuses": EntryStatus.choices if finding.sees_drafts(user) else [],
        "chosen": {name: request.GET.get(name, "") for name in ("category", "status", "department", "order")},
        "top": services.top_entries(readable),
        "totals": services.zone_totals(user.zone_ids(), services.month_start(now), now),
        "can_create": keeps_some_entry(user),
        "sees_unanswered": user.has_any_role(KNOWLEDGE_KEEPERS | KNOWLEDGE_OVERSEERS),
    }
    return render(request, "knowledge/list.html", context)


# --- an entry ---------------------------------------------------------------------------------------


@staff_required
def entry_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    counts = services.with_counts(Entry.objects.filter(pk=entry.pk)).values(
        "resolved_count", "unresolved_count"
    )[0]
    source = None
    if entry.source_appeal_id:
        source = Appeal.objects.visible_to(request.user).filter(pk=entry.source_appeal_id).first()
    context = {
        "page_title": entry.question,
        "entry": entry,
        "keeper": may_keep(request.user, entry),
        "counts": counts,
        "source": source,
    }
    return render(request, "knowledge/detail.html", context)


@keeper_required
def entry_new(request: AuthedRequest) -> HttpResponse:
    form = EntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.create_entry(
                by=request.user,
                question=data["question"],
                answer=data["answer"],
                keywords=data["keywords"],
                category=data["category"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存为草稿；发布后企业即可在门户中查到"))
            return redirect("knowledge:entry", pk=entry.pk)
    context = {"page_title": _("新建知识条目"), "form": form, "department": request.user.unit}
    return render(request, "knowledge/form.html", context)


@keeper_required
def entry_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _kept_entry(request, pk)
    initial = {
        "question": entry.question,
        "answer": entry.answer,
        "keywords": entry.keywords,
        "category": entry.category,
        "version": entry.version,
    }
    form = EntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_entry(
                entry,
                by=request.user,
                version=version_shown(data, entry.version),
                question=data["question"],
                answer=data["answer"],
                keywords=data["keywords"],
                category=data["category"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("knowledge:entry", pk=entry.pk)
    context = {"page_title": _("修改知识条目"), "form": form, "entry": entry, "department": entry.department}
    return render(request, "knowledge/form.html", context)


@post_action(*KNOWLEDGE_KEEPERS)
def entry_publish(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _kept_entry(request, pk)
    with refusal_as_message(request):
        services.publish(entry, by=request.user, version=posted_version(request, entry.version))
        messages.success(request, _("已发布：本园区企业现在可以在门户中查到该条目"))
    return redirect("knowledge:entry", pk=entry.pk)


@post_action(*KNOWLEDGE_KEEPERS)
def entry_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _kept_entry(request, pk)
    with refusal_as_message(request):
        services.archive(entry, by=request.user, version=posted_version(request, entry.version))
        messages.success(request, _("已停用：企业将不再查到该条目"))
    return redirect("knowledge:entry", pk=entry.pk)


# --- an answered 咨询 appeal becomes an entry ----------------------------------------------------------


@role_required(*KNOWLEDGE_KEEPERS, Role.DISPATCHER)
def entry_from_appeal(request: AuthedRequest, appeal: int) -> HttpResponse:
    source = get_object_or_404(Appeal.objects.visible_to(request.user).select_related("category"), pk=appeal)
    if not answered_consultation(source):
        raise PermissionDenied(_("只有已答复的咨询类诉求可以转为知识条目"))
    if not may_turn_into_entry(request.user, source):
        raise PermissionDenied(_("只有答复该诉求的部门或本园区受理员可以将其转为知识条目"))
    departments = services.departments_for_appeal(source, request.user)
    initial = services.entry_draft_from_appeal(source, by=request.user)
    form = FromAppealForm(request.POST or None, initial=initial, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.create_entry(
                by=request.user,
                question=data["question"],
                answer=data["answer"],
                keywords=data["keywords"],
                category=data["category"],
                source_appeal=source,
                department=data["department"],
            )
        except ServiceError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(
                request, _("已由诉求 #%(pk)s 生成知识条目草稿，请维护部门核对后发布") % {"pk": source.pk}
            )
            return redirect("knowledge:entry", pk=entry.pk)
    context = {
        "page_title": _("由诉求生成知识条目"),
        "form": form,
        "appeal": source,
        "existing": list(
            services.entries_from_appeal(source).filter(pk__in=_readable(request.user).values("pk"))
        ),
    }
    return render(request, "knowledge/form.html", context)


# --- the zone's portal searches that found nothing ------------------------------------------------------


@role_required(*KNOWLEDGE_KEEPERS, *KNOWLEDGE_OVERSEERS)
def unanswered(request: AuthedRequest) -> HttpResponse:
    rows = services.unanswered_queries(request.user.zone_ids())
    context = {
        "page_title": _("未找到答案的搜索"),
        "rows": rows,
        "days": services.UNANSWERED_DAYS,
        "can_create": keeps_some_entry(request.user),
    }
    return render(request, "knowledge/unanswered.html", context)


# --- the HTMX panel: beside the appeal form and on the dispatcher's desk --------------------------------


@login_required
def panel(request: AuthedRequest) -> HttpResponse:
    """Up to five published entries matching ?q= (or the appeal form's ?title=), as an HTML fragment."""
    user = request.user
    if not _business(user):
        raise PermissionDenied(_("您的账号无权查看知识库"))
    q = _query(request, "q", "title")
    found = finding.find(user, q, limit=PANEL_SIZE, published_only=True) if q else []
    portal_user = user.has_any_role({Role.ENTERPRISE_USER, Role.STEWARD})
    more = reverse("knowledge:portal" if portal_user else "knowledge:list")
    context = {"q": q, "found": found, "more_url": f"{more}?{urlencode({'q': q})}" if q else more}
    return render(request, "knowledge/_panel.html", context)


# --- the enterprise portal ------------------------------------------------------------------------------


def _member_enterprises(user: User) -> list[Enterprise]:
    return [
        membership.enterprise
        for membership in EnterpriseMembership.objects.filter(user=user, is_active=True)
        .select_related("enterprise")
        .order_by("pk")
    ]


@role_required(Role.ENTERPRISE_USER, Role.STEWARD)
def portal(request: AuthedRequest) -> HttpResponse:
    user = request.user
    q = _query(request, "q")
    found = finding.find(user, q, limit=PORTAL_SIZE, published_only=True) if q else []
    if q:
        services.log_query(user, q, len(found))
    is_enterprise = user.has_role(Role.ENTERPRISE_USER)
    enterprises = _member_enterprises(user) if is_enterprise else []
    title = {"title": q[:100]} if q else {}
    submit_links = [
        {
            "enterprise": enterprise,
            "url": reverse("appeals:submit", args=[enterprise.pk])
            + (f"?{urlencode(title)}" if title else ""),
        }
        for enterprise in enterprises
    ]
    context = {
        "page_title": _("知识库·常见问题"),
        "q": q,
        "found": found,
        "may_give_feedback": is_enterprise,
        "submit_links": submit_links,
        "stewarded_url": reverse("enterprises:mine") if user.has_role(Role.STEWARD) else "",
        "appointment_url": appointment_url(),
    }
    return render(request, "knowledge/portal.html", context)


@post_action(Role.ENTERPRISE_USER)
def feedback(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(Entry.objects.visible_to(request.user).published(), pk=pk)
    form = FeedbackForm(request.POST)
    back = reverse("knowledge:portal")
    if not form.is_valid():
        messages.error(request, _("请选择“问题已解决”或“没有解决”"))
        return redirect(back)
    q = form.cleaned_data["q"].strip()
    if q:
        back = f"{back}?{urlencode({'q': q})}"
    try:
        given = services.record_feedback(
            entry, by=request.user, resolved=form.cleaned_data["resolved"], query=q
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if given.resolved:
        messages.success(request, _("感谢您的反馈，很高兴问题已经解决"))
        return redirect(back)
    enterprise = given.enterprise
    if enterprise is None:
        messages.info(request, _("很抱歉没有解决您的问题，您可以提交诉求或预约窗口办理"))
        return redirect(back)
    messages.info(request, _("很抱歉没有解决您的问题：请写下您的诉求，园区将在规定时限内答复"))
    title = (q or entry.question)[:100]
    return redirect(f"{reverse('appeals:submit', args=[enterprise.pk])}?{urlencode({'title': title})}")


urlpatterns: list[URLPattern] = [
    path("knowledge/", entry_list, name="list"),
    path("knowledge/new/", entry_new, name="entry-new"),
    path("knowledge/unanswered/", unanswered, name="unanswered"),
    path("knowledge/panel/", panel, name="panel"),
    path("knowledge/from-appeal/<int:appeal>/", entry_from_appeal, name="entry-from-appeal"),
    path("knowledge/<int:pk>/", entry_detail, name="entry"),
    path("knowledge/<int:pk>/edit/", entry_edit, name="entry-edit"),
    path("knowledge/<int:pk>/publish/", entry_publish, name="entry-publish"),
    path("knowledge/<int:pk>/archive/", entry_archive, name="entry-archive"),
    path("portal/knowledge/", portal, name="portal"),
    path("portal/knowledge/<int:pk>/feedback/", feedback, name="feedback"),
]
