"""Which transition buttons a page shows to whom.

These mirror the checks in lifecycle.py so that a page offers only what the
user may do; the lifecycle services still decide, and a page shows their
refusal when the state moved on in the meantime.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals.lifecycle import (
    DISPUTE_DAYS,
    HANDLING,
    MAX_PAUSES,
    RETURN_WINDOW_DAYS,
    STEPS,
    TRANSITIONS,
    needs_coordination,
)
from guanjia.appeals.models import (
    Appeal,
    AppealCategory,
    Assignment,
    Channel,
    Extension,
    Rating,
    RatingLevel,
    Review,
    Status,
)
from guanjia.core import workcalendar
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
ZONE_STAFF_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})

# The order the forms appear on the appeal page. Extension and review decisions and rating
# disputes are not here: they act on their own rows (may_decide, may_dispute).
ACTIONS = (
    "dispatch",
    "decline",
    "merge",
    "sign",
    "return",
    "answer",
    "approve_answer",
    "reject_answer",
    "opinion",
    "pause",
    "extend",
    "resume",
    "coordinate",
    "rate",
    "rate_on_behalf",
    "escalate",
)


# The roles that can ever take each action, on some appeal. A user without any of them is refused
# before its input is read (403, not a 400 about the body); whether this user may take it on this
# appeal now is the lifecycle service's question.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "dispatch": frozenset({Role.DISPATCHER}),
    "decline": frozenset({Role.DISPATCHER}),
    "merge": frozenset({Role.DISPATCHER}),
    "sign": DEPARTMENT_ROLES,
    "return": DEPARTMENT_ROLES,
    "answer": DEPARTMENT_ROLES,
    "approve_answer": frozenset({Role.DEPARTMENT_HEAD}),
    "reject_answer": frozenset({Role.DEPARTMENT_HEAD}),
    "opinion": DEPARTMENT_ROLES,
    "pause": DEPARTMENT_ROLES,
    "extend": DEPARTMENT_ROLES,
    "resume": DEPARTMENT_ROLES | {Role.ENTERPRISE_USER, Role.STEWARD},
    "coordinate": frozenset({Role.LEADER}),
    "rate": frozenset({Role.ENTERPRISE_USER, Role.STEWARD, Role.DISPATCHER}),
    "rate_on_behalf": frozenset({Role.STEWARD, Role.DISPATCHER}),
    "escalate": frozenset({Role.SUPERVISOR}),
}


def may_attempt(action: str, user: User) -> bool:
    """Whether `user` holds a role that can take `action` at all (see ACTION_ROLES)."""
    roles = ACTION_ROLES.get(action)
    return roles is None or user.has_any_role(roles)


def attempt_refusal(action: str) -> str:
    """The message for a user refused by may_attempt, naming the roles that can take the action."""
    roles = "、".join(str(role.label) for role in Role if role in ACTION_ROLES.get(action, ()))
    return _("只有%(roles)s可以执行此操作") % {"roles": roles}


def is_member(user: User, enterprise_id: int) -> bool:
    return EnterpriseMembership.objects.filter(
        user=user, enterprise_id=enterprise_id, is_active=True
    ).exists()


def submit_channel(enterprise: Enterprise, user: User) -> str | None:
    """The channel through which `user` may submit for `enterprise` (as lifecycle._may_submit), or None."""
    if user.has_role(Role.ENTERPRISE_USER) and is_member(user, enterprise.pk):
        return Channel.PORTAL
    if user.has_role(Role.STEWARD) and enterprise.steward_id == user.pk:
        return Channel.STEWARD
    if user.has_role(Role.DISPATCHER) and enterprise.zone_id in user.zone_ids():
        return Channel.PHONE
    return None


def current_lead(appeal: Appeal) -> Assignment | None:
    # Reads the assignments a list page prefetched (to_attr "current_assignments"), else the relation.
    assignments = getattr(appeal, "current_assignments", None)
    if assignments is None:
        assignments = appeal.assignments.all()
    return next((a for a in assignments if a.is_current and a.is_lead), None)


def _is_dispatcher(appeal: Appeal, user: User) -> bool:
    return user.has_role(Role.DISPATCHER) and appeal.zone_id in user.zone_ids()


def _in_department(lead: Assignment | None, user: User) -> bool:
    return (
        lead is not None
        and user.has_any_role(DEPARTMENT_ROLES)
        and user.unit_id is not None
        and user.unit_id == lead.department_id
    )


def _may_return(lead: Assignment) -> bool:
    if lead.signed_at is None:
        return True
    return timezone.now() < workcalendar.deadline(lead.signed_at, RETURN_WINDOW_DAYS).due


def extension_days_left(appeal: Appeal, lead: Assignment) -> int:
    """Working days the lead department may still ask for (the category's cap less those approved)."""
    return (appeal.category or AppealCategory()).extension_max_days - lead.extension_days


def _lead_department_actions(appeal: Appeal, lead: Assignment, user: User) -> set[str]:
    """What the lead department's handler or head may do, as sign/return/answer/approve/pause/extend check it."""
    found = set()
    status = appeal.status
    if status in TRANSITIONS["sign"][0]:
        found.add("sign")
    if status in TRANSITIONS["return"][0] and _may_return(lead):
        found.add("return")
    coordinated = not needs_coordination(appeal)  # after the second reopen a leader decides first
    if status in TRANSITIONS["answer"][0] and coordinated:
        found.add("answer")
    if user.has_role(Role.DEPARTMENT_HEAD) and lead.draft_answer:
        if status in TRANSITIONS["answer"][0] and coordinated and lead.drafted_by_id is not None:
            found.add("approve_answer")
        if status in STEPS["answer_rejected"]:
            found.add("reject_answer")
    if status in TRANSITIONS["pause"][0] and lead.pauses.count() < MAX_PAUSES:
        found.add("pause")
    if (
        status in STEPS["extension_request"]
        and extension_days_left(appeal, lead) >= 1
        and not Extension.objects.filter(assignment=lead, state=Extension.State.PENDING).exists()
    ):
        found.add("extend")
    return found


def _assignments(appeal: Appeal) -> list[Assignment]:
    assignments = getattr(appeal, "current_assignments", None)
    return list(assignments if assignments is not None else appeal.assignments.all())


def opinion_assignment(appeal: Appeal, user: User) -> Assignment | None:
    """The user's department's current co-handling assignment on `appeal` (as lifecycle.give_opinion finds it)."""
    if user.unit_id is None or not user.has_any_role(DEPARTMENT_ROLES):
        return None
    return next(
        (
            a
            for a in _assignments(appeal)
            if a.is_current and not a.is_lead and a.department_id == user.unit_id
        ),
        None,
    )


def _owes_opinion(appeal: Appeal, user: User) -> bool:
    mine = opinion_assignment(appeal, user)
    return mine is not None and mine.answered_at is None


def merge_masters(appeal: Appeal):
    """The appeals `appeal` may be merged into (lifecycle.merge_appeal): of its zone, being handled, no child."""
    return (
        Appeal.objects.filter(zone_id=appeal.zone_id, status__in=HANDLING, master__isnull=True)
        .exclude(pk=appeal.pk)
        .order_by("-submitted_at", "-pk")
    )


def is_supervisor_of(appeal: Appeal, user: User) -> bool:
    """A 效能督查 of the appeal's zone: decides its extensions and reviews (lifecycle._require_supervisor)."""
    return user.is_active and user.has_role(Role.SUPERVISOR) and appeal.zone_id in user.zone_ids()


def may_decide_extension(appeal: Appeal, extension: Extension, user: User) -> bool:
    return extension.state == Extension.State.PENDING and is_supervisor_of(appeal, user)


def may_decide_review(appeal: Appeal, review: Review, user: User) -> bool:
    return review.state == Review.State.PENDING and is_supervisor_of(appeal, user)


def dispute_window_open(rating: Rating) -> bool:
    return timezone.now() < workcalendar.deadline(rating.at, DISPUTE_DAYS).due


def may_dispute(rating: Rating, user: User) -> bool:
    """lifecycle.dispute_rating: the rated department, a rating of 基本满意 or lower, within 5 working
    days, once per rating."""
    return (
        rating.assignment_id is not None
        and user.is_active
        and user.has_any_role(DEPARTMENT_ROLES)
        and user.unit_id is not None
        and rating.assignment is not None
        and user.unit_id == rating.assignment.department_id
        and rating.level <= RatingLevel.FAIRLY_SATISFIED
        and dispute_window_open(rating)
        and not Review.objects.filter(rating=rating).exists()
    )


def available_actions(appeal: Appeal, user: User) -> list[str]:
    """The transitions `user` may start on `appeal` now, in page order."""
    if not user.is_authenticated or not user.is_active:
        return []

    def allowed_from(action: str) -> bool:
        return appeal.status in TRANSITIONS[action][0]

    found: set[str] = set()
    if _is_dispatcher(appeal, user):
        found.update(a for a in ("dispatch", "decline") if allowed_from(a))
        if allowed_from("merge") and merge_masters(appeal).exists():
            found.add("merge")
    lead = current_lead(appeal)
    steward = user.has_role(Role.STEWARD) and appeal.enterprise.steward_id == user.pk
    if user.has_any_role(DEPARTMENT_ROLES):
        if _in_department(lead, user):
            assert lead is not None
            found.update(_lead_department_actions(appeal, lead, user))
        if appeal.status in STEPS["opinion"] and _owes_opinion(appeal, user):
            found.add("opinion")
    # lifecycle._may_resume: the enterprise, its steward, or the lead department.
    if (
        appeal.status == Status.WAITING
        and lead is not None
        and (is_member(user, appeal.enterprise_id) or steward or _in_department(lead, user))
    ):
        found.add("resume")
    if (
        appeal.status in STEPS["coordinate"]
        and needs_coordination(appeal)
        and user.has_role(Role.LEADER)
        and appeal.zone_id in user.zone_ids()
    ):
        found.add("coordinate")
    # An answer is rated; so is a decline, while its rating time runs (rate_due is cleared by the rating).
    if appeal.status == Status.ANSWERED or (appeal.status == Status.DECLINED and appeal.rate_due is not None):
        if is_member(user, appeal.enterprise_id):
            found.add("rate")
        if steward or _is_dispatcher(appeal, user):
            found.add("rate_on_behalf")
    # 督办 (escalation.escalate_by_hand): a supervisor of the zone, while a department holds the appeal.
    if (
        user.has_role(Role.SUPERVISOR)
        and appeal.zone_id in user.zone_ids()
        and appeal.status in (Status.DISPATCHED, Status.SIGNED, Status.WAITING)
        and current_lead(appeal) is not None
    ):
        found.add("escalate")
    return [a for a in ACTIONS if a in found]


class EnterpriseVisibility:
    """Whether a page names an appeal's enterprise to `user`: a confidential appeal hides it from
    the handling department, not from the zone's staff, the enterprise's steward or its own users.

    Built once per request, so that a list asks the database once, not once per row.
    """

    def __init__(self, user: User) -> None:
        self.user = user
        self.zone_ids = set(user.zone_ids()) if user.has_any_role(ZONE_STAFF_ROLES) else set()
        self.steward = user.has_role(Role.STEWARD)
        self.member_of = set(
            EnterpriseMembership.objects.filter(user=user, is_active=True).values_list(
                "enterprise_id", flat=True
            )
        )

    def sees(self, appeal: Appeal) -> bool:
        if (
            not appeal.confidential
            or appeal.zone_id in self.zone_ids
            or appeal.enterprise_id in self.member_of
        ):
            return True
        return self.steward and appeal.enterprise.steward_id == self.user.pk


def sees_enterprise(appeal: Appeal, user: User) -> bool:
    return EnterpriseVisibility(user).sees(appeal)
