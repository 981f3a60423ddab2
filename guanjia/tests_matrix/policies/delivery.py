"""Permission-matrix rows of the policies app: delivery (see __init__.py for the shape)."""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import Row

ROWS: list[Row] = []


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Adds this part's named objects (zone A) to the world's objects."""


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {}


def bodies(world: Any) -> dict[str, Any]:
    return {}
