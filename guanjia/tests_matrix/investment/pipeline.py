"""Permission-matrix rows of the investment app: pipeline (see __init__.py for the shape).

The investment home, the pipeline page, its exports and the pipeline API: zone A's promoter and
leader read them; every other role is refused (403), the anonymous visitor sent to log in (pages)
or refused (API).
"""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import FORBIDDEN, GET, LEADER, PROMOTER, R, Row

READERS = (PROMOTER, LEADER)  # investment.models.INVESTMENT_READERS

ROWS: list[Row] = [
    R("investment:index", GET, default=FORBIDDEN, ok=READERS),
    R("investment:pipeline", GET, body="q:pipeline", default=FORBIDDEN, ok=READERS),
    R("investment:pipeline-export", GET, body="q:pipeline", default=FORBIDDEN, ok=READERS),
    R("investment:projects-export", GET, body="q:pipeline_projects", default=FORBIDDEN, ok=READERS),
    R("investment-pipeline-funnel", GET, body="q:pipeline", default=FORBIDDEN, ok=READERS),
    R("investment-pipeline-time-in-stage", GET, body="q:pipeline", default=FORBIDDEN, ok=READERS),
    R("investment-pipeline-investment", GET, body="q:pipeline_investment", default=FORBIDDEN, ok=READERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Add this part's named objects (zone A) to the world: none; it reads what the others built."""


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {}


def bodies(world: Any) -> dict[str, Any]:
    return {
        "q:pipeline": {"year": 2026},
        "q:pipeline_investment": {"year": 2026, "by": "quarter"},
        "q:pipeline_projects": {"stage": "signed"},
    }
