"""Permission-matrix rows of the investment app: industry chains (see __init__.py for the shape).

Zone A's promoter reads and changes its zone's chains; zone A's leader reads them; every other role
gets 403 (they have no investment scope at all). The POST-only pages answer 405 to a GET, first.
"""

from __future__ import annotations

from typing import Any

from guanjia.investment import chains
from guanjia.investment.models import IndustryChain, Segment
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
# A chain of its own, so that its names cannot clash with another part's chains in zone A.
CHAIN_NAME = "链图矩阵链"

ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    R("investment:chains", GET, default=FORBIDDEN, ok=READERS),
    R("investment:chain-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:chain-new", POST, body="chain_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:chain", GET, "chain", default=FORBIDDEN, ok=READERS),
    R("investment:chain-edit", GET, "chain", default=FORBIDDEN, ok=KEEPERS),
    R("investment:chain-edit", POST, "chain", body="chain_edit", default=FORBIDDEN, ok=KEEPERS),
    R("investment:node-new", GET, "chain", default=FORBIDDEN, ok=KEEPERS),
    R("investment:node-new", POST, "chain", body="node_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:chain-node", GET, "chain_node", default=FORBIDDEN, ok=READERS),
    R("investment:node-edit", GET, "chain_node", default=FORBIDDEN, ok=KEEPERS),
    R("investment:node-edit", POST, "chain_node", body="node_edit", default=FORBIDDEN, ok=KEEPERS),
    post_only("investment:node-delete", "chain_node_spare"),
    R("investment:node-delete", POST, "chain_node_spare", default=FORBIDDEN, ok=KEEPERS),
    post_only("investment:node-place", "chain_node"),
    R("investment:node-place", POST, "chain_node", body="node_place", default=FORBIDDEN, ok=KEEPERS),
    post_only("investment:placement-leader", "placement"),
    R(
        "investment:placement-leader",
        POST,
        "placement",
        body="placement_leader",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    post_only("investment:node-unplace", "placement"),
    R("investment:node-unplace", POST, "placement", default=FORBIDDEN, ok=KEEPERS),
    # --- API -----------------------------------------------------------------------------------------
    R("investment-chain-list", GET, default=FORBIDDEN, ok=READERS),
    R("investment-chain-list", POST, body="api:chain", default=FORBIDDEN, ok=KEEPERS),
    R("investment-chain-detail", GET, "chain", default=FORBIDDEN, ok=READERS),
    R("investment-chain-detail", PATCH, "chain", body="api:chain_patch", default=FORBIDDEN, ok=KEEPERS),
    R("investment-chain-map", GET, "chain", default=FORBIDDEN, ok=READERS),
    R("investment-chain-node-list", POST, body="api:chain_node", default=FORBIDDEN, ok=KEEPERS),
    R("investment-chain-node-detail", GET, "chain_node", default=FORBIDDEN, ok=READERS),
    R(
        "investment-chain-node-detail",
        PATCH,
        "chain_node",
        body="api:chain_node_patch",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    R("investment-chain-node-detail", DELETE, "chain_node_spare", default=FORBIDDEN, ok=KEEPERS),
    R("investment-placement-list", GET, default=FORBIDDEN, ok=READERS),
    R("investment-placement-list", POST, body="api:placement", default=FORBIDDEN, ok=KEEPERS),
    R(
        "investment-placement-detail",
        PATCH,
        "placement",
        body="api:placement_patch",
        default=FORBIDDEN,
        ok=KEEPERS,
    ),
    R("investment-placement-detail", DELETE, "placement", default=FORBIDDEN, ok=KEEPERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A chain of zone A: 电芯 with ent_a1 placed on it, and a spare node nothing hangs on (removed)."""
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name=CHAIN_NAME, by=by)
    cell = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=by)
    objects["chain"] = chain
    objects["chain_node"] = cell
    objects["chain_node_spare"] = chains.add_node(chain, name="回收", segment=Segment.DOWNSTREAM, by=by)
    objects["placement"] = chains.place_enterprise(cell, cast.ent_a1, by=by)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "chain": {"pk": objects["chain"].pk},
        "chain_node": {"pk": objects["chain_node"].pk},
        "chain_node_spare": {"pk": objects["chain_node_spare"].pk},
        "placement": {"pk": objects["placement"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    cast = world.cast
    chain, cell = objects["chain"], objects["chain_node"]

    def version() -> int:
        return IndustryChain.objects.get(pk=chain.pk).version

    return {
        "chain_new": {"zone": cast.zone_a.pk, "name": "矩阵新建产业链", "description": ""},
        "chain_edit": lambda: {"name": CHAIN_NAME, "description": "矩阵修改", "version": version()},
        "node_new": {"name": "正极材料", "segment": Segment.UPSTREAM},
        "node_edit": lambda: {
            "name": "电芯",
            "segment": Segment.MIDSTREAM,
            "position": 9,
            "version": version(),
        },
        "node_place": {"enterprise": cast.ent_a2.pk, "is_leader": "on"},
        "placement_leader": {"is_leader": "on"},
        "api:chain": {"name": "矩阵接口产业链"},
        "api:chain_patch": lambda: {"description": "矩阵接口修改", "version": version()},
        "api:chain_node": {"chain": chain.pk, "name": "负极材料", "segment": Segment.UPSTREAM},
        "api:chain_node_patch": lambda: {"position": 7, "chain_version": version()},
        "api:placement": {"node": cell.pk, "enterprise": cast.ent_a2.pk},
        "api:placement_patch": {"is_leader": True},
    }
