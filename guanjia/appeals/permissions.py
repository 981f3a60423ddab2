"""Which transition buttons a page shows to whom.

These mirror the checks in lifecycle.py so that a page offers only what the
user may do; the lifecycle services still decide, and a page shows their
refusal when the state moved on in the meantime.
"""

from __future__ import annotations

from django.utils import timezone

from guanjia.appeals.lifecycle import RETURN_WINDOW_DAYS, TRANSITIONS
from guanjia.appeals.models import Appeal, Assignment, Channel, Status
from guanjia.core import workcalendar
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
ZONE_STAFF_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})

# The order the forms appear on the appeal page.
ACTIONS = ("dispatch", "decline", "sign", "return", "answer", "rate", "rate_on_behalf", "escalate")


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


def available_actions(appeal: Appeal, user: User) -> list[str]:
    """The transitions `user` may start on `appeal` now, in page order."""
    if not user.is_authenticated or not user.is_active:
        return []

    def allowed_from(action: str) -> bool:
        return appeal.status in TRANSITIONS[action][0]

    found: set[str] = set()
    if _is_dispatcher(appeal, user):
        found.update(a for a in ("dispatch", "decline") if allowed_from(a))
    if user.has_any_role(DEPARTMENT_ROLES):
        lead = current_lead(appeal)
        if _in_department(lead, user):
            assert lead is not None
            if allowed_from("sign"):
                found.add("sign")
            if allowed_from("return") and _may_return(lead):
                found.add("return")
            if allowed_from("answer"):
                found.add("answer")
    if appeal.status == Status.ANSWERED:
        if is_member(user, appeal.enterprise_id):
            found.add("rate")
        steward = user.has_role(Role.STEWARD) and appeal.enterprise.steward_id == user.pk
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
