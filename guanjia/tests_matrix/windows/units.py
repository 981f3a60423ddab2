"""Permission-matrix rows of the windows app: units (see __init__.py for the shape)."""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import Row

ROWS: list[Row] = []


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Adds this part's objects to the matrix world."""


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {}


def bodies(world: Any) -> dict[str, Any]:
    return {}
