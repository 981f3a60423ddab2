"""Demo data of the exchange app (a demo_built hook)."""

from __future__ import annotations

from typing import Any


def add_demo_exchange(sender: Any, **kwargs: Any) -> None:
    """demo_built hook: pairings, secondments, notes and practices, in the demo's transaction."""
