"""API fuzz positives of the exchange app: programme."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.world import Positive


def positives(users: dict[str, User]) -> list[Positive]:
    return []
