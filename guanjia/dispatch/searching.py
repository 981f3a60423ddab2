"""Full-text search over appeals, answers and the knowledge base, through core.search, each kind in
the asking user's scope.

OWNER: helper C. Interface fixed by the lead; bodies to be written.
"""

from __future__ import annotations

from dataclasses import dataclass

from guanjia.appeals.models import Appeal, Assignment
from guanjia.core.models import User

APPEAL_KIND = "appeals.appeal"
ANSWER_KIND = "appeals.answer"


def index_appeal(appeal: Appeal) -> None:
    return None  # to be written by the owner


def index_answer(assignment: Assignment) -> None:
    return None  # to be written by the owner


@dataclass(frozen=True)
class Found:
    kind: str  # "appeal", "answer", "knowledge"
    url: str
    title_html: str
    snippet_html: str
    score: float
    object_id: int


def find(user: User, query: str, *, kind: str | None = None, limit: int = 20) -> list[Found]:
    raise NotImplementedError
