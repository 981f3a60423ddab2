"""The investment app's part of the permission matrix, one module per part of the app.

Each part module defines:
  ROWS                      its rows (matrix.R), appended to matrix.MATRIX
  build(cast, objects)      adds its named objects (zone A) to the world's objects; parts are built
                            in PARTS order, so a later part may use an earlier one's objects
  kwargs(world)             {target name: URL kwargs} for its rows' targets
  bodies(world)             {body name: dict, or a callable returning one} for its rows' bodies
"""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.investment import chains, financing, leads, pipeline, projects, targets
from guanjia.tests_matrix.matrix import Row

PARTS = (chains, targets, leads, projects, financing, pipeline)

ROWS: list[Row] = [row for part in PARTS for row in part.ROWS]


def build(cast: Any, objects: dict[str, Any]) -> None:
    for part in PARTS:
        part.build(cast, objects)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {name: value for part in PARTS for name, value in part.kwargs(world).items()}


def bodies(world: Any) -> dict[str, Any]:
    return {name: value for part in PARTS for name, value in part.bodies(world).items()}
