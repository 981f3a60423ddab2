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
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.appeals import escalation, rollups, signals
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    AppealEvent,
    Assignment,
    Channel,
    Extension,
    Handling,
    Outcome,
    Pause,
    Rating,
    RatingLevel,
    Review,
    Status,
)
from guanjia.appeals.services import default_department
from guanjia.core import audit, notifications, outbox, webhooks, workcalendar
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
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
    "close_unrated": (frozenset({Status.ANSWERED, Status.DECLINED}), Status.CLOSED),
    "pause": (frozenset({Status.SIGNED}), Status.WAITING),
    "resume": (frozenset({Status.WAITING}), Status.SIGNED),
    "merge": (frozenset({Status.SUBMITTED, Status.RETURNED}), Status.MERGED),
    "mirror_answer": (frozenset({Status.MERGED}), Status.ANSWERED),
    "close_declined": (frozenset({Status.DECLINED}), Status.CLOSED),
    "reconsider": (frozenset({Status.DECLINED}), Status.SUBMITTED),
}

# Steps inside a state: they change no status but are guarded, evented and audited the same way,
# so that two people acting at once on one appeal never both win.
HANDLING = frozenset({Status.DISPATCHED, Status.SIGNED, Status.WAITING})
STEPS: dict[str, frozenset[str]] = {
    "answer_draft": frozenset({Status.SIGNED}),
    "answer_rejected": frozenset({Status.SIGNED}),
    "opinion": HANDLING,
    "extension_request": frozenset({Status.SIGNED, Status.WAITING}),
    "extension_approved": frozenset({Status.SIGNED, Status.WAITING}),
    "extension_denied": HANDLING | {Status.ANSWERED, Status.CLOSED, Status.RETURNED},
    "coordinate": frozenset({Status.SIGNED, Status.WAITING}),
    "dispute": frozenset(Status),
    "review_request": frozenset({Status.DECLINED}),
    "review_decided": frozenset(Status),
    "merge_child": HANDLING,
}

RATE_DAYS = 3  # the enterprise rates within 3 working days of the answer
RETURN_WINDOW_DAYS = 1  # a department may return within 1 working day after signing
MAX_REOPENS = 2  # after the second reopen the next answer is final (领导协调)
MAX_PAUSES = 2  # 补充材料: at most two pauses per assignment ...
PAUSE_DAYS = 5  # ... of at most 5 working days each, after which the clock runs again
DISPUTE_DAYS = 5  # a department may dispute a rating within 5 working days of it


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
    _guarded(appeal, action, sources, target, by=by, note=note, assignment=assignment, now=now, **fields)


def _step(
    appeal: Appeal,
    action: str,
    *,
    by: User | None,
    note: str = "",
    assignment: Assignment | None = None,
    now: datetime,
    **fields: Any,
) -> None:
    """A step inside the current state (no status change), under the same guard as a transition."""
    sources = STEPS[action]
    _guarded(
        appeal, action, sources, appeal.status, by=by, note=note, assignment=assignment, now=now, **fields
    )


def _guarded(
    appeal: Appeal,
    action: str,
    sources: frozenset[str],
    target: str,
    *,
    by: User | None,
    note: str,
    assignment: Assignment | None,
    now: datetime,
    **fields: Any,
) -> None:
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
    record(appeal, action, by=by, note=note, assignment=assignment, now=now, target=target)
    appeal.status = target
    appeal.version += 1
    for key, value in fields.items():
        setattr(appeal, key, value)


def record(
    appeal: Appeal,
    action: str,
    *,
    by: User | None,
    note: str,
    now: datetime,
    assignment: Assignment | None = None,
    target: str | None = None,
    summary: str = "",
    detail: dict | None = None,
) -> None:
    """The timeline event and the audit record of one step (in the caller's transaction).

    Status changes come here through _move/_step; a step that changes no status and has a guard
    of its own (an opinion, an upload of attachments) calls it directly."""
    target = target or appeal.status
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
        summary=summary or f"诉求 #{appeal.pk} {ACTION_LABELS[action]}",
        detail=detail or {"from": appeal.status, "to": target},
    )


ACTION_LABELS = {
    "dispatch": gettext_lazy("交办"),
    "decline": gettext_lazy("不予受理"),
    "sign": gettext_lazy("签收"),
    "return": gettext_lazy("退回"),
    "answer": gettext_lazy("答复"),
    "close": gettext_lazy("办结"),
    "reopen": gettext_lazy("重办"),
    "close_unrated": gettext_lazy("按未评价办结"),
    "pause": gettext_lazy("要求补充材料"),
    "resume": gettext_lazy("恢复办理"),
    "merge": gettext_lazy("合并"),
    "mirror_answer": gettext_lazy("随主诉求答复"),
    "close_declined": gettext_lazy("办结"),
    "reconsider": gettext_lazy("退回重新受理"),
    "answer_draft": gettext_lazy("提交答复审核"),
    "answer_rejected": gettext_lazy("退回答复修改"),
    "opinion": gettext_lazy("提交协办意见"),
    "extension_request": gettext_lazy("申请延期"),
    "extension_approved": gettext_lazy("批准延期"),
    "extension_denied": gettext_lazy("不批准延期"),
    "coordinate": gettext_lazy("记录领导协调意见"),
    "dispute": gettext_lazy("申请评价复核"),
    "review_request": gettext_lazy("提请复核"),
    "review_decided": gettext_lazy("作出复核决定"),
    "merge_child": gettext_lazy("并入重复诉求"),
    "attach": gettext_lazy("上传附件"),
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
        rollups.refresh([appeal.pk])
        signals.appeal_submitted.send(sender=Appeal, appeal=appeal)
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
        for assignment in created:
            webhooks.notify_unit(
                assignment.department_id, event="dispatched", ref=appeal.pk, link=f"/appeals/{appeal.pk}/"
            )
        rollups.refresh([appeal.pk])
        lead_assignment = next(assignment for assignment in created if assignment.is_lead)
        signals.appeal_dispatched.send(sender=Appeal, appeal=appeal, lead=lead_assignment, by=by)
    return created


def _tell_enterprise(appeal: Appeal, text: str) -> None:
    """SMS to the enterprise's primary contact: an identifier and a link only, never text or personal data."""
    contact = appeal.enterprise.contacts.filter(is_primary=True).exclude(phone="").first()
    if contact is not None:
        outbox.enqueue(
            "sms", contact.phone, payload={"text": text, "ref": appeal.pk, "link": f"/appeals/{appeal.pk}/"}
        )


def _tell(users: list[User], title: str, appeal: Appeal) -> None:
    notifications.notify(users, title=title, link=f"/appeals/{appeal.pk}/")


def decline_appeal(appeal: Appeal, *, reason: str, advice: str, by: User, at: datetime | None = None) -> None:
    """不予受理: always with a reason and advice; the enterprise rates it like an answer, within 3 working days."""
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
            rate_due=workcalendar.deadline(now, RATE_DAYS).due,
        )
        rollups.refresh([appeal.pk])
        _tell_enterprise(appeal, _("您的诉求已有处理结果，请查看并评价"))


def _lead(appeal: Appeal) -> Assignment:
    lead = appeal.assignments.filter(is_current=True, is_lead=True).select_related("department").first()
    if lead is None:
        raise Conflict(_("该诉求当前没有主办部门"))
    return lead


def _answering(appeal: Appeal) -> Assignment:
    """The assignment whose answer is being rated: the appeal's own lead, or, for a merged child that
    has not been reopened on its own, the master's lead that answered it."""
    own = appeal.assignments.filter(is_current=True, is_lead=True).select_related("department").first()
    if own is not None:
        return own
    if appeal.master_id is not None:
        return _lead(Appeal.objects.get(pk=appeal.master_id))
    raise Conflict(_("该诉求当前没有主办部门"))


def _in_department(assignment: Assignment, by: User) -> bool:
    return by.has_any_role((Role.HANDLER, Role.DEPARTMENT_HEAD)) and by.unit_id == assignment.department_id


def _require_department(assignment: Assignment, by: User) -> None:
    if not _in_department(assignment, by):
        raise NotAllowed(_("只有%(dept)s的承办人可以办理") % {"dept": assignment.department})


def _require_supervisor(appeal: Appeal, by: User) -> None:
    if not (by.has_role(Role.SUPERVISOR) and appeal.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的效能督查可以审批"))


def sign_appeal(appeal: Appeal, *, by: User, at: datetime | None = None) -> Assignment:
    """签收 by the lead department; the appeal moves to 办理中."""
    lead = _lead(appeal)
    _require_department(lead, by)
    now = at or timezone.now()
    with transaction.atomic():
        _move(appeal, "sign", by=by, assignment=lead, now=now)
        Assignment.objects.filter(pk=lead.pk).update(signed_at=now, signed_by=by)
        rollups.refresh([appeal.pk])
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
        Extension.objects.filter(assignment__appeal=appeal, state=Extension.State.PENDING).update(
            state=Extension.State.DENIED, decided_at=now, decision_note=_("诉求已退回，申请自动失效")
        )
        rollups.refresh([appeal.pk])


def needs_coordination(appeal: Appeal) -> bool:
    """After the second reopen a leader records a decision (领导协调) before the final answer."""
    return appeal.reopen_count >= MAX_REOPENS and appeal.coordinated_at is None


def answer_appeal(
    appeal: Appeal, *, answer: str, outcome: str, by: User, at: datetime | None = None
) -> Assignment:
    """答复 with an outcome. Where the department requires its head's approval and `by` is not its head,
    the answer waits as a draft (a step inside 办理中) until the head approves it."""
    lead = _lead(appeal)
    _require_department(lead, by)
    if not answer.strip():
        raise ServiceError(_("请填写答复内容"))
    outcome = Outcome(outcome)
    if needs_coordination(appeal):
        raise ServiceError(_("第二次重办后须先由领导协调作出决定，才能答复"))
    now = at or timezone.now()
    if lead.department.answers_need_approval and not by.has_role(Role.DEPARTMENT_HEAD):
        with transaction.atomic():
            _step(appeal, "answer_draft", by=by, assignment=lead, now=now)
            Assignment.objects.filter(pk=lead.pk).update(
                draft_answer=answer, draft_outcome=outcome, drafted_by=by, drafted_at=now
            )
            _tell(
                escalation.department_staff(lead, Role.DEPARTMENT_HEAD),
                _("诉求 #%(ref)s 的答复待您审核") % {"ref": appeal.pk},
                appeal,
            )
            webhooks.notify_unit(
                lead.department_id,
                event="answer_pending_approval",
                ref=appeal.pk,
                link=f"/appeals/{appeal.pk}/",
            )
        lead.draft_answer, lead.draft_outcome, lead.drafted_by, lead.drafted_at = answer, outcome, by, now
        return lead
    with transaction.atomic():
        _finish_answer(
            appeal, lead, answer=answer, outcome=outcome, answered_by=by, approved_by=None, now=now
        )
    return lead


def _finish_answer(
    appeal: Appeal,
    lead: Assignment,
    *,
    answer: str,
    outcome: str,
    answered_by: User,
    approved_by: User | None,
    now: datetime,
) -> None:
    rate_due = workcalendar.deadline(now, RATE_DAYS).due
    _move(
        appeal,
        "answer",
        by=approved_by or answered_by,
        assignment=lead,
        now=now,
        answered_at=now,
        rate_due=rate_due,
    )
    Assignment.objects.filter(pk=lead.pk).update(
        answered_at=now,
        answered_by=answered_by,
        approved_by=approved_by,
        outcome=outcome,
        answer=answer,
        draft_answer="",
        draft_outcome="",
    )
    Extension.objects.filter(assignment=lead, state=Extension.State.PENDING).update(
        state=Extension.State.DENIED, decided_at=now, decision_note=_("诉求已答复，申请自动失效")
    )
    _tell_enterprise(appeal, _("您的诉求已有答复，请查看并评价"))
    # Merged children are answered with their master; from now on each is rated on its own.
    for child in Appeal.objects.filter(master=appeal, status=Status.MERGED).select_related("enterprise"):
        _move(
            child,
            "mirror_answer",
            by=None,
            now=now,
            note=_("随主诉求 #%(ref)s 答复") % {"ref": appeal.pk},
            answered_at=now,
            rate_due=rate_due,
        )
        _tell_enterprise(child, _("您的诉求已有答复，请查看并评价"))
    rollups.refresh([appeal.pk])  # and its children, answered with it
    lead.answered_at, lead.answered_by, lead.approved_by = now, answered_by, approved_by
    lead.outcome, lead.answer, lead.draft_answer, lead.draft_outcome = Outcome(outcome), answer, "", ""
    signals.appeal_answered.send(sender=Appeal, appeal=appeal, assignment=lead)


def _require_head(lead: Assignment, by: User) -> None:
    if not (by.has_role(Role.DEPARTMENT_HEAD) and by.unit_id == lead.department_id):
        raise NotAllowed(_("只有%(dept)s的负责人可以审核答复") % {"dept": lead.department})


def approve_answer(appeal: Appeal, *, by: User, answer: str = "", at: datetime | None = None) -> Assignment:
    """The department head approves the waiting answer (optionally with edited text); the appeal is answered."""
    lead = _lead(appeal)
    _require_head(lead, by)
    if not lead.draft_answer or lead.drafted_by is None:
        raise Conflict(_("没有待审核的答复"))
    if needs_coordination(appeal):
        raise ServiceError(_("第二次重办后须先由领导协调作出决定，才能答复"))
    now = at or timezone.now()
    with transaction.atomic():
        _finish_answer(
            appeal,
            lead,
            answer=answer.strip() or lead.draft_answer,
            outcome=lead.draft_outcome or Outcome.SOLVED,
            answered_by=lead.drafted_by,
            approved_by=by,
            now=now,
        )
    return lead


def reject_answer(appeal: Appeal, *, note: str, by: User, at: datetime | None = None) -> None:
    """The department head sends the waiting answer back to its writer with a note."""
    lead = _lead(appeal)
    _require_head(lead, by)
    if not lead.draft_answer:
        raise Conflict(_("没有待审核的答复"))
    if not note.strip():
        raise ServiceError(_("请写明退回修改的意见"))
    now = at or timezone.now()
    with transaction.atomic():
        _step(appeal, "answer_rejected", by=by, assignment=lead, now=now, note=note)
        Assignment.objects.filter(pk=lead.pk).update(draft_answer="", draft_outcome="")
        if lead.drafted_by is not None:
            _tell([lead.drafted_by], _("诉求 #%(ref)s 的答复被退回修改") % {"ref": appeal.pk}, appeal)
    lead.draft_answer = lead.draft_outcome = ""


def give_opinion(appeal: Appeal, *, opinion: str, by: User, at: datetime | None = None) -> Assignment:
    """协办意见: a co-handling department gives its opinion once, on its own assignment, by its deadline.

    The guard is the co-department's own assignment row (answered once), not the appeal's version:
    an opinion changes nothing the lead department decides on, so its open page stays valid."""
    mine = (
        appeal.assignments.filter(is_current=True, is_lead=False, department_id=by.unit_id)
        .select_related("department")
        .first()
        if by.unit_id
        else None
    )
    if mine is None or not _in_department(mine, by):
        raise NotAllowed(_("只有协办部门的承办人可以提交协办意见"))
    if mine.answered_at is not None:
        raise Conflict(_("本部门已提交过协办意见"))
    if not opinion.strip():
        raise ServiceError(_("请填写协办意见"))
    now = at or timezone.now()
    with transaction.atomic():
        status = Appeal.objects.filter(pk=appeal.pk).values_list("status", flat=True).get()
        if status not in STEPS["opinion"]:
            raise Conflict(
                _("该诉求当前为“%(status)s”，不能%(action)s")
                % {"status": Status(status).label, "action": ACTION_LABELS["opinion"]}
            )
        given = Assignment.objects.filter(pk=mine.pk, is_current=True, answered_at__isnull=True).update(
            answered_at=now, answered_by=by, answer=opinion, signed_at=Coalesce(F("signed_at"), now)
        )
        if given != 1:
            raise Conflict(_("本部门已提交过协办意见"))
        appeal.status = status
        record(appeal, "opinion", by=by, note="", assignment=mine, now=now, target=status)
        rollups.refresh([appeal.pk])
        lead = appeal.assignments.filter(is_current=True, is_lead=True).first()
        if lead is not None:
            _tell(
                escalation.department_staff(lead, Role.HANDLER),
                _("诉求 #%(ref)s 收到协办意见") % {"ref": appeal.pk},
                appeal,
            )
    mine.answered_at, mine.answer = now, opinion
    return mine


# --- 补充材料: pausing the clock ------------------------------------------------------------------


def _shift(due: datetime, days: int) -> datetime:
    """`due` moved on by `days` working days, keeping its time of day (a 24:00 deadline stays 24:00)."""
    if days <= 0:
        return due
    day = (due - timedelta(microseconds=1)).astimezone(BEIJING).date()
    return due + (workcalendar.add_workdays(day, days) - day)


def pause_appeal(appeal: Appeal, *, request: str, by: User, at: datetime | None = None) -> Pause:
    """The lead department asks the enterprise for more material: the clock stops (≤2 pauses, ≤5 working days)."""
    lead = _lead(appeal)
    _require_department(lead, by)
    if not request.strip():
        raise ServiceError(_("请写明需要补充的材料"))
    if lead.pauses.count() >= MAX_PAUSES:
        raise ServiceError(_("每次交办最多要求补充材料 %(n)s 次") % {"n": MAX_PAUSES})
    now = at or timezone.now()
    with transaction.atomic():
        _move(appeal, "pause", by=by, assignment=lead, now=now, note=request)
        pause = Pause.objects.create(
            assignment=lead,
            appeal=appeal,
            request=request,
            requested_by=by,
            started_at=now,
            resume_by=workcalendar.deadline(now, PAUSE_DAYS).due,
        )
        rollups.refresh([appeal.pk])
        _tell_enterprise(appeal, _("您的诉求需要补充材料，请登录查看"))
        members = list(
            User.objects.filter(memberships__enterprise_id=appeal.enterprise_id, memberships__is_active=True)
        )
        steward = appeal.enterprise.steward
        if steward is not None:
            members.append(steward)
        _tell(members, _("诉求 #%(ref)s 需要补充材料") % {"ref": appeal.pk}, appeal)
    return pause


def _may_resume(appeal: Appeal, lead: Assignment, by: User) -> bool:
    return (
        _in_department(lead, by)
        or EnterpriseMembership.objects.filter(
            user=by, enterprise=appeal.enterprise_id, is_active=True
        ).exists()
        or (by.has_role(Role.STEWARD) and appeal.enterprise.steward_id == by.pk)
    )


def resume_appeal(appeal: Appeal, *, by: User | None, reply: str = "", at: datetime | None = None) -> Pause:
    """The material came (or the 5 working days ran out, `by` None): the clock runs again and
    answer_due moves on by the working days it stood still."""
    lead = _lead(appeal)
    if by is not None and not _may_resume(appeal, lead, by):
        raise NotAllowed(_("只有该企业的用户、其管家或承办部门可以提交补充材料"))
    pause = lead.pauses.filter(resumed_at__isnull=True).first()
    if pause is None:
        raise Conflict(_("该诉求没有正在等待的补充材料"))
    now = at or timezone.now()
    end = min(now, pause.resume_by)
    days = min(
        workcalendar.workdays_between(
            pause.started_at.astimezone(BEIJING).date(), end.astimezone(BEIJING).date()
        ),
        PAUSE_DAYS,
    )
    note = reply.strip() or (_("补充材料期限已到，自动恢复计时") if by is None else "")
    with transaction.atomic():
        _move(appeal, "resume", by=by, assignment=lead, now=now, note=note)
        Pause.objects.filter(pk=pause.pk).update(
            resumed_at=now, resumed_by=by, reply=reply, working_days=days
        )
        Assignment.objects.filter(pk=lead.pk).update(
            answer_due=_shift(lead.answer_due, days), paused_days=F("paused_days") + days
        )
        rollups.refresh([appeal.pk])
        _tell(
            escalation.department_staff(lead, Role.HANDLER),
            _("诉求 #%(ref)s 已恢复办理") % {"ref": appeal.pk},
            appeal,
        )
    pause.resumed_at, pause.working_days = now, days
    return pause


def resume_overdue_pauses(now: datetime | None = None, *, limit: int = 1000) -> int:
    """Pauses whose 5 working days have run out resume on their own; safe to run twice or at once."""
    now = now or timezone.now()
    resumed = 0
    due = Pause.objects.filter(resumed_at__isnull=True, resume_by__lte=now).order_by("resume_by")
    for pause in due.select_related("appeal")[:limit]:
        try:
            resume_appeal(pause.appeal, by=None, at=now)
        except Conflict:
            continue  # resumed by someone in the meantime
        resumed += 1
    return resumed


# --- 延期 -----------------------------------------------------------------------------------------


def request_extension(
    appeal: Appeal, *, days: int, reason: str, by: User, at: datetime | None = None
) -> Extension:
    """The lead department asks for more working days; a supervisor decides. All extensions ≤ the category's cap."""
    lead = _lead(appeal)
    _require_department(lead, by)
    if not reason.strip():
        raise ServiceError(_("请写明延期理由"))
    cap = (appeal.category or AppealCategory()).extension_max_days
    left = cap - lead.extension_days
    if days < 1 or days > left:
        raise ServiceError(
            _("延期工作日须在 1 到 %(left)s 之间（本诉求延期合计不超过 %(cap)s 个工作日）")
            % {"left": max(left, 0), "cap": cap}
        )
    if Extension.objects.filter(assignment=lead, state=Extension.State.PENDING).exists():
        raise Conflict(_("该诉求已有一项待审批的延期申请"))
    now = at or timezone.now()
    try:
        with transaction.atomic():
            _step(appeal, "extension_request", by=by, assignment=lead, now=now, note=reason)
            extension = Extension.objects.create(
                assignment=lead, appeal=appeal, days=days, reason=reason, requested_by=by, requested_at=now
            )
            webhooks.notify_unit(
                lead.department_id, event="extension_requested", ref=appeal.pk, link=f"/appeals/{appeal.pk}/"
            )
            _tell(
                escalation.zone_staff(appeal.zone_id, Role.SUPERVISOR),
                _("诉求 #%(ref)s 申请延期 %(days)s 个工作日，待您审批") % {"ref": appeal.pk, "days": days},
                appeal,
            )
    except IntegrityError:
        raise Conflict(_("该诉求已有一项待审批的延期申请")) from None
    return extension


def decide_extension(
    extension: Extension, *, approve: bool, note: str = "", by: User, at: datetime | None = None
) -> Extension:
    """A supervisor of the zone approves (answer_due moves on) or denies an extension.

    The decision is guarded by the extension's own version; the appeal is read afresh, since any
    step taken on it since the request does not change what is being decided."""
    appeal = Appeal.objects.get(pk=extension.appeal_id)
    _require_supervisor(appeal, by)
    if not approve and not note.strip():
        raise ServiceError(_("不批准延期时请写明理由"))
    now = at or timezone.now()
    state = Extension.State.APPROVED if approve else Extension.State.DENIED
    with transaction.atomic():
        decided = Extension.objects.filter(
            pk=extension.pk, state=Extension.State.PENDING, version=extension.version
        ).update(state=state, version=F("version") + 1, decided_by=by, decided_at=now, decision_note=note)
        if decided != 1:
            raise Conflict(_("该延期申请已被处理，请刷新后查看"))
        action = "extension_approved" if approve else "extension_denied"
        label = _("%(days)s 个工作日") % {"days": extension.days}
        _step(appeal, action, by=by, assignment=extension.assignment, now=now, note=f"{label} {note}".strip())
        if approve:
            assignment = Assignment.objects.get(pk=extension.assignment_id)
            new_due = _shift(assignment.answer_due, extension.days)
            Assignment.objects.filter(pk=assignment.pk).update(
                answer_due=new_due, extension_days=F("extension_days") + extension.days
            )
            Extension.objects.filter(pk=extension.pk).update(
                previous_due=assignment.answer_due, new_due=new_due
            )
            extension.previous_due, extension.new_due = assignment.answer_due, new_due
            rollups.refresh([appeal.pk])
        _tell(
            [extension.requested_by],
            _("诉求 #%(ref)s 的延期申请%(result)s") % {"ref": appeal.pk, "result": state.label},
            appeal,
        )
    extension.state, extension.decided_by, extension.decided_at = state, by, now
    return extension


# --- 评价, 重办, 领导协调 ----------------------------------------------------------------------------


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
    """评价 an answer or a decline.

    An answer: satisfied → 办结; dissatisfied → 重办 with the same department and a new Assignment,
    until the answer after the second reopen, which is final. A decline: satisfied → 办结;
    dissatisfied → 申诉复核 by a supervisor, who may send it back to 待受理.
    """
    if not _may_rate(appeal, by, on_behalf):
        raise NotAllowed(_("只有该企业的用户可以评价；管家或受理员回访时可代为记录"))
    level = RatingLevel(level)
    now = at or timezone.now()
    if appeal.status == Status.DECLINED:
        return _rate_decline(
            appeal, level=level, solved=solved, by=by, on_behalf=on_behalf, comment=comment, now=now
        )
    if appeal.status != Status.ANSWERED:
        raise Conflict(_("该诉求当前为“%(status)s”，不能评价") % {"status": Status(appeal.status).label})
    with transaction.atomic():
        answering = _answering(appeal)
        rating = Rating.objects.create(
            appeal=appeal,
            assignment=answering,
            level=level,
            solved=solved,
            comment=comment,
            rated_by=by,
            on_behalf=on_behalf,
            at=now,
        )
        if level <= RatingLevel.DISSATISFIED and appeal.reopen_count < MAX_REOPENS:
            _reopen(appeal, answering, by=by, now=now, note=comment)
        else:
            _move(appeal, "close", by=by, assignment=answering, now=now, closed_at=now, note=str(level.label))
        rollups.refresh([appeal.pk])
    return rating


def _rate_decline(
    appeal: Appeal,
    *,
    level: RatingLevel,
    solved: bool,
    by: User,
    on_behalf: bool,
    comment: str,
    now: datetime,
) -> Rating:
    if appeal.rate_due is None:
        raise Conflict(_("该不予受理决定已评价过"))
    with transaction.atomic():
        rating = Rating.objects.create(
            appeal=appeal,
            level=level,
            solved=solved,
            comment=comment,
            rated_by=by,
            on_behalf=on_behalf,
            at=now,
        )
        if level <= RatingLevel.DISSATISFIED:
            _step(appeal, "review_request", by=by, now=now, note=comment, rate_due=None)
            _open_review(
                rating,
                Review.Kind.DECLINE,
                reason=comment,
                by=by,
                now=now,
                title=_("诉求 #%(ref)s 的不予受理决定被评为不满意，待您复核") % {"ref": appeal.pk},
            )
        else:
            _move(
                appeal, "close_declined", by=by, now=now, closed_at=now, rate_due=None, note=str(level.label)
            )
        rollups.refresh([appeal.pk])
    return rating


def _reopen(appeal: Appeal, answered: Assignment, *, by: User, now: datetime, note: str) -> Assignment:
    due = _dues(appeal, now)
    _move(
        appeal,
        "reopen",
        by=by,
        assignment=answered,
        now=now,
        note=note,
        reopen_count=appeal.reopen_count + 1,
        answered_at=None,
        rate_due=None,
    )
    Assignment.objects.filter(appeal=appeal, is_current=True).update(is_current=False)
    # Back to 办理中 with the same department: the new Assignment starts signed, with a new deadline.
    reopened = Assignment.objects.create(
        appeal=appeal,
        department=answered.department,
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
    if appeal.reopen_count >= MAX_REOPENS:
        reopened.appeal = appeal
        escalation.escalate_to_leaders(reopened, note=_("第二次重办，请领导协调并作出决定"), by=None, now=now)
    webhooks.notify_unit(
        answered.department_id, event="reopened", ref=appeal.pk, link=f"/appeals/{appeal.pk}/"
    )
    return reopened


def coordinate_appeal(appeal: Appeal, *, decision: str, by: User, at: datetime | None = None) -> None:
    """领导协调: a leader of the zone records the decision; the department's next answer is final."""
    if not (by.has_role(Role.LEADER) and appeal.zone_id in by.zone_ids()):
        raise NotAllowed(_("只有本园区的领导可以记录协调意见"))
    if appeal.reopen_count < MAX_REOPENS:
        raise ServiceError(_("诉求第二次重办后才进入领导协调"))
    if appeal.coordinated_at is not None:
        raise Conflict(_("该诉求已有领导协调意见"))
    if not decision.strip():
        raise ServiceError(_("请填写协调意见"))
    now = at or timezone.now()
    with transaction.atomic():
        _step(
            appeal,
            "coordinate",
            by=by,
            now=now,
            note=decision,
            coordination=decision,
            coordinated_by=by,
            coordinated_at=now,
        )
        lead = appeal.assignments.filter(is_current=True, is_lead=True).first()
        if lead is not None:
            _tell(
                escalation.department_staff(lead, Role.HANDLER)
                + escalation.department_staff(lead, Role.DEPARTMENT_HEAD),
                _("诉求 #%(ref)s 已有领导协调意见，请据此答复") % {"ref": appeal.pk},
                appeal,
            )


# --- 申诉复核 ---------------------------------------------------------------------------------------


def _open_review(rating: Rating, kind: str, *, reason: str, by: User, now: datetime, title: str) -> Review:
    """A 申诉复核 for the zone's supervisors to decide, who are told of it in their inbox."""
    review = Review.objects.create(
        appeal=rating.appeal, rating=rating, kind=kind, reason=reason, requested_by=by, requested_at=now
    )
    _tell(escalation.zone_staff(rating.appeal.zone_id, Role.SUPERVISOR), title, rating.appeal)
    return review


def dispute_rating(rating: Rating, *, reason: str, by: User, at: datetime | None = None) -> Review:
    """A department disputes a rating of its answer within 5 working days; a supervisor decides."""
    appeal = rating.appeal
    if rating.assignment is None:
        raise ServiceError(_("不予受理的评价由效能督查复核，部门不能申诉"))
    department = rating.assignment.department
    if not (by.has_any_role((Role.HANDLER, Role.DEPARTMENT_HEAD)) and by.unit_id == department.pk):
        raise NotAllowed(_("只有%(dept)s可以对该评价申请复核") % {"dept": department})
    if rating.level >= RatingLevel.SATISFIED:
        raise ServiceError(_("只有“基本满意”及以下的评价可以申请复核"))
    if not reason.strip():
        raise ServiceError(_("请写明申请复核的理由"))
    now = at or timezone.now()
    if now >= workcalendar.deadline(rating.at, DISPUTE_DAYS).due:
        raise ServiceError(_("评价后 %(n)s 个工作日内才能申请复核") % {"n": DISPUTE_DAYS})
    if Review.objects.filter(rating=rating).exists():
        raise Conflict(_("该评价已申请过复核"))
    try:
        with transaction.atomic():
            _step(appeal, "dispute", by=by, assignment=rating.assignment, now=now, note=reason)
            review = _open_review(
                rating,
                Review.Kind.RATING,
                reason=reason,
                by=by,
                now=now,
                title=_("诉求 #%(ref)s 的评价被申请复核，待您决定") % {"ref": appeal.pk},
            )
    except IntegrityError:
        raise Conflict(_("该评价已申请过复核")) from None
    return review


def decide_review(
    review: Review,
    *,
    decision: str,
    note: str,
    by: User,
    level: int | None = None,
    at: datetime | None = None,
) -> Review:
    """A supervisor decides a 申诉复核: uphold, or replace the rating's level (a rating dispute),
    or send a declined appeal back to 待受理 (a decline review). Guarded by the review's own version."""
    appeal = Appeal.objects.get(pk=review.appeal_id)
    _require_supervisor(appeal, by)
    if not note.strip():
        raise ServiceError(_("请填写复核意见"))
    allowed = {
        Review.Kind.RATING: (Review.State.UPHELD, Review.State.CHANGED),
        Review.Kind.DECLINE: (Review.State.UPHELD, Review.State.REOPENED),
    }[Review.Kind(review.kind)]
    if decision not in allowed:
        raise ServiceError(_("复核决定无效"))
    if decision == Review.State.CHANGED:
        if level is None:
            raise ServiceError(_("改判时请选择复核后的评价"))
        level = RatingLevel(level)
        if level == review.rating.level:
            raise ServiceError(_("复核后的评价与原评价相同，请选择“维持原评价”"))
    now = at or timezone.now()
    with transaction.atomic():
        decided = Review.objects.filter(
            pk=review.pk, state=Review.State.PENDING, version=review.version
        ).update(
            state=decision,
            version=F("version") + 1,
            decided_by=by,
            decided_at=now,
            decided_level=level if decision == Review.State.CHANGED else None,
            decision_note=note,
        )
        if decided != 1:
            raise Conflict(_("该复核已被处理，请刷新后查看"))
        state = Review.State(decision)
        if review.kind == Review.Kind.DECLINE:
            if state == Review.State.REOPENED:
                accept = workcalendar.deadline(now, (appeal.category or AppealCategory()).accept_days)
                _move(
                    appeal,
                    "reconsider",
                    by=by,
                    now=now,
                    note=note,
                    accept_due=accept.due,
                    accept_due_provisional=accept.provisional,
                    rate_due=None,
                )
            else:
                _move(appeal, "close_declined", by=by, now=now, closed_at=now, note=note)
        else:
            _step(
                appeal,
                "review_decided",
                by=by,
                assignment=review.rating.assignment,
                now=now,
                note=f"{state.label}：{note}",
            )
            if state == Review.State.CHANGED:
                Rating.objects.filter(pk=review.rating_id).update(reviewed_level=level)
        rollups.refresh([appeal.pk])
        _tell(
            [review.requested_by],
            _("诉求 #%(ref)s 的复核结果：%(state)s") % {"ref": appeal.pk, "state": state.label},
            appeal,
        )
    review.state, review.decided_by, review.decided_at = decision, by, now
    return review


# --- 合并 ------------------------------------------------------------------------------------------


def merge_appeal(
    appeal: Appeal, *, into: Appeal, by: User, note: str = "", at: datetime | None = None
) -> None:
    """A dispatcher merges a duplicate into a master being handled; the child mirrors it until it is answered."""
    _require_dispatcher(appeal, by)
    if into.pk == appeal.pk or into.zone_id != appeal.zone_id:
        raise ServiceError(_("只能合并到本园区的另一件诉求"))
    if into.master_id is not None or into.status not in HANDLING:
        raise ServiceError(_("主诉求 #%(ref)s 须为已交办、尚未答复的诉求") % {"ref": into.pk})
    now = at or timezone.now()
    with transaction.atomic():
        _move(
            appeal,
            "merge",
            by=by,
            now=now,
            note=note or _("合并到诉求 #%(ref)s") % {"ref": into.pk},
            master=into,
            merged_at=now,
            accepted_at=appeal.accepted_at or now,
            category=into.category,
        )
        # Guarded on the master too: were it answered meanwhile, the child would never be mirrored
        # (_finish_answer mirrors the children it finds then) and would stay 已合并 for good.
        _step(into, "merge_child", by=by, now=now, note=_("诉求 #%(ref)s 并入本诉求") % {"ref": appeal.pk})
        rollups.refresh([into.pk])  # the master and its children, the new one among them
        _tell_enterprise(appeal, _("您的诉求已与同类诉求合并办理，请登录查看"))


# --- 期限重算 --------------------------------------------------------------------------------------


def recompute_provisional() -> int:
    """Once an admin enters a year's calendar, recompute the provisional deadlines of open work in it.

    A deadline is rebuilt from its start by the same rule (and the extensions and pauses applied on
    top); a deadline that stays in an uncovered year stays provisional. Returns how many rows changed.
    """
    changed = 0
    open_rows = Assignment.objects.filter(provisional=True, is_current=True, answered_at__isnull=True)
    for assignment in open_rows.select_related("appeal", "appeal__category"):
        appeal = assignment.appeal
        limits = appeal.category or AppealCategory()
        sign = workcalendar.deadline(assignment.dispatched_at, limits.sign_days)
        answer = workcalendar.deadline(assignment.dispatched_at, assignment.answer_days)
        original = answer.due
        if appeal.external_due and appeal.external_due < original:
            original = appeal.external_due
        due = _shift(original, assignment.extension_days + assignment.paused_days)
        with transaction.atomic():
            updated = Assignment.objects.filter(pk=assignment.pk, provisional=True).update(
                sign_due=sign.due if assignment.signed_at is None else assignment.sign_due,
                original_answer_due=original,
                answer_due=due,
                provisional=sign.provisional or answer.provisional,
            )
            rollups.refresh([appeal.pk])
        changed += updated
    for appeal in Appeal.objects.filter(accept_due_provisional=True, status=Status.SUBMITTED):
        accept = workcalendar.deadline(appeal.submitted_at, (appeal.category or AppealCategory()).accept_days)
        changed += Appeal.objects.filter(pk=appeal.pk, accept_due_provisional=True).update(
            accept_due=accept.due, accept_due_provisional=accept.provisional
        )
    return changed


def close_unrated(
    now: datetime | None = None, *, limit: int = 1000, appeal_ids: list[int] | None = None
) -> int:
    """Close, as 未评价, answered or declined appeals whose rating time has run out; safe to run twice or at once."""
    now = now or timezone.now()
    closed = 0
    due = Appeal.objects.filter(status__in=(Status.ANSWERED, Status.DECLINED), rate_due__lte=now)
    if appeal_ids is not None:
        due = due.filter(pk__in=appeal_ids)
    for appeal in due.order_by("rate_due")[:limit]:
        try:
            with transaction.atomic():
                _move(
                    appeal,
                    "close_unrated",
                    by=None,
                    now=now,
                    closed_at=now,
                    rate_due=None,
                    note=_("逾期未评价"),
                )
                rollups.refresh([appeal.pk])
        except Conflict:
            continue  # someone rated it, or another sweep closed it, in the meantime
        closed += 1
    return closed
