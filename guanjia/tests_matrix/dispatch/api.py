"""Permission-matrix rows of the dispatch app: api (see __init__.py for the shape). OWNER: see the brief."""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import Row

ROWS: list[Row] = []


def build(cast: Any, objects: dict[str, Any]) -> None:
    pass


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {}


def bodies(world: Any) -> dict[str, Any]:
    return {}
