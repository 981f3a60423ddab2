"""What the exchange app puts on the home page."""

from __future__ import annotations

from guanjia.core.home import HomeSection
from guanjia.core.models import User


def sections(user: User) -> list[HomeSection]:
    return []
