"""The dispatch app's positive cases for the API fuzz test, one module per part (shape: tests_fuzz/knowledge)."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.dispatch import api
from guanjia.tests_fuzz.world import Positive

PARTS = (api,)


def positives(users: dict[str, User]) -> list[Positive]:
    return [case for part in PARTS for case in part.positives(users)]
