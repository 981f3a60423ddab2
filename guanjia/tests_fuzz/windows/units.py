"""API fuzz positives of the windows app: units."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.world import Positive


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    return []
