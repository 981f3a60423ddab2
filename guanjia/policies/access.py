"""Who may read and who may write the policies and their deliveries (one place, used by every page and API).

- Policies are public within their coverage: every business account of a covered zone, and the
  enterprise users of its enterprises, read them (Policy.objects.visible_to).
- A policy is kept (written, and its deliveries reviewed, approved, rejected, disbursed) by the
  handlers and the head of its responsible department (承办部门).
- A steward pushes a benefit to the enterprises it serves; the keepers push to every qualifying
  enterprise at once (门户通知); an enterprise user applies or confirms for its own enterprise.
- Match lists show the enterprises a user may see (Enterprise.objects.visible_to); the keepers of a
  policy see every enterprise its coverage reaches.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.errors import NotAllowed
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Enterprise
from guanjia.policies.models import POLICY_KEEPERS, Policy, covering_units


def today() -> date:
    return timezone.localdate()  # TIME_ZONE is Asia/Shanghai: Beijing's date


def may_read(user: User) -> bool:
    """Any business account (not the 三员) with a zone or an enterprise reads the policy library."""
    return bool(
        user.is_authenticated and user.is_active and not user.is_admin_account and user.roles
    ) and bool(covering_units(user))


def keeps_some_policy(user: User) -> bool:
    """A handler or department head of a department: it may create the policies of that department."""
    return bool(
        user.is_authenticated
        and not user.is_admin_account
        and user.has_any_role(POLICY_KEEPERS)
        and user.unit_id
        and user.unit is not None
        and user.unit.kind == OrgUnit.Kind.DEPARTMENT
    )


def may_keep(user: User, policy: Policy) -> bool:
    return keeps_some_policy(user) and user.unit_id == policy.department_id


def check_keeper(by: User, policy: Policy) -> None:
    if not may_keep(by, policy):
        raise NotAllowed(_("只有该政策承办部门的工作人员可以执行此操作"))


def coverage_zones(policy: Policy) -> QuerySet[OrgUnit]:
    """The zones a policy reaches: its department's zone, or every zone of its department's city."""
    parent = policy.department.parent
    if parent is None:
        return OrgUnit.objects.none()
    if parent.kind == OrgUnit.Kind.CITY:
        return OrgUnit.objects.filter(parent=parent, kind=OrgUnit.Kind.ZONE)
    return OrgUnit.objects.filter(pk=parent.pk)


def enterprises_for(user: User, policy: Policy) -> QuerySet[Enterprise]:
    """The enterprises of the policy's coverage that `user` may see in its match lists."""
    covered = Enterprise.objects.filter(zone__in=coverage_zones(policy))
    if may_keep(user, policy):
        return covered
    return covered.filter(pk__in=Enterprise.objects.visible_to(user).values("pk"))
