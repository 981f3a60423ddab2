"""The appeal lifecycle (诉求闭环): one service function per transition.

Each service takes an optional `at` (the moment it happened, default now) for
imports and demo data that replay a history; deadlines are computed from it.

Every transition checks the actor's right and the current state, then moves the
row with a conditional UPDATE on (id, status, version) whose row count must be
1 — the real guard, on SQLite (where select_for_update is ignored) as on
PostgreSQL — and writes its timeline event and audit record in the same
transaction. Notifications go to the outbox, delivered after commit. No other
code writes Appeal.status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    Channel,
    Handling,
    Outcome,
    Rating,
    RatingLevel,
    Status,
)
from guanjia.appeals.services import default_department
from guanjia.core import audit, outbox, workcalendar
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "dispatch": (frozenset({Status.SUBMITTED, Status.RETURNED}), Status.DISPATCHED),
    "decline": (frozenset({Status.SUBMITTED}), Status.DECLINED),
    "sign": (frozenset({Status.DISPATCHED}), Status.SIGNED),
    "return": (frozenset({Status.DISPATCHED, Status.SIGNED}), Status.RETURNED),
    "answer": (frozenset({Status.SIGNED}), Status.ANSWERED),
    "close": (frozenset({Status.ANSWERED}), Status.CLOSED),
    "reopen": (frozenset({Status.ANSWERED}), Status.SIGNED),
    "close_unrated": (frozenset({Status.ANSWERED}), Status.CLOSED),
}

RATE_DAYS = 3  # the enterprise rates within 3 working days of the answer
RETURN_WINDOW_DAYS = 1  # a department may return within 1 working day after signing
MAX_REOPENS = 2  # after the second reopen the next answer is final (领导协调)


def _move(
    appeal: Appeal,
    action: str,
    *,
    by: User | None,
    note: str = "",
    assignment: Assignment | None = None,
    now: datetime,
    **fields: Any,
) -> None:
    """The one place that changes Appeal.status: guarded, evented, audited (call inside a transaction)."""
    sources, target = TRANSITIONS[action]
    if appeal.status not in sources:
        raise Conflict(
            _("该诉求当前为“%(status)s”，不能%(action)s")
            % {"status": Status(appeal.status).label, "action": ACTION_LABELS[action]}
        )
    moved = Appeal.objects.filter(pk=appeal.pk, status=appeal.status, version=appeal.version).update(
        status=target, version=F("version") + 1, **fields
    )
    if moved != 1:
        raise Conflict(_("该诉求刚被他人处理，请刷新后查看最新状态"))
    AppealEvent.objects.create(
        appeal=appeal,
        assignment=assignment,
        actor=by,
        at=now,
        action=action,
        from_status=appeal.status,
        to_status=target,
        note=note,
    )
    audit.record(
        by,
        f"appeal.{action}",
        appeal,
        summary=f"诉求 #{appeal.pk} {ACTION_LABELS[action]}",
        detail={"from": appeal.status, "to": target},
    )
    appeal.status = target
    appeal.version += 1
    for key, value in fields.items():
        setattr(appeal, key, value)


ACTION_LABELS = {
    "dispatch": gettext_lazy("交办"),
    "decline": gettext_lazy("不予受理"),
    "sign": gettext_lazy("签收"),
    "return": gettext_lazy("退回"),
    "answer": gettext_lazy("答复"),
    "close": gettext_lazy("办结"),
    "reopen": gettext_lazy("重办"),
    "close_unrated": gettext_lazy("按未评价办结"),
}


def _may_submit(by: User, enterprise: Enterprise, channel: str) -> bool:
    if channel == Channel.PORTAL:
        return (
            by.has_role(Role.ENTERPRISE_USER)
            and EnterpriseMembership.objects.filter(user=by, enterprise=enterprise, is_active=True).exists()
        )
    if channel == Channel.STEWARD:
        return by.has_role(Role.STEWARD) and enterprise.steward_id == by.pk
    if channel in (Channel.PHONE, Channel.API):
        return by.has_role(Role.DISPATCHER) and enterprise.zone_id in by.zone_ids()
    return False


def submit_appeal(
    enterprise: Enterprise,
    *,
    title: str,
    body: str,
    channel: str,
    by: User,
    category: AppealCategory | None = None,
    handling: str = Handling.NORMAL,
    urgent: bool = False,
    confidential: bool = False,
    external_ticket: str = "",
    external_due: datetime | None = None,
    at: datetime | None = None,
) -> Appeal:
    """An enterprise (or its steward, or the dispatcher for a phone/12345 transfer) raises an appeal."""
    if not _may_submit(by, enterprise, channel):
        raise NotAllowed(_("您不能以“%(channel)s”渠道为该企业提交诉求") % {"channel": Channel(channel).label})
    if not title.strip() or not body.strip():
        raise ServiceError(_("请填写诉求标题和内容"))
    now = at or timezone.now()
    limits = category or AppealCategory()
    due = workcalendar.deadline(now, limits.accept_days)
    with transaction.atomic():
        appeal = Appeal.objects.create(
            zone_id=enterprise.zone_id,
            enterprise=enterprise,
            category=category,
            title=title.strip(),
            body=body.strip(),
            channel=channel,
            handling=handling,
            urgent=urgent,
            confidential=confidential,
            external_ticket=external_ticket,
            external_due=external_due,
            submitted_by=by,
            submitted_at=now,
            accept_due=due.due,
            accept_due_provisional=due.provisional,
        )
        AppealEvent.objects.create(
            appeal=appeal,
            actor=by,
            at=now,
            action="submit",
            to_status=Status.SUBMITTED,
            note=str(Channel(channel).label),
        )
        audit.record(by, "appeal.submit", appeal, summary=f"提交诉求 #{appeal.pk}")
    return appeal


def _require_dispatcher(appeal: Appeal, by: User) -> None:
    if not (by.has_role(Role.DISPATCHER) and appeal.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的受理员可以受理和交办诉求"))


@dataclass(frozen=True)
class _Due:
    sign_due: datetime
    answer_due: datetime
    answer_days: int
    provisional: bool


def _dues(appeal: Appeal, now: datetime) -> _Due:
    limits = appeal.category or AppealCategory()
    days = limits.answer_days(appeal.handling, urgent=appeal.urgent)
    sign = workcalendar.deadline(now, limits.sign_days)
    answer = workcalendar.deadline(now, days)
    answer_due = answer.due
    if appeal.external_due and appeal.external_due < answer_due:
        answer_due = appeal.external_due  # a 12345 transfer keeps its external deadline where earlier
    return _Due(sign.due, answer_due, days, sign.provisional or answer.provisional)


def dispatch_appeal(
    appeal: Appeal,
    *,
    to: OrgUnit | None = None,
    co: list[OrgUnit] | tuple[OrgUnit, ...] = (),
    category: AppealCategory | None = None,
    by: User,
    note: str = "",
    at: datetime | None = None,
) -> list[Assignment]:
    """Accept (if not yet) and dispatch to a lead department and optional co-departments, one Assignment each."""
    _require_dispatcher(appeal, by)
    if category is not None:
        appeal.category = category
    lead = to or (default_department(appeal.category, appeal.zone) if appeal.category else None)
    if lead is None:
        raise ServiceError(_("请选择主办部门（该类别在本园区没有默认主办部门）"))
    for unit in (lead, *co):
        if unit.kind != OrgUnit.Kind.DEPARTMENT or unit.parent_id != appeal.zone_id:
            raise ServiceError(_("“%(dept)s”不是本园区的部门") % {"dept": unit})
    if lead in co:
        raise ServiceError(_("主办部门不能同时是协办部门"))
    now = at or timezone.now()
    due = _dues(appeal, now)
    kind = Assignment.Kind.REDISPATCH if appeal.status == Status.RETURNED else Assignment.Kind.DISPATCH
    with transaction.atomic():
        if appeal.accepted_at is None and appeal.status == Status.SUBMITTED:
            # 受理 has no state of its own: it is recorded on the timeline just before the first 交办.
            AppealEvent.objects.create(
                appeal=appeal,
                actor=by,
                at=now,
                action="accept",
                from_status=Status.SUBMITTED,
                to_status=Status.SUBMITTED,
            )
        _move(
            appeal,
            "dispatch",
            by=by,
            note=note,
            now=now,
            category=appeal.category,
            accepted_at=appeal.accepted_at or now,
        )
        Assignment.objects.filter(appeal=appeal, is_current=True).update(is_current=False)
        created = [
            Assignment.objects.create(
                appeal=appeal,
                department=unit,
                is_lead=unit == lead,
                kind=kind,
                dispatched_at=now,
                sign_due=due.sign_due,
                answer_due=due.answer_due,
                original_answer_due=due.answer_due,
                answer_days=due.answer_days,
                provisional=due.provisional,
            )
            for unit in (lead, *co)
        ]
    return created


def decline_appeal(appeal: Appeal, *, reason: str, advice: str, by: User, at: datetime | None = None) -> None:
    """不予受理: always with a reason and advice; the enterprise rates it like an answer."""
    _require_dispatcher(appeal, by)
    if not reason.strip() or not advice.strip():
        raise ServiceError(_("不予受理必须写明理由和办理建议"))
    now = at or timezone.now()
    with transaction.atomic():
        _move(
            appeal,
            "decline",
            by=by,
            note=reason,
            now=now,
            decline_reason=reason,
            decline_advice=advice,
            accepted_at=None,
        )


def _lead(appeal: Appeal) -> Assignment:
    lead = appeal.assignments.filter(is_current=True, is_lead=True).first()
    if lead is None:
        raise Conflict(_("该诉求当前没有主办部门"))
    return lead


def _require_department(assignment: Assignment, by: User) -> None:
    if not (by.has_any_role((Role.HANDLER, Role.DEPARTMENT_HEAD)) and by.unit_id == assignment.department_id):
        raise NotAllowed(_("只有%(dept)s的承办人可以办理") % {"dept": assignment.department})


def sign_appeal(appeal: Appeal, *, by: User, at: datetime | None = None) -> Assignment:
    """签收 by the lead department; the appeal moves to 办理中."""
    lead = _lead(appeal)
    _require_department(lead, by)
    now = at or timezone.now()
    with transaction.atomic():
        _move(appeal, "sign", by=by, assignment=lead, now=now)
        Assignment.objects.filter(pk=lead.pk).update(signed_at=now, signed_by=by)
    lead.signed_at, lead.signed_by = now, by
    return lead


def return_appeal(appeal: Appeal, *, reason: str, by: User, at: datetime | None = None) -> None:
    """退回 a misrouted appeal to the dispatcher: before signing or within 1 working day after it, never later."""
    lead = _lead(appeal)
    _require_department(lead, by)
    if not reason.strip():
        raise ServiceError(_("退回必须写明理由"))
    now = at or timezone.now()
    if lead.signed_at and now >= workcalendar.deadline(lead.signed_at, RETURN_WINDOW_DAYS).due:
        raise ServiceError(_("签收超过 1 个工作日后不能再退回，请办理或申请协调"))
    with transaction.atomic():
        _move(appeal, "return", by=by, assignment=lead, note=reason, now=now)
        Assignment.objects.filter(appeal=appeal, is_current=True).update(is_current=False)
        Assignment.objects.filter(pk=lead.pk).update(returned_at=now, return_reason=reason)


def answer_appeal(
    appeal: Appeal, *, answer: str, outcome: str, by: User, at: datetime | None = None
) -> Assignment:
    """答复 with an outcome; the enterprise's contact is told by SMS that an answer waits for it."""
    lead = _lead(appeal)
    _require_department(lead, by)
    if not answer.strip():
        raise ServiceError(_("请填写答复内容"))
    outcome = Outcome(outcome)
    now = at or timezone.now()
    rate_due = workcalendar.deadline(now, RATE_DAYS).due
    with transaction.atomic():
        _move(appeal, "answer", by=by, assignment=lead, now=now, answered_at=now, rate_due=rate_due)
        Assignment.objects.filter(pk=lead.pk).update(
            answered_at=now, answered_by=by, outcome=outcome, answer=answer
        )
        contact = appeal.enterprise.contacts.filter(is_primary=True).exclude(phone="").first()
        if contact is not None:
            # An identifier and a link only: never the appeal's text or personal data.
            outbox.enqueue(
                "sms",
                contact.phone,
                payload={
                    "text": _("您的诉求已有答复，请查看并评价"),
                    "ref": appeal.pk,
                    "link": f"/appeals/{appeal.pk}/",
                },
            )
    lead.answered_at, lead.outcome, lead.answer = now, outcome, answer
    return lead


def _may_rate(appeal: Appeal, by: User, on_behalf: bool) -> bool:
    if on_behalf:
        return (by.has_role(Role.STEWARD) and appeal.enterprise.steward_id == by.pk) or (
            by.has_role(Role.DISPATCHER) and appeal.zone_id in by.zone_ids()
        )
    return EnterpriseMembership.objects.filter(
        user=by, enterprise=appeal.enterprise_id, is_active=True
    ).exists()


def rate_appeal(
    appeal: Appeal,
    *,
    level: int,
    solved: bool,
    by: User,
    on_behalf: bool = False,
    comment: str = "",
    at: datetime | None = None,
) -> Rating:
    """评价 an answer. Satisfied → 办结; dissatisfied → 重办 with the same department and a new Assignment,
    until the answer after the second reopen, which is final."""
    if not _may_rate(appeal, by, on_behalf):
        raise NotAllowed(_("只有该企业的用户可以评价；管家或受理员回访时可代为记录"))
    level = RatingLevel(level)
    now = at or timezone.now()
    with transaction.atomic():
        if appeal.status != Status.ANSWERED:
            raise Conflict(_("该诉求当前为“%(status)s”，不能评价") % {"status": Status(appeal.status).label})
        lead = _lead(appeal)
        rating = Rating.objects.create(
            appeal=appeal,
            assignment=lead,
            level=level,
            solved=solved,
            comment=comment,
            rated_by=by,
            on_behalf=on_behalf,
            at=now,
        )
        if level <= RatingLevel.DISSATISFIED and appeal.reopen_count < MAX_REOPENS:
            _reopen(appeal, lead, by=by, now=now, note=comment)
        else:
            _move(appeal, "close", by=by, assignment=lead, now=now, closed_at=now, note=str(level.label))
    return rating


def _reopen(appeal: Appeal, lead: Assignment, *, by: User, now: datetime, note: str) -> Assignment:
    due = _dues(appeal, now)
    _move(
        appeal,
        "reopen",
        by=by,
        assignment=lead,
        now=now,
        note=note,
        reopen_count=appeal.reopen_count + 1,
        answered_at=None,
        rate_due=None,
    )
    Assignment.objects.filter(appeal=appeal, is_current=True).update(is_current=False)
    # Back to 办理中 with the same department: the new Assignment starts signed, with a new deadline.
    return Assignment.objects.create(
        appeal=appeal,
        department=lead.department,
        is_lead=True,
        kind=Assignment.Kind.REOPEN,
        dispatched_at=now,
        sign_due=due.sign_due,
        signed_at=now,
        signed_by=None,
        answer_due=due.answer_due,
        original_answer_due=due.answer_due,
        answer_days=due.answer_days,
        provisional=due.provisional,
    )


def close_unrated(
    now: datetime | None = None, *, limit: int = 1000, appeal_ids: list[int] | None = None
) -> int:
    """Close, as 未评价, answered appeals whose rating time has run out; safe to run twice or at once."""
    now = now or timezone.now()
    closed = 0
    due = Appeal.objects.filter(status=Status.ANSWERED, rate_due__lte=now)
    if appeal_ids is not None:
        due = due.filter(pk__in=appeal_ids)
    for appeal in due.order_by("rate_due")[:limit]:
        try:
            with transaction.atomic():
                _move(appeal, "close_unrated", by=None, now=now, closed_at=now, note=_("逾期未评价"))
        except Conflict:
            continue  # someone rated it, or another sweep closed it, in the meantime
        closed += 1
    return closed
