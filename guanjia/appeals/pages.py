"""Pages of the appeal loop: submit, each role's list, the appeal page and its transitions.

Every read goes through Appeal.objects.visible_to (out of scope is a 404); every
write goes through a lifecycle service, whose refusal is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanjia.appeals import (
    attachments,
    escalation,
    exporting,
    lifecycle,
    permissions,
    presentation,
    steps,
    worklists,
)
from guanjia.appeals.forms import (
    AnswerForm,
    AppealFilterForm,
    AppealForm,
    ApproveAnswerForm,
    AttachmentForm,
    CoordinateForm,
    DeclineForm,
    DispatchForm,
    EscalateForm,
    ExtensionForm,
    MergeForm,
    OpinionForm,
    PauseForm,
    PhoneTransferForm,
    RatingForm,
    RejectAnswerForm,
    ResumeForm,
    ReturnForm,
)
from guanjia.appeals.models import (
    Appeal,
    AppealEvent,
    Assignment,
    Attachment,
    Channel,
    Status,
)
from guanjia.appeals.services import default_department
from guanjia.core import workcalendar
from guanjia.core.decorators import AuthedRequest, role_required
from guanjia.core.errors import ServiceError
from guanjia.core.forms import form_errors_message
from guanjia.core.http import client_ip
from guanjia.core.masking import phone_for
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

ZONE_LIST_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER)
IN_HAND = presentation.IN_HAND
HIDDEN_ENTERPRISE = presentation.HIDDEN_ENTERPRISE

FORM_ACTION_LABELS = {
    **lifecycle.ACTION_LABELS,
    "rate": gettext_lazy("评价"),
    "rate_on_behalf": gettext_lazy("回访代录评价"),
    "escalate": gettext_lazy("督办"),
    "extend": gettext_lazy("申请延期"),
    "approve_answer": gettext_lazy("审核通过答复"),
    "reject_answer": gettext_lazy("退回答复修改"),
}
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "dispatch": DispatchForm,
    "decline": DeclineForm,
    "merge": MergeForm,
    "return": ReturnForm,
    "answer": AnswerForm,
    "approve_answer": ApproveAnswerForm,
    "reject_answer": RejectAnswerForm,
    "opinion": OpinionForm,
    "pause": PauseForm,
    "extend": ExtensionForm,
    "resume": ResumeForm,
    "coordinate": CoordinateForm,
    "rate": RatingForm,
    "rate_on_behalf": RatingForm,
    "escalate": EscalateForm,
}


# --- deadlines ----------------------------------------------------------------


@dataclass(frozen=True)
class DueView:
    """A deadline as a page shows it: its day, working days left or overdue, and the 临时 flag."""

    label: str
    due: datetime
    day: date
    at_midnight: bool
    provisional: bool
    overdue: bool
    left: int  # working days after today up to the due day; 0 = due today
    overdue_days: int


def due_view(label: str, due: datetime, *, provisional: bool = False, now: datetime | None = None) -> DueView:
    now = now or timezone.now()
    local = due.astimezone(workcalendar.BEIJING)
    # A deadline is 24:00 of its day, stored as 00:00 of the next: step back into the day itself.
    day = (local - timedelta(microseconds=1)).date()
    today = now.astimezone(workcalendar.BEIJING).date()
    overdue = now >= due
    return DueView(
        label=label,
        due=local,
        day=day,
        at_midnight=local.time() == datetime.min.time(),
        provisional=provisional,
        overdue=overdue,
        left=0 if overdue else workcalendar.workdays_between(today, day),
        overdue_days=workcalendar.workdays_between(day, today) if overdue else 0,
    )


def _deadlines(appeal: Appeal, lead: Assignment | None, now: datetime) -> list[DueView]:
    found = []
    if appeal.status == Status.SUBMITTED:
        found.append(
            due_view(_("受理期限"), appeal.accept_due, provisional=appeal.accept_due_provisional, now=now)
        )
    if lead is not None and appeal.status in IN_HAND:
        if lead.signed_at is None:
            found.append(due_view(_("签收期限"), lead.sign_due, provisional=lead.provisional, now=now))
        found.append(due_view(_("答复期限"), lead.answer_due, provisional=lead.provisional, now=now))
    if appeal.status in (Status.ANSWERED, Status.DECLINED) and appeal.rate_due:
        found.append(due_view(_("评价期限"), appeal.rate_due, now=now))
    if appeal.external_due and appeal.status not in (Status.CLOSED, Status.DECLINED):
        found.append(due_view(_("外部办理期限"), appeal.external_due, now=now))
    return found


def next_step(appeal: Appeal, lead: Assignment | None) -> str:
    """What happens next, in the enterprise's words."""
    department = lead.department.name if lead is not None else ""
    steps = {
        Status.SUBMITTED: _("等待园区受理"),
        Status.DISPATCHED: _("已交%(dept)s办理，等待签收") % {"dept": department},
        Status.SIGNED: _("%(dept)s正在办理") % {"dept": department},
        Status.WAITING: _("请按要求补充材料"),
        Status.ANSWERED: _("已答复，请查看答复并评价"),
        Status.RETURNED: _("园区正在重新安排承办部门"),
        Status.DECLINED: _("不予受理，请查看理由和办理建议"),
        Status.CLOSED: _("已办结"),
        Status.MERGED: _("已与同类诉求合并办理"),
    }
    return str(steps.get(Status(appeal.status), ""))


# --- querysets ----------------------------------------------------------------


def _list_queryset(user: User) -> QuerySet[Appeal]:
    return (
        Appeal.objects.visible_to(user)
        .select_related("enterprise", "category", "category__parent")
        .prefetch_related(presentation.current_assignments())
    )


def _visible_appeal(request: AuthedRequest, pk: int) -> Appeal:
    # Outside the user's scope is a 404, not a 403: we do not confirm that it exists.
    queryset = (
        Appeal.objects.visible_to(request.user)
        .select_related("zone", "enterprise", "enterprise__steward", "category", "category__parent")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("department", "signed_by", "answered_by").order_by(
                    "dispatched_at", "id"
                ),
            )
        )
    )
    return get_object_or_404(queryset, pk=pk)


def _page(request: AuthedRequest, queryset: QuerySet, per_page: int = 30):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- submit -------------------------------------------------------------------


@login_required
def appeal_submit(request: AuthedRequest, enterprise: int) -> HttpResponse:
    target = get_object_or_404(
        Enterprise.objects.visible_to(request.user).select_related("zone"), pk=enterprise
    )
    channel = permissions.submit_channel(target, request.user)
    if channel is None:
        raise PermissionDenied(_("您不能为该企业提交诉求"))
    form_class = PhoneTransferForm if channel == Channel.PHONE else AppealForm
    # ?title= prefills the form (the knowledge base's "没有解决" leads here with the enterprise's question).
    initial = {"title": request.GET.get("title", "").strip()[:100]} if request.method == "GET" else None
    form = form_class(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The appeal and its files together: a refused file refuses the submission.
            appeal = attachments.submit_with_attachments(
                target,
                files=data["attachments"],
                title=data["title"],
                body=data["body"],
                channel=channel,
                by=request.user,
                category=data["category"],
                handling=data["handling"],
                urgent=data["urgent"],
                confidential=data["confidential"],
                external_ticket=data.get("external_ticket", ""),
                external_due=form.external_due_at() if isinstance(form, PhoneTransferForm) else None,
            )
        except attachments.AttachmentRefused as exc:
            form.add_error("attachments", _("%(reason)s；请重新选择文件") % {"reason": exc})
        except ServiceError as exc:
            form.add_error(None, _("提交未成功：%(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("诉求已提交，编号 #%(pk)s") % {"pk": appeal.pk})
            return redirect("appeals:detail", pk=appeal.pk)
    context = {
        "form": form,
        "enterprise": target,
        "channel": Channel(channel).label,
        "page_title": _("提交诉求"),
    }
    return render(request, "appeals/submit.html", context)


# --- lists --------------------------------------------------------------------


@role_required(Role.ENTERPRISE_USER)
def my_appeals(request: AuthedRequest) -> HttpResponse:
    """我的诉求: the appeals of the user's enterprises, with what happens next."""
    enterprise_ids = EnterpriseMembership.objects.filter(user=request.user, is_active=True).values(
        "enterprise_id"
    )
    queryset = (
        _list_queryset(request.user).filter(enterprise_id__in=enterprise_ids).order_by("-submitted_at", "-pk")
    )
    if request.GET.get("format") == "xlsx":
        return exporting.export_appeals(queryset, request.user, title=_("我的诉求"))
    page = _page(request, queryset)
    rows = []
    for appeal in page:
        lead = permissions.current_lead(appeal)
        rows.append({"appeal": appeal, "lead": lead, "next_step": next_step(appeal, lead)})
    enterprises = Enterprise.objects.visible_to(request.user).filter(pk__in=enterprise_ids).order_by("name")
    context = {"page": page, "rows": rows, "enterprises": enterprises, "page_title": _("我的诉求")}
    return render(request, "appeals/mine.html", context)


def _render_list(request: AuthedRequest, queryset: QuerySet[Appeal], *, title: str) -> HttpResponse:
    now = timezone.now()
    filters = AppealFilterForm(request.GET or None)
    enterprise = None
    if request.GET.get("enterprise", "").isdigit():
        enterprise = Enterprise.objects.visible_to(request.user).filter(pk=request.GET["enterprise"]).first()
        if enterprise is None:
            raise Http404
        queryset = queryset.filter(enterprise=enterprise)
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            queryset = queryset.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data["category"]:
            category = filters.cleaned_data["category"]
            queryset = queryset.filter(Q(category=category) | Q(category__parent=category))
        if filters.cleaned_data["overdue"]:
            queryset = queryset.filter(presentation.overdue_q(now))
    if request.GET.get("format") == "xlsx":
        return exporting.export_appeals(queryset, request.user, title=title)
    page = _page(request, queryset.order_by("-submitted_at", "-pk"), 50)
    visibility = permissions.EnterpriseVisibility(request.user)
    rows = []
    for appeal in page:
        lead = permissions.current_lead(appeal)
        due = presentation.row_due(appeal, lead)
        rows.append(
            {
                "appeal": appeal,
                "lead": lead,
                "enterprise": appeal.enterprise.name if visibility.sees(appeal) else HIDDEN_ENTERPRISE,
                "due": due,
                "overdue": due is not None and due <= now,
            }
        )
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "filter_enterprise": enterprise,
        "page_title": title,
    }
    template = "appeals/_list_table.html" if request.headers.get("HX-Request") else "appeals/list.html"
    return render(request, template, context)


@role_required(*ZONE_LIST_ROLES)
def appeal_list(request: AuthedRequest) -> HttpResponse:
    """诉求总览: the zone-wide list for the dispatcher, the supervisor and the leader."""
    queryset = _list_queryset(request.user).filter(zone_id__in=request.user.zone_ids())
    return _render_list(request, queryset, title=_("诉求总览"))


@role_required(Role.STEWARD)
def stewarded_appeals(request: AuthedRequest) -> HttpResponse:
    """The appeals of the enterprises the steward serves."""
    queryset = _list_queryset(request.user).filter(enterprise__steward=request.user)
    return _render_list(request, queryset, title=_("我服务企业的诉求"))


@role_required(Role.DISPATCHER)
def queue(request: AuthedRequest) -> HttpResponse:
    """诉求受理: appeals waiting for the zone's dispatcher, oldest accept deadline first."""
    now = timezone.now()
    page = _page(request, worklists.dispatcher_queue(request.user), 50)
    soon = worklists.accept_soon_horizon(now)
    rows = [
        {
            "appeal": appeal,
            "returned": appeal.returns[0] if appeal.returns else None,  # type: ignore[attr-defined]
            "overdue": appeal.status == Status.SUBMITTED and appeal.accept_due <= now,
            "soon": appeal.status == Status.SUBMITTED and now < appeal.accept_due <= soon,
        }
        for appeal in page
    ]
    return render(request, "appeals/queue.html", {"page": page, "rows": rows, "page_title": _("诉求受理")})


@role_required(Role.HANDLER, Role.DEPARTMENT_HEAD)
def worklist(request: AuthedRequest) -> HttpResponse:
    """部门工作台: the department's current assignments, by deadline (the queries are in worklists.py)."""
    now = timezone.now()
    soon = worklists.soon_horizon(now)
    tabs = dict(worklists.WORKLIST_TABS)
    tab = request.GET.get("tab", worklists.DEFAULT_TAB)
    if tab not in tabs:
        tab = worklists.DEFAULT_TAB
    text = request.GET.get("q", "").strip()[:100]
    queryset = worklists.worklist_rows(
        worklists.search(worklists.worklist_tab(request.user, tab, now), text, prefix="appeal__")
    )
    if request.GET.get("format") == "xlsx":
        title = _("部门工作台·%(tab)s") % {"tab": tabs[tab]}
        return exporting.export_worklist(queryset, request.user, title=title, now=now)
    shown = worklists.worklist_page(request.user, tab, now, request.GET.get("page"), text=text, per_page=50)
    page = shown.page
    visibility = permissions.EnterpriseVisibility(request.user)
    rows = []
    for a in page:
        running = a.appeal.status != Status.WAITING  # the clock stands still while material is awaited
        rows.append(
            {
                "assignment": a,
                "appeal": a.appeal,
                "enterprise": a.appeal.enterprise.name if visibility.sees(a.appeal) else HIDDEN_ENTERPRISE,
                "may_sign": a.is_lead and a.appeal.status == Status.DISPATCHED,
                "overdue": running and a.answer_due <= now,
                "soon": running and now < a.answer_due <= soon,
                "sign_overdue": a.signed_at is None and a.sign_due <= now,
            }
        )
    counts = shown.counts
    context = {
        "page": page,
        "rows": rows,
        "tab": tab,
        "q": text,
        "tabs": [(key, label, counts[key]) for key, label in worklists.WORKLIST_TABS],
        "page_title": _("部门工作台"),
    }
    template = (
        "appeals/_worklist_table.html" if request.headers.get("HX-Request") else "appeals/worklist.html"
    )
    return render(request, template, context)


# --- the appeal page ----------------------------------------------------------


def _action_form(action: str, appeal: Appeal, data: Any = None, *, user: User | None = None) -> forms.Form:
    form_class = ACTION_FORMS[action]
    if form_class is DispatchForm:
        initial: dict[str, Any] = {"category": appeal.category}
        if appeal.category is not None:
            initial["lead"] = default_department(appeal.category, appeal.zone)
        return DispatchForm(data, prefix=action, zone_id=appeal.zone_id, initial=initial)
    if form_class is MergeForm:
        return MergeForm(data, prefix=action, appeal=appeal, user=user)
    lead = permissions.current_lead(appeal)
    if form_class is ExtensionForm:
        left = permissions.extension_days_left(appeal, lead) if lead is not None else None
        return ExtensionForm(data, prefix=action, days_left=left)
    if form_class is ApproveAnswerForm and lead is not None:
        return ApproveAnswerForm(data, prefix=action, initial={"answer": lead.draft_answer})
    return form_class(data, prefix=action)


def _render_detail(
    request: AuthedRequest, appeal: Appeal, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    shown = permissions.sees_enterprise(appeal, user)
    assignments = list(appeal.assignments.all())
    lead = next((a for a in assignments if a.is_current and a.is_lead), None)
    events = AppealEvent.objects.filter(appeal=appeal).select_related("actor", "actor__unit")
    files = Attachment.objects.filter(appeal=appeal).select_related("uploaded_by", "uploaded_by__unit")
    actions = permissions.available_actions(appeal, user)
    bound = bound or {}
    attach_form = None
    if attachments.may_attach(appeal, user):
        attach_form = bound.get("attach") or AttachmentForm()
    action_forms = {
        action: bound.get(action) or _action_form(action, appeal, user=user)
        for action in actions
        if action in ACTION_FORMS
    }
    contact = None
    steward_phone = ""
    if shown:
        primary = appeal.enterprise.contacts.filter(is_primary=True).first()
        if primary is not None:
            contact = {"contact": primary, "phone": phone_for(user, primary.phone)}
        if appeal.enterprise.steward is not None:
            steward_phone = phone_for(user, appeal.enterprise.steward.phone)
    context = {
        "appeal": appeal,
        "shown": shown,
        "hidden_enterprise": HIDDEN_ENTERPRISE,
        "contact": contact,
        "steward_phone": steward_phone,
        "lead": lead,
        "assignments": assignments,
        "deadlines": _deadlines(appeal, lead, now),
        "events": [
            {
                "event": e,
                "label": presentation.EVENT_LABELS.get(e.action, e.action),
                "actor": presentation.actor_name(e.actor, appeal, shown),
            }
            for e in events
        ],
        "ratings": steps.rating_rows(appeal, user, shown, bound),
        **steps.page_context(appeal, user, shown=shown, lead=lead, bound=bound),
        "attachments": [
            {"attachment": a, "by": presentation.actor_name(a.uploaded_by, appeal, shown)} for a in files
        ],
        "attach_form": attach_form,
        "actions": actions,
        "forms": action_forms,
        "page_title": str(appeal),
    }
    return render(request, "appeals/detail.html", context)


@login_required
def appeal_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_appeal(request, pk))


def _perform(action: str, appeal: Appeal, data: dict[str, Any], by: User) -> str | None:
    """Run `action`'s service; returns a message where the outcome is not simply "done"."""
    if action == "dispatch":
        lifecycle.dispatch_appeal(
            appeal,
            to=data["lead"],
            co=list(data["co"]),
            category=data["category"],
            note=data["note"],
            by=by,
        )
    elif action == "decline":
        lifecycle.decline_appeal(appeal, reason=data["reason"], advice=data["advice"], by=by)
    elif action == "sign":
        lifecycle.sign_appeal(appeal, by=by)
    elif action == "return":
        lifecycle.return_appeal(appeal, reason=data["reason"], by=by)
    elif action == "answer":
        lead = lifecycle.answer_appeal(appeal, answer=data["answer"], outcome=data["outcome"], by=by)
        if lead.answered_at is None:  # the department's head approves its answers first
            return _("答复已提交部门负责人审核")
    elif action == "approve_answer":
        lifecycle.approve_answer(appeal, answer=data["answer"], by=by)
    elif action == "reject_answer":
        lifecycle.reject_answer(appeal, note=data["note"], by=by)
    elif action == "opinion":
        lifecycle.give_opinion(appeal, opinion=data["opinion"], by=by)
    elif action == "pause":
        lifecycle.pause_appeal(appeal, request=data["request"], by=by)
    elif action == "resume":
        lifecycle.resume_appeal(appeal, reply=data["reply"], by=by)
    elif action == "extend":
        lifecycle.request_extension(appeal, days=data["days"], reason=data["reason"], by=by)
        return _("延期申请已提交，等待效能督查审批")
    elif action == "coordinate":
        lifecycle.coordinate_appeal(appeal, decision=data["decision"], by=by)
    elif action == "merge":
        lifecycle.merge_appeal(appeal, into=data["master"], note=data["note"], by=by)
        return _("已合并到诉求 #%(ref)s") % {"ref": data["master"].pk}
    elif action == "escalate":
        escalation.escalate_by_hand(appeal, note=data["note"], to_leader=data["to_leader"], by=by)
    elif action in ("rate", "rate_on_behalf"):
        lifecycle.rate_appeal(
            appeal,
            level=data["level"],
            solved=data["solved"],
            comment=data["comment"],
            on_behalf=action == "rate_on_behalf",
            by=by,
        )
    return None


@require_POST
@login_required
def appeal_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One transition from the appeal page (or the worklist): through its lifecycle service."""
    if action not in permissions.ACTIONS:
        raise Http404
    appeal = _visible_appeal(request, pk)
    label = FORM_ACTION_LABELS[action]
    data: dict[str, Any] = {}
    if action in ACTION_FORMS:
        form = _action_form(action, appeal, request.POST, user=request.user)
        if not form.is_valid():
            messages.error(
                request,
                _("%(action)s未提交：%(errors)s") % {"action": label, "errors": form_errors_message(form)},
            )
            return _render_detail(request, appeal, bound={action: form})
        data = form.cleaned_data
    # Judge the write against the state the user's page showed: a change made since is refused.
    try:
        appeal.version = int(request.POST.get("version", appeal.version))
    except ValueError:
        appeal.version = 0
    try:
        done = _perform(action, appeal, data, request.user)
    except ServiceError as exc:
        messages.error(request, _("%(action)s未成功：%(reason)s") % {"action": label, "reason": exc})
    else:
        messages.success(request, done or _("已%(action)s") % {"action": label})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(reverse("appeals:detail", args=[appeal.pk]))


# --- attachments (guanjia.appeals.attachments) -------------------------------------


@require_POST
@login_required
def appeal_attach(request: AuthedRequest, pk: int) -> HttpResponse:
    """补充附件 from the appeal page: all files of the upload, or none."""
    appeal = _visible_appeal(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("附件未上传：%(errors)s") % {"errors": form_errors_message(form)})
        return _render_detail(request, appeal, bound={"attach": form})
    try:
        added = attachments.add_attachments(appeal, form.cleaned_data["attachments"], by=request.user)
    except ServiceError as exc:
        messages.error(request, _("附件未上传：%(reason)s") % {"reason": exc})
    else:
        messages.success(request, _("已上传 %(count)s 个附件") % {"count": len(added)})
    return redirect(reverse("appeals:detail", args=[appeal.pk]) + "#attachments")


@login_required
def attachment_download(request: AuthedRequest, pk: int, att_pk: int) -> HttpResponseBase:
    """One attachment, to those who see its appeal; to everyone else it does not exist (404)."""
    appeal = get_object_or_404(Appeal.objects.visible_to(request.user), pk=pk)
    attachment = get_object_or_404(Attachment.objects.filter(appeal=appeal), pk=att_pk)
    return attachments.download(attachment, by=request.user, ip=client_ip(request))
