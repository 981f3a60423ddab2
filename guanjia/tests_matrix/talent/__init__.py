"""The talent app's part of the permission matrix (shape: tests_matrix/windows)."""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import Row
from guanjia.tests_matrix.talent import green_channel

PARTS = (green_channel,)

ROWS: list[Row] = [row for part in PARTS for row in part.ROWS]


def build(cast: Any, objects: dict[str, Any]) -> None:
    for part in PARTS:
        part.build(cast, objects)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {name: value for part in PARTS for name, value in part.kwargs(world).items()}


def bodies(world: Any) -> dict[str, Any]:
    return {name: value for part in PARTS for name, value in part.bodies(world).items()}
