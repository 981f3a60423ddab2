"""Demo data of the policies app (a demo_built hook)."""

from __future__ import annotations

from typing import Any


def add_demo_policies(sender: Any, **kwargs: Any) -> None:
    """demo_built hook: the policy library, matched benefits and deliveries, in the demo's transaction."""
