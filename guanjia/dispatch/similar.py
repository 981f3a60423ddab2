"""Similar appeals (共性问题 candidates): MinHash LSH bands in the AppealBand table, kept up to date as
appeals arrive; candidates re-scored on their text.

OWNER: helper B. Interface fixed by the lead; bodies to be written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from guanjia.appeals.models import Appeal


@dataclass(frozen=True)
class SimilarAppeal:
    appeal: Appeal
    score: float  # 0..1, higher is more similar
    same_enterprise: bool


def remember(appeal: Appeal) -> None:
    """Write (or rewrite) the appeal's bands; called when it is submitted (receivers.py)."""
    return None  # to be written by the owner


def forget(appeal_id: int) -> None:
    return None  # to be written by the owner


def similar_to(appeal: Appeal, *, within: QuerySet[Appeal], limit: int = 5) -> list[SimilarAppeal]:
    """The open and recent appeals of its zone most similar to `appeal`, among `within` (the asking
    user's visible_to), best first; `appeal` itself excluded."""
    raise NotImplementedError


def similar_to_text(
    *,
    zone_id: int,
    title: str,
    body: str,
    within: QuerySet[Appeal],
    enterprise_id: int | None = None,
    limit: int = 5,
) -> list[SimilarAppeal]:
    """The same for a text being written (the intake form)."""
    raise NotImplementedError


def rebuild(zone_id: int | None = None) -> int:
    """Rewrite the bands of every appeal (of one zone); returns how many appeals were indexed."""
    raise NotImplementedError
