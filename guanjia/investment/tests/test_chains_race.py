"""Concurrent writes on a chain: two moves that would together close a cycle, the same enterprise placed
twice at once, and a node removed while an enterprise is being placed on it."""

from __future__ import annotations

import pytest

from guanjia.core.errors import ServiceError
from guanjia.investment import chains
from guanjia.investment.models import ChainNode, NodePlacement, Segment
from guanjia.testing import build_cast, run_concurrently


def _has_cycle(chain) -> bool:
    parents = dict(ChainNode.objects.filter(chain=chain).values_list("pk", "parent_id"))
    for start in parents:
        seen: set[int] = set()
        current: int | None = start
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = parents.get(current)
    return False


@pytest.mark.django_db(transaction=True)
def test_two_moves_that_would_close_a_cycle_do_not_both_succeed():
    cast = build_cast()
    by = cast.promoter_a
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=by)
    a = chains.add_node(chain, name="材料", segment=Segment.UPSTREAM, by=by)
    b = chains.add_node(chain, name="电芯", segment=Segment.UPSTREAM, by=by)

    def move(node, under):
        # Both read before either moves: each sees the tree as the other had not yet moved.
        read = ChainNode.objects.select_related("chain").get(pk=node.pk)
        parent = ChainNode.objects.get(pk=under.pk)
        return lambda: chains.update_node(read, parent=parent, by=by)

    results = run_concurrently(move(a, b), move(b, a))
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], ServiceError)  # a Conflict, or the cycle refused after the other's commit
    assert not _has_cycle(chain)


@pytest.mark.django_db(transaction=True)
def test_the_same_enterprise_placed_twice_at_once_is_placed_once():
    cast = build_cast()
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)

    read = ChainNode.objects.select_related("chain").get(pk=node.pk)

    def place():
        return chains.place_enterprise(read, cast.ent_a1, by=cast.promoter_a)

    results = run_concurrently(place, place, place)
    assert sum(isinstance(r, NodePlacement) for r in results) == 1, results
    assert all(isinstance(r, NodePlacement | ServiceError) for r in results), results
    assert NodePlacement.objects.filter(node=node).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_node_removed_while_an_enterprise_is_placed_loses_nothing_silently():
    cast = build_cast()
    chain = chains.create_chain(zone=cast.zone_a, name="新能源", by=cast.promoter_a)
    node = chains.add_node(chain, name="电芯", segment=Segment.MIDSTREAM, by=cast.promoter_a)

    for_placing = ChainNode.objects.select_related("chain").get(pk=node.pk)
    for_removing = ChainNode.objects.select_related("chain").get(pk=node.pk)

    def place():
        return chains.place_enterprise(for_placing, cast.ent_a1, by=cast.promoter_a)

    def remove():
        return chains.remove_node(for_removing, by=cast.promoter_a)

    placed, removed = run_concurrently(place, remove)
    # Either the placement came first and the removal was refused, or the removal came first and the
    # placement failed: never a placement reported as done and then deleted with its node.
    if isinstance(placed, NodePlacement):
        assert isinstance(removed, ServiceError), removed
        assert NodePlacement.objects.filter(pk=placed.pk).exists()
    else:
        assert isinstance(placed, ServiceError), placed
        assert removed is None and not ChainNode.objects.filter(pk=node.pk).exists()
