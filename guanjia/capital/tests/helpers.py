"""What the listing tests share: a candidate of ent_a1 (zone A, steward_a) entered by promoter_a, and
the chains the enterprises sit on."""

from __future__ import annotations

from datetime import date, timedelta

from guanjia.capital import listings
from guanjia.capital.access import today
from guanjia.capital.models import Board, ListingCandidate, ListingStage
from guanjia.investment.models import ChainNode, IndustryChain, NodePlacement, Segment
from guanjia.testing import Cast


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def candidate_of(
    cast: Cast,
    *,
    enterprise=None,  # noqa: ANN001 - an Enterprise, ent_a1 by default
    stage: str = ListingStage.CULTIVATING,
    entered: int = 100,
    board: str = Board.STAR,
) -> ListingCandidate:
    return listings.create_candidate(
        enterprise=enterprise or cast.ent_a1,
        board=board,
        stage=stage,
        stage_entered_on=days_ago(entered),
        by=cast.promoter_a,
    )


def place(cast: Cast, enterprise, chain_name: str) -> IndustryChain:  # noqa: ANN001 - an Enterprise
    chain, _created = IndustryChain.objects.get_or_create(
        zone=enterprise.zone, name=chain_name, defaults={"created_by": cast.promoter_a}
    )
    node, _created = ChainNode.objects.get_or_create(
        chain=chain, name=f"{chain_name}环节", defaults={"segment": Segment.MIDSTREAM}
    )
    NodePlacement.objects.create(node=node, enterprise=enterprise, placed_by=cast.promoter_a)
    return chain
