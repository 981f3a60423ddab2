"""Routing suggestions of a zone: from its active model, or from the keyword rules while it has too
little history; training runs with promotion on a held-out slice; the adoption rate.

OWNER: helper A2. Interface fixed by the lead; bodies to be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from guanjia.appeals.models import Appeal, AppealCategory
from guanjia.core.models import OrgUnit, User
from guanjia.dispatch.models import RoutingModel, Suggestion


@dataclass(frozen=True)
class Route:
    """One suggestion: dispatch to `department` as lead, under `category`."""

    rank: int  # 1, 2, 3
    category: AppealCategory | None
    department: OrgUnit
    confidence: float  # 0..1
    words: tuple[str, ...]


@dataclass(frozen=True)
class Suggestions:
    source: str  # Source.MODEL or Source.RULES
    model: RoutingModel | None
    routes: list[Route]


@dataclass(frozen=True)
class Adoption:
    """How often the zone's dispatchers took the suggestions over a period."""

    dispatched: int  # dispatch rounds that had suggestions
    first: int  # ... where the first suggestion's department was chosen
    top3: int  # ... where one of the three was chosen
    one_click: int  # ... dispatched with the one-click button

    @property
    def first_rate(self) -> float | None:
        return self.first / self.dispatched if self.dispatched else None

    @property
    def top3_rate(self) -> float | None:
        return self.top3 / self.dispatched if self.dispatched else None


def suggest(appeal: Appeal) -> Suggestions:
    """The suggestions for an appeal waiting for dispatch (submitted or returned); recorded once per
    dispatch round in a Suggestion row, so its adoption can be counted."""
    raise NotImplementedError


def suggest_text(zone: OrgUnit, title: str, body: str) -> Suggestions:
    """The suggestions for a text that is not (yet) an appeal; nothing is recorded."""
    raise NotImplementedError


def take(appeal: Appeal, rank: int, *, by: User) -> Route:
    """一键交办: dispatch `appeal` as its suggestion `rank` says (lifecycle.dispatch_appeal checks the
    dispatcher's right and the state)."""
    raise NotImplementedError


def record_dispatch(appeal: Appeal, department_id: int, at: datetime) -> Suggestion | None:
    """Called on every dispatch (receivers.py): marks the round's Suggestion with the rank taken."""
    return None  # to be written by the owner


def retrain(zone: OrgUnit, *, by: User | None = None, now: datetime | None = None) -> RoutingModel:
    """Train on the zone's history; promote only if it scores no worse on the held-out slice."""
    raise NotImplementedError


def adoption(zone_ids: list[int], since: datetime, until: datetime | None = None) -> Adoption:
    raise NotImplementedError
