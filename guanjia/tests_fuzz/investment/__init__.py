"""The investment app's positive cases for the API fuzz test, one module per part of the app.

Each part module defines positives(users) -> list[Positive]; it runs after the demo area is built
(with the investment demo data) and may write what its cases need through the services.
"""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.tests_fuzz.investment import chains, financing, leads, pipeline, projects, targets
from guanjia.tests_fuzz.world import Positive

PARTS = (chains, targets, leads, projects, financing, pipeline)


def positives(users: dict[str, User]) -> list[Positive]:
    return [case for part in PARTS for case in part.positives(users)]
