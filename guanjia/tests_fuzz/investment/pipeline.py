"""API fuzz positive cases of the investment app: pipeline (read-only figures: no data to write)."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.investment.access import today
from guanjia.tests_fuzz.world import Positive


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    year = today().year
    return [
        Positive("GET /api/investment/pipeline/funnel/", "promoter", query={"year": year}),
        Positive("GET /api/investment/pipeline/time-in-stage/", "leader", query={"year": year}),
        Positive(
            "GET /api/investment/pipeline/investment/", "promoter", query={"year": year, "by": "quarter"}
        ),
    ]
