"""The talent app's positive cases for the API fuzz test (shape: tests_fuzz/windows)."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.talent import green_channel
from guanjia.tests_fuzz.world import Positive

PARTS = (green_channel,)


def positives(users: dict[str, User]) -> list[Positive]:
    return [case for part in PARTS for case in part.positives(users)]
