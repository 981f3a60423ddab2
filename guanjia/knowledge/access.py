"""Who may read and who may write the knowledge base (one place, used by every page and API).

- Entry.objects.visible_to says who reads what: published entries to everyone of the zone and to the
  users of its enterprises; every entry of a department to its keepers; every entry of a zone to its
  dispatchers, supervisors and leaders.
- An entry is kept (written, published, archived) by the handlers and the head of its department.
- An answered 咨询 appeal becomes an entry by a keeper of a department that answered it as lead
  department (its Assignment), or by a dispatcher of the appeal's zone, for that department.
- Only enterprise users give feedback ("did this solve your question?").
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanjia.appeals.models import Appeal, Assignment, Handling, Status
from guanjia.core.errors import NotAllowed
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.knowledge.models import KNOWLEDGE_KEEPERS, Entry


def keeps_some_entry(user: User) -> bool:
    """A handler or department head of a department: it may write the entries of that department."""
    return bool(
        is_business_account(user)
        and user.has_any_role(KNOWLEDGE_KEEPERS)
        and user.unit is not None
        and user.unit.kind == OrgUnit.Kind.DEPARTMENT
    )


def may_keep(user: User, entry: Entry) -> bool:
    return keeps_some_entry(user) and user.unit_id == entry.department_id


def check_keeper(by: User, entry: Entry) -> None:
    if not may_keep(by, entry):
        raise NotAllowed(_("只有该条目维护部门的工作人员可以执行此操作"))


def answered_consultation(appeal: Appeal) -> bool:
    """An appeal that may become an entry: handled as 咨询, and answered (or closed after an answer)."""
    return (
        appeal.handling == Handling.CONSULT
        and appeal.status in (Status.ANSWERED, Status.CLOSED)
        and bool(appeal.answered_at)
    )


def answering_departments(appeal: Appeal) -> list[int]:
    """The departments that answered `appeal` as lead department, latest first."""
    return list(
        Assignment.objects.filter(appeal=appeal, is_lead=True, answered_at__isnull=False)
        .order_by("-answered_at")
        .values_list("department_id", flat=True)
    )


def may_turn_into_entry(user: User, appeal: Appeal) -> bool:
    """A keeper of a department that answered the appeal, or a dispatcher of its zone."""
    if not is_business_account(user) or not answered_consultation(appeal):
        return False
    if keeps_some_entry(user) and user.unit_id in answering_departments(appeal):
        return True
    return user.has_role(Role.DISPATCHER) and appeal.zone_id in user.zone_ids()
