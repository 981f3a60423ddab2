"""How appeals are shown, shared by the pages and the API: labels, names, the deadline that matters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import escalation, lifecycle
from guanjia.appeals.models import Appeal, Assignment, Status
from guanjia.core.models import User
from guanjia.core.roles import Role

IN_HAND = (Status.DISPATCHED, Status.SIGNED, Status.WAITING)
HIDDEN_ENTERPRISE = gettext_lazy("（企业要求保密）")

EVENT_LABELS = {
    "submit": gettext_lazy("提交"),
    "accept": gettext_lazy("受理"),
    **lifecycle.ACTION_LABELS,
    **escalation.EVENT_LABELS,
}


def current_assignments() -> Prefetch:
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(is_current=True).select_related("department"),
        to_attr="current_assignments",
    )


def overdue_q(now: datetime) -> Q:
    late_leads = Assignment.objects.filter(
        is_current=True, is_lead=True, answered_at__isnull=True, answer_due__lte=now
    ).values("appeal_id")
    # A paused appeal (waiting for material) is not overdue: its clock stands still.
    running = (Status.DISPATCHED, Status.SIGNED)
    return Q(status=Status.SUBMITTED, accept_due__lte=now) | Q(status__in=running, pk__in=late_leads)


def row_due(appeal: Appeal, lead: Assignment | None) -> datetime | None:
    """The deadline that matters now: accepting, answering or rating. None while the clock is paused
    (待补充材料): no deadline runs then."""
    if appeal.status == Status.SUBMITTED:
        return appeal.accept_due
    if appeal.status in (Status.DISPATCHED, Status.SIGNED) and lead is not None:
        return lead.answer_due
    if appeal.status in (Status.ANSWERED, Status.DECLINED):
        return appeal.rate_due
    return None


def actor_name(actor: User | None, appeal: Appeal, shown: bool) -> str:
    if actor is None:
        return _("系统")
    if not shown:
        # A confidential appeal: the department must not learn the enterprise from who acted for it.
        if actor.pk == appeal.enterprise.steward_id:
            return _("服务管家")
        if actor.unit_id is None:
            return _("企业")
    return f"{actor}（{actor.unit}）" if actor.unit_id else str(actor)


def draft_answer(lead: Assignment | None, user: User) -> dict[str, Any] | None:
    """The answer waiting for the department head's approval: shown to the head and to its writer."""
    if lead is None or not lead.draft_answer:
        return None
    head = user.has_role(Role.DEPARTMENT_HEAD) and user.unit_id == lead.department_id
    if not head and (lead.drafted_by_id is None or lead.drafted_by_id != user.pk):
        return None
    return {
        "answer": lead.draft_answer,
        "outcome": lead.draft_outcome,
        "outcome_label": lead.get_draft_outcome_display(),
        "drafted_by": lead.drafted_by,
        "drafted_by_name": str(lead.drafted_by) if lead.drafted_by_id else "",
        "drafted_at": lead.drafted_at,
    }


def master_appeal(appeal: Appeal, user: User) -> dict[str, Any] | None:
    """A merged child's master: its number and status, whether `user` may open it, and the answer it
    gave (the child mirrors it) once it has one."""
    if appeal.master_id is None:
        return None
    master = Appeal.objects.get(pk=appeal.master_id)
    answered = (
        Assignment.objects.filter(appeal=master, is_lead=True, answered_at__isnull=False)
        .select_related("department")
        .order_by("-answered_at", "-pk")
        .first()
    )
    return {
        "appeal": master,
        "visible": Appeal.objects.visible_to(user).filter(pk=master.pk).exists(),
        "answered": answered,
    }


def merged_children(appeal: Appeal, user: User) -> dict[str, Any] | None:
    """The duplicates merged into `appeal`: those `user` may open, and how many others there are."""
    children = Appeal.objects.filter(master=appeal).order_by("merged_at", "pk")
    total = children.count()
    if not total:
        return None
    visible = list(children.filter(pk__in=Appeal.objects.visible_to(user).values("pk")))
    return {"visible": visible, "others": total - len(visible)}
