"""Permission-matrix rows of the investment app: the target library (see __init__.py for the shape).

Zone A's promoter reads and changes its zone's library; zone A's leader reads it; every other role
gets 403 (they have no investment scope at all).
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.investment import targets as target_services
from guanjia.investment.models import Target
from guanjia.investment.tests.helpers import make_chain, node
from guanjia.tests_matrix.matrix import (
    DELETE,
    FORBIDDEN,
    GET,
    LEADER,
    PATCH,
    POST,
    PROMOTER,
    R,
    Row,
    post_only,
)

READERS = (PROMOTER, LEADER)
KEEPERS = (PROMOTER,)
# A chain of its own, so that its node names cannot clash with another part's chains in zone A.
CHAIN_NAME = "目标库矩阵链"

ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    R("investment:targets", GET, default=FORBIDDEN, ok=READERS),
    R("investment:target", GET, "target", default=FORBIDDEN, ok=READERS),
    R("investment:target-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:target-new", POST, body="target_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:target-edit", GET, "target", default=FORBIDDEN, ok=KEEPERS),
    R("investment:target-edit", POST, "target", body="target_edit", default=FORBIDDEN, ok=KEEPERS),
    post_only("investment:target-delete", "target_spare"),
    R("investment:target-delete", POST, "target_spare", default=FORBIDDEN, ok=KEEPERS),
    R("investment:targets-import", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:targets-import", POST, body="target_import", default=FORBIDDEN, ok=KEEPERS),
    R("investment:targets-template", GET, default=FORBIDDEN, ok=KEEPERS),
    # --- API -----------------------------------------------------------------------------------------
    R("investment-target-list", GET, default=FORBIDDEN, ok=READERS),
    R("investment-target-list", POST, body="api:target", default=FORBIDDEN, ok=KEEPERS),
    R("investment-target-detail", GET, "target", default=FORBIDDEN, ok=READERS),
    R("investment-target-detail", PATCH, "target", body="api:target_patch", default=FORBIDDEN, ok=KEEPERS),
    R("investment-target-detail", DELETE, "target_spare", default=FORBIDDEN, ok=KEEPERS),
    R("investment-target-import", POST, body="api:target_import", default=FORBIDDEN, ok=KEEPERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A chain of zone A, a target covering its 电芯, and a spare target nothing refers to (deleted)."""
    chain = make_chain(cast.zone_a, cast.promoter_a, name=CHAIN_NAME)
    cell = node(chain, "电芯")
    objects["target_node"] = cell
    objects["target"] = target_services.create_target(
        zone=cast.zone_a, by=cast.promoter_a, name="矩阵目标锂电股份有限公司", nodes=[cell]
    )
    objects["target_spare"] = target_services.create_target(
        zone=cast.zone_a, by=cast.promoter_a, name="矩阵待删目标企业"
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "target": {"pk": objects["target"].pk},
        "target_spare": {"pk": objects["target_spare"].pk},
    }


def _csv(name: str) -> SimpleUploadedFile:
    content = f"企业名称,企业规模,覆盖环节\n{name},大型,{CHAIN_NAME}/电芯\n".encode()
    return SimpleUploadedFile("targets.csv", content, content_type="text/csv")


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    target, cell = objects["target"], objects["target_node"]

    def version() -> int:
        return Target.objects.get(pk=target.pk).version

    return {
        "target_new": {"name": "矩阵新增目标企业", "scale": "large", "nodes": [cell.pk]},
        "target_edit": lambda: {
            "name": target.name,
            "scale": "medium",
            "headquarters": "上海市",
            "nodes": [cell.pk],
            "version": version(),
        },
        "target_import": lambda: {"file": _csv("矩阵导入目标企业")},
        "api:target": {"name": "矩阵接口目标企业", "nodes": [cell.pk]},
        "api:target_patch": lambda: {"headquarters": "深圳市", "version": version()},
        "api:target_import": lambda: {"file": _csv("矩阵接口导入目标企业")},
    }
