"""Who may use smart dispatch (one place, used by every page and API of the app).

- The suggestions and the similar appeals of an appeal waiting for dispatch are the dispatcher's
  desk: the dispatchers of the appeal's zone see them and act on them (一键交办, 合并); the zone's
  supervisors and leaders may look at them.
- At intake, whoever may submit an appeal sees the similar appeals that are in their own scope.
- The routing page (model, scores, adoption) is read by the zone's dispatchers, supervisors and
  leaders; its dispatchers retrain the model and edit the keyword rules, and so does the system admin.
- Search is for every business account; each kind's results are cut to the user's own scope by the
  kind's visible_to. The 三员 (admin accounts) see no business data, so they get no search.
"""

from __future__ import annotations

from guanjia.appeals.models import Appeal, Status
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role, is_business_account
from guanjia.dispatch.models import ROUTING_KEEPERS, ROUTING_READERS

WAITING = (Status.SUBMITTED, Status.RETURNED)


def may_search(user: User) -> bool:
    return is_business_account(user)


def reads_desk(user: User, appeal: Appeal) -> bool:
    """Sees an appeal's suggestions and similar appeals (the caller has checked it sees the appeal)."""
    return (
        is_business_account(user) and user.has_any_role(ROUTING_READERS) and appeal.zone_id in user.zone_ids()
    )


def acts_on_desk(user: User, appeal: Appeal) -> bool:
    """Dispatches by a suggestion and merges: a dispatcher of the appeal's zone."""
    return is_business_account(user) and user.has_role(Role.DISPATCHER) and appeal.zone_id in user.zone_ids()


def routing_zone_ids(user: User) -> list[int]:
    """The zones whose routing page `user` reads (empty: none); the system admin reads every zone's
    (a model's scores and the keyword rules are settings, not enterprises' data)."""
    if user.is_authenticated and user.is_active and user.has_role(Role.SYSADMIN):
        return list(OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE).values_list("pk", flat=True))
    if not is_business_account(user) or not user.has_any_role(ROUTING_READERS):
        return []
    return list(user.zone_ids())


def keeps_routing(user: User, zone_id: int | None = None) -> bool:
    """Retrains a zone's model and edits the keyword rules: its dispatchers, or the system admin."""
    if user.is_authenticated and user.is_active and user.has_role(Role.SYSADMIN):
        return True
    if not is_business_account(user) or not user.has_any_role(ROUTING_KEEPERS):
        return False
    return zone_id is None or zone_id in user.zone_ids()
