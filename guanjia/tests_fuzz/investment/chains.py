"""API fuzz positive cases of the investment app: chains."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.enterprises.models import Enterprise
from guanjia.investment import chains
from guanjia.investment.access import zones_of
from guanjia.investment.models import Segment
from guanjia.tests_fuzz.world import Positive


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts).

    The cases run in this order: the node PATCH carries the chain version as it is before the node
    POST bumps it, and the chain PATCH works on a chain of its own.
    """
    promoter = users["promoter"]
    zone = zones_of(promoter).first()
    assert zone is not None, promoter
    first, second = Enterprise.objects.filter(zone=zone).order_by("pk")[:2]
    chain = chains.create_chain(zone=zone, name="模糊测试产业链", by=promoter)
    cell = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=promoter)
    spare = chains.add_node(chain, name="回收", segment=Segment.DOWNSTREAM, by=promoter)
    placement = chains.place_enterprise(cell, first, by=promoter, is_leader=True)
    renamed = chains.create_chain(zone=zone, name="模糊测试改名产业链", by=promoter)
    return [
        Positive("GET /api/investment/chains/", "leader"),
        Positive(
            "POST /api/investment/chains/", "promoter", body={"name": "模糊测试新建产业链", "zone": zone.pk}
        ),
        Positive("GET /api/investment/chains/{id}/", "leader", {"id": chain.pk}),
        Positive(
            "PATCH /api/investment/chains/{id}/",
            "promoter",
            {"id": renamed.pk},
            body={"name": "模糊测试已改名产业链", "version": renamed.version},
        ),
        Positive("GET /api/investment/chains/{id}/map/", "leader", {"id": chain.pk}),
        Positive("GET /api/investment/chain-nodes/{id}/", "leader", {"id": cell.pk}),
        Positive(
            "PATCH /api/investment/chain-nodes/{id}/",
            "promoter",
            {"id": cell.pk},
            body={"description": "电芯制造", "position": 3, "chain_version": chain.version},
        ),
        Positive(
            "POST /api/investment/chain-nodes/",
            "promoter",
            body={"chain": chain.pk, "name": "正极材料", "segment": Segment.UPSTREAM},
        ),
        Positive("DELETE /api/investment/chain-nodes/{id}/", "promoter", {"id": spare.pk}),
        Positive("GET /api/investment/placements/", "leader", query={"node": cell.pk}),
        Positive(
            "POST /api/investment/placements/",
            "promoter",
            body={"node": cell.pk, "enterprise": second.pk, "is_leader": False},
        ),
        Positive(
            "PATCH /api/investment/placements/{id}/",
            "promoter",
            {"id": placement.pk},
            body={"is_leader": False},
        ),
        Positive("DELETE /api/investment/placements/{id}/", "promoter", {"id": placement.pk}),
    ]
