"""The dispatch app's part of the permission matrix, one module per part (shape: tests_matrix/investment)."""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.dispatch import api, desk, search
from guanjia.tests_matrix.matrix import Row

PARTS = (desk, search, api)

ROWS: list[Row] = [row for part in PARTS for row in part.ROWS]


def build(cast: Any, objects: dict[str, Any]) -> None:
    for part in PARTS:
        part.build(cast, objects)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {name: value for part in PARTS for name, value in part.kwargs(world).items()}


def bodies(world: Any) -> dict[str, Any]:
    return {name: value for part in PARTS for name, value in part.bodies(world).items()}
