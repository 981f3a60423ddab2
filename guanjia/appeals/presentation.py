"""How appeals are shown, shared by the pages and the API: labels, names, the deadline that matters."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import escalation, lifecycle
from guanjia.appeals.models import Appeal, Assignment, Status
from guanjia.core.models import User

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
    return Q(status=Status.SUBMITTED, accept_due__lte=now) | Q(status__in=IN_HAND, pk__in=late_leads)


def row_due(appeal: Appeal, lead: Assignment | None) -> datetime | None:
    """The deadline that matters now: accepting, answering or rating."""
    if appeal.status == Status.SUBMITTED:
        return appeal.accept_due
    if appeal.status in IN_HAND and lead is not None:
        return lead.answer_due
    if appeal.status == Status.ANSWERED:
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
