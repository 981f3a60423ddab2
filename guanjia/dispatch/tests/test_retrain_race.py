"""Two retrainings of one zone at once (the nightly run and a dispatcher's button): both decide to promote,
the partial unique constraint one_active_routing_model lets one in, and the other is recorded as a run
that was not promoted. The zone never has two active models, and never none."""

from __future__ import annotations

import threading

import pytest

from guanjia.core.models import AuditRecord
from guanjia.dispatch import learning, routing
from guanjia.dispatch.models import RoutingModel
from guanjia.dispatch.tests.routing_helpers import build_history
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_two_retrains_at_once_leave_exactly_one_active_model(monkeypatch):
    cast = build_cast()
    build_history(cast, count=100)
    routing.forget_cached_models()
    # Both runs have read the active model (none yet) and decided to promote before either switches:
    # they meet here, just before the switch, so the race is the same on every run and both databases.
    both_decided = threading.Barrier(2, timeout=120)
    real_dump = learning.dump

    def dump_when_both_decided(pipeline):
        both_decided.wait()
        return real_dump(pipeline)

    monkeypatch.setattr(learning, "dump", dump_when_both_decided)

    results = run_concurrently(
        lambda: routing.retrain(cast.zone_a, by=cast.dispatcher_a),
        lambda: routing.retrain(cast.zone_a),
        timeout=300,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    runs = RoutingModel.objects.filter(zone=cast.zone_a)
    assert runs.count() == 2
    [active] = runs.filter(is_active=True)
    [beaten] = runs.filter(is_active=False)
    assert bytes(active.blob) and bytes(beaten.blob) == b""
    assert beaten.note.endswith("同一时间另一次训练已启用新模型，本次未启用")
    assert {r.pk for r in results} == {active.pk, beaten.pk}
    assert AuditRecord.objects.filter(action="routing.retrain").count() == 2
    routing.forget_cached_models()
